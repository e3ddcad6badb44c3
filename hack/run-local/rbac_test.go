package main

import (
	"testing"

	"github.com/sdrs-operator/sdrs-operator/internal/localrun"
)

// TestGeneratedRBACCoversSampleSecret: with --manager-rbac=generated the
// manager gets exactly role.yaml, whose Secrets Role must be where the
// sample ProviderConfig puts its Secret, or the sample groups could never
// become Ready.
func TestGeneratedRBACCoversSampleSecret(t *testing.T) {
	roles, err := localrun.LoadGeneratedRoles("../..")
	if err != nil {
		t.Fatal(err)
	}
	s, err := loadSamples("../../config/samples")
	if err != nil {
		t.Fatal(err)
	}
	p, err := s.providerSettings()
	if err != nil {
		t.Fatal(err)
	}
	secretsIn := map[string]bool{}
	for _, r := range roles.Roles {
		for _, rule := range r.Rules {
			for _, res := range rule.Resources {
				if res == "secrets" {
					secretsIn[r.Namespace] = true
				}
			}
		}
	}
	if !secretsIn[p.secretNamespace] {
		t.Errorf("the sample ProviderConfig's Secret is in %s, but the generated Roles grant Secrets only in %v", p.secretNamespace, secretsIn)
	}
}
