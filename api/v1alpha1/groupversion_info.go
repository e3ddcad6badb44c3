// Package v1alpha1 contains the dr.sdrs.io API: ProtectionGroup, which
// declares the active site of a Huawei Cloud SDRS protection group, and
// ProviderConfig, which says how to reach SDRS and with which credentials.
// +kubebuilder:object:generate=true
// +groupName=dr.sdrs.io
package v1alpha1

import (
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/scheme"
)

var (
	// GroupVersion is the group and version used to register these objects.
	GroupVersion = schema.GroupVersion{Group: "dr.sdrs.io", Version: "v1alpha1"}

	// SchemeBuilder adds the Go types to the GroupVersionKind scheme.
	SchemeBuilder = &scheme.Builder{GroupVersion: GroupVersion} //nolint:staticcheck // SA1019: the kubebuilder layout; the types register with SchemeBuilder.Register in init

	// AddToScheme adds the types in this group-version to the given scheme.
	AddToScheme = SchemeBuilder.AddToScheme
)
