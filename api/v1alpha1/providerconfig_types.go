package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// SecretReference names a Secret in a namespace. ProviderConfig is
// cluster-scoped, so the namespace is always explicit.
type SecretReference struct {
	// Namespace of the Secret.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	Namespace string `json:"namespace"`

	// Name of the Secret. It holds the keys accessKey and secretKey, and
	// optionally securityToken for temporary credentials.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$`
	Name string `json:"name"`
}

// RateLimit bounds the cloud API calls the operator makes through one
// ProviderConfig, across every ProtectionGroup that uses it.
type RateLimit struct {
	// CallsPerSecond is the sustained rate of SDRS and ECS API calls.
	// +optional
	// +kubebuilder:default=20
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=1000
	CallsPerSecond int32 `json:"callsPerSecond,omitempty"`

	// Burst is how many calls may go out at once above the sustained rate.
	// +optional
	// +kubebuilder:default=40
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=5000
	Burst int32 `json:"burst,omitempty"`
}

// ProviderConfigSpec says how to reach SDRS and ECS and with which credentials.
// +kubebuilder:validation:XValidation:rule="!has(self.insecureSkipTLSVerify) || !self.insecureSkipTLSVerify || !has(self.caBundle)",message="set either caBundle or insecureSkipTLSVerify, not both"
// +kubebuilder:validation:XValidation:rule="!has(self.endpoint) || !self.endpoint.startsWith('http://') || (has(self.allowInsecureHTTP) && self.allowInsecureHTTP)",message="endpoint is plain http://, which sends request signatures and session tokens in clear text and lets anyone on the path forge SDRS's answers: use https://, or set allowInsecureHTTP: true (only for a local emulator or tests)",fieldPath=".endpoint"
// +kubebuilder:validation:XValidation:rule="!has(self.ecsEndpoint) || !self.ecsEndpoint.startsWith('http://') || (has(self.allowInsecureHTTP) && self.allowInsecureHTTP)",message="ecsEndpoint is plain http://, which sends request signatures and session tokens in clear text and lets anyone on the path forge ECS's answers: use https://, or set allowInsecureHTTP: true (only for a local emulator or tests)",fieldPath=".ecsEndpoint"
type ProviderConfigSpec struct {
	// Region is the Huawei Cloud region ID, for example cn-north-4.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=64
	// +kubebuilder:validation:Pattern=`^[a-z0-9]+(-[a-z0-9]+)*$`
	Region string `json:"region"`

	// ProjectID is the ID of the project in that region that owns the
	// protection groups.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=64
	// +kubebuilder:validation:Pattern=`^[A-Za-z0-9_-]+$`
	ProjectID string `json:"projectID"`

	// Endpoint overrides the SDRS endpoint, for example a private endpoint
	// or the local emulator. Empty means the SDK's regional endpoint.
	// +optional
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:XValidation:rule=`self.matches(r'^https?://[^\s/?#]+(/[^\s]*)?$')`,message="endpoint must be an http:// or https:// URL with a host and no spaces, for example https://sdrs.cn-north-4.myhuaweicloud.com"
	Endpoint string `json:"endpoint,omitempty"`

	// ECSEndpoint overrides the ECS endpoint used to stop and start servers.
	// Empty means the SDK's regional endpoint.
	// +optional
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:XValidation:rule=`self.matches(r'^https?://[^\s/?#]+(/[^\s]*)?$')`,message="ecsEndpoint must be an http:// or https:// URL with a host and no spaces, for example https://ecs.cn-north-4.myhuaweicloud.com"
	ECSEndpoint string `json:"ecsEndpoint,omitempty"`

	// CredentialsSecretRef names the Secret with the AK/SK.
	// +required
	CredentialsSecretRef SecretReference `json:"credentialsSecretRef"`

	// CABundle is a PEM bundle trusted for HTTPS endpoints, for private
	// endpoints signed by a private CA.
	// +optional
	CABundle []byte `json:"caBundle,omitempty"`

	// InsecureSkipTLSVerify turns off certificate verification. Only for
	// tests; the operator logs a warning on every connection it builds.
	// +optional
	InsecureSkipTLSVerify bool `json:"insecureSkipTLSVerify,omitempty"`

	// AllowInsecureHTTP lets endpoint and ecsEndpoint be plain http://
	// URLs. Without it they must be https://: over plain HTTP the request
	// signatures and session tokens cross the network in clear text, and
	// anyone on the path can forge SDRS's answers (a job that "succeeded").
	// Only for a local emulator or tests; the operator logs a warning when
	// it builds a client that uses it.
	// +optional
	AllowInsecureHTTP bool `json:"allowInsecureHTTP,omitempty"`

	// NamespaceSelector says which namespaces' ProtectionGroups may use
	// this ProviderConfig, by the namespaces' labels. Its credentials can
	// fail over any group of the project, and anyone who may edit a
	// ProtectionGroup can name any ProviderConfig, so a ProtectionGroup in
	// a namespace it does not select is Stalled (NamespaceNotAllowed) and
	// nothing is sent to SDRS for it. Unset, or {}, selects every
	// namespace, which keeps existing setups working: production
	// ProviderConfigs should set it.
	// +optional
	NamespaceSelector *metav1.LabelSelector `json:"namespaceSelector,omitempty"`

	// RateLimit bounds the calls made through this ProviderConfig.
	// +optional
	// +kubebuilder:default={}
	RateLimit RateLimit `json:"rateLimit,omitempty"`

	// SyncInterval is how often an idle ProtectionGroup is read from SDRS
	// to notice changes made outside the operator: a Go duration of at
	// least 1s, such as 30s, 5m or 1h.
	// +optional
	// +kubebuilder:default="5m"
	// +kubebuilder:validation:XValidation:rule="self.matches('^([0-9]+([.][0-9]+)?(ns|us|ms|s|m|h))+$') && duration(self) >= duration('1s')",message="syncInterval must be a duration of at least 1s written like 30s, 5m or 1h30m (units ns, us, ms, s, m, h)"
	SyncInterval metav1.Duration `json:"syncInterval,omitempty"`
}

// ProviderConfigStatus reports whether the configuration works.
type ProviderConfigStatus struct {
	// ObservedGeneration is the generation last acted on.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// Conditions: Ready says whether the credentials were accepted by SDRS.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Cluster,shortName=sdrspc,categories=sdrs
// +kubebuilder:printcolumn:name="REGION",type=string,JSONPath=`.spec.region`
// +kubebuilder:printcolumn:name="ENDPOINT",type=string,JSONPath=`.spec.endpoint`
// +kubebuilder:printcolumn:name="READY",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="REASON",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].reason`
// +kubebuilder:printcolumn:name="AGE",type=date,JSONPath=`.metadata.creationTimestamp`

// ProviderConfig tells the operator how to reach Huawei Cloud SDRS: region,
// project, optional endpoints and the Secret with the AK/SK.
type ProviderConfig struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +required
	Spec ProviderConfigSpec `json:"spec"`
	// +optional
	Status ProviderConfigStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// ProviderConfigList contains a list of ProviderConfig.
type ProviderConfigList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ProviderConfig `json:"items"`
}

func init() {
	SchemeBuilder.Register(&ProviderConfig{}, &ProviderConfigList{})
}
