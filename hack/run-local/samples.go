package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

const (
	// groupIDPlaceholder in config/samples is replaced with a demo group's ID.
	groupIDPlaceholder = "REPLACE_WITH_SDRS_GROUP_ID"
	// samplesNamespace is where the sample ProtectionGroups and DRPlans go.
	samplesNamespace = "default"
	apiGroupVersion  = "dr.sdrs.io/v1alpha1"
)

// samples are the objects of config/samples, in kustomization order.
type samples struct {
	providerConfig   *unstructured.Unstructured
	protectionGroups []*unstructured.Unstructured
	// plans select the groups by label, so they go in the groups' namespace.
	plans []*unstructured.Unstructured
}

// loadSamples reads the files that config/samples/kustomization.yaml lists.
// The samples use no kustomize transformations, so reading the files is
// enough and run-local needs neither kubectl nor kustomize.
func loadSamples(dir string) (*samples, error) {
	var k struct {
		Resources []string `json:"resources"`
	}
	b, err := os.ReadFile(filepath.Join(dir, "kustomization.yaml"))
	if err != nil {
		return nil, err
	}
	if err := yaml.Unmarshal(b, &k); err != nil {
		return nil, fmt.Errorf("cannot parse %s/kustomization.yaml: %w", dir, err)
	}
	s := &samples{}
	for _, res := range k.Resources {
		objs, err := readObjects(filepath.Join(dir, res))
		if err != nil {
			return nil, err
		}
		for _, o := range objs {
			switch {
			case o.GetAPIVersion() != apiGroupVersion:
				return nil, fmt.Errorf("%s: unexpected apiVersion %q", res, o.GetAPIVersion())
			case o.GetKind() == "ProviderConfig" && s.providerConfig == nil:
				s.providerConfig = o
			case o.GetKind() == "ProtectionGroup":
				s.protectionGroups = append(s.protectionGroups, o)
			case o.GetKind() == "DRPlan":
				s.plans = append(s.plans, o)
			default:
				return nil, fmt.Errorf("%s: run-local does not know what to do with %s %s", res, o.GetKind(), o.GetName())
			}
		}
	}
	if s.providerConfig == nil || len(s.protectionGroups) == 0 {
		return nil, fmt.Errorf("%s must hold a ProviderConfig and at least one ProtectionGroup", dir)
	}
	return s, nil
}

func readObjects(path string) ([]*unstructured.Unstructured, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var objs []*unstructured.Unstructured
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(b), 4096)
	for {
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			if errors.Is(err, io.EOF) {
				return objs, nil
			}
			return nil, fmt.Errorf("cannot parse %s: %w", path, err)
		}
		if len(m) == 0 { // an empty document between two ---
			continue
		}
		objs = append(objs, &unstructured.Unstructured{Object: m})
	}
}

// providerSettings are the ProviderConfig fields run-local builds on: the
// emulator serves the sample's project, and the Secret goes where the
// sample's credentialsSecretRef points.
type providerSettings struct {
	region, projectID           string
	secretNamespace, secretName string
}

func (s *samples) providerSettings() (providerSettings, error) {
	var p providerSettings
	fields := map[string]*string{
		"region":                         &p.region,
		"projectID":                      &p.projectID,
		"credentialsSecretRef.namespace": &p.secretNamespace,
		"credentialsSecretRef.name":      &p.secretName,
	}
	for path, dst := range fields {
		v, ok, _ := unstructured.NestedString(s.providerConfig.Object, append([]string{"spec"}, strings.Split(path, ".")...)...)
		if !ok || v == "" {
			return p, fmt.Errorf("the sample ProviderConfig lacks spec.%s", path)
		}
		*dst = v
	}
	return p, nil
}

// withEndpoints returns the sample ProviderConfig pointing at the emulator.
// The emulator run-local starts speaks plain http, which the API refuses
// without the explicit opt-in, so the opt-in goes with the endpoints even
// if the sample was edited for the real cloud.
func (s *samples) withEndpoints(sdrs, ecs string) *unstructured.Unstructured {
	pc := s.providerConfig.DeepCopy()
	_ = unstructured.SetNestedField(pc.Object, sdrs, "spec", "endpoint")
	_ = unstructured.SetNestedField(pc.Object, ecs, "spec", "ecsEndpoint")
	_ = unstructured.SetNestedField(pc.Object, true, "spec", "allowInsecureHTTP")
	return pc
}

// withGroupIDs returns the sample ProtectionGroups with the placeholder
// replaced by the ID of the demo group each one adopts.
func (s *samples) withGroupIDs(ids map[string]string) ([]*unstructured.Unstructured, error) {
	var out []*unstructured.Unstructured
	for _, pg := range s.protectionGroups {
		pg = inSamplesNamespace(pg)
		id, _, _ := unstructured.NestedString(pg.Object, "spec", "protectionGroupID")
		if id == groupIDPlaceholder {
			demo, ok := ids[pg.GetName()]
			if !ok {
				return nil, fmt.Errorf("sample ProtectionGroup %s has no demo group; known: %v", pg.GetName(), keys(ids))
			}
			_ = unstructured.SetNestedField(pg.Object, demo, "spec", "protectionGroupID")
		}
		out = append(out, pg)
	}
	return out, nil
}

// plansInNamespace returns the sample DRPlans in the namespace of the sample
// ProtectionGroups they select. They have no desiredActiveSite, so applying
// them moves nothing.
func (s *samples) plansInNamespace() []*unstructured.Unstructured {
	out := make([]*unstructured.Unstructured, 0, len(s.plans))
	for _, p := range s.plans {
		out = append(out, inSamplesNamespace(p))
	}
	return out
}

// inSamplesNamespace returns a copy of o, in samplesNamespace unless it
// names a namespace itself.
func inSamplesNamespace(o *unstructured.Unstructured) *unstructured.Unstructured {
	o = o.DeepCopy()
	if o.GetNamespace() == "" {
		o.SetNamespace(samplesNamespace)
	}
	return o
}

func keys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
