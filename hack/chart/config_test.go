package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// root is the repository root, seen from this package's directory.
const root = "../.."

// object is one parsed manifest and where it came from.
type object struct {
	source string
	obj    map[string]any
}

func (o object) kind() string { s, _ := o.obj["kind"].(string); return s }

func (o object) name() string {
	md, _ := o.obj["metadata"].(map[string]any)
	s, _ := md["name"].(string)
	return s
}

func (o object) key() string { return o.kind() + "/" + o.name() }

// decode converts the object into a typed value, rejecting unknown fields,
// so a misspelt field in a template fails the test.
func (o object) decode(t *testing.T, into any) {
	t.Helper()
	b, err := yaml.Marshal(o.obj)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.UnmarshalStrict(b, into); err != nil {
		t.Fatalf("%s (%s): %v", o.key(), o.source, err)
	}
}

// kustomization is what the tests read of a kustomization.yaml.
type kustomization struct {
	Namespace  string   `json:"namespace"`
	NamePrefix string   `json:"namePrefix"`
	Resources  []string `json:"resources"`
	Images     []struct {
		Name    string `json:"name"`
		NewName string `json:"newName"`
		NewTag  string `json:"newTag"`
	} `json:"images"`
}

func readKustomization(t *testing.T, dir string) kustomization {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, dir, "kustomization.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var k kustomization
	if err := yaml.Unmarshal(b, &k); err != nil {
		t.Fatalf("%s/kustomization.yaml: %v", dir, err)
	}
	return k
}

// configObjects lists what a kustomize directory deploys, following its
// resources into other directories, without kustomize's transformations.
func configObjects(t *testing.T, dir string) []object {
	t.Helper()
	var out []object
	for _, r := range readKustomization(t, dir).Resources {
		p := filepath.Join(dir, r)
		fi, err := os.Stat(filepath.Join(root, p))
		if err != nil {
			t.Fatal(err)
		}
		if fi.IsDir() {
			out = append(out, configObjects(t, p)...)
			continue
		}
		docs, err := readDocs(root, p)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range docs {
			out = append(out, object{source: p, obj: d})
		}
	}
	return out
}

// configObject returns the one object of kind in a file of config/.
func configObject(t *testing.T, rel, kind string, into any) {
	t.Helper()
	d, err := readKind(root, rel, kind)
	if err != nil {
		t.Fatal(err)
	}
	object{source: rel, obj: d}.decode(t, into)
}

// managerImage is the image config/manager maps the name controller to.
func managerImage(t *testing.T) string {
	t.Helper()
	for _, im := range readKustomization(t, "config/manager").Images {
		if im.Name == "controller" {
			return fmt.Sprintf("%s:%s", im.NewName, im.NewTag)
		}
	}
	t.Fatal("config/manager/kustomization.yaml maps no image named controller")
	return ""
}

// isCRD says whether a config object is a CRD (the chart ships those in crds/).
func isCRD(o object) bool { return o.kind() == "CustomResourceDefinition" }

func hasPrefix(s string, ps ...string) bool {
	for _, p := range ps {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}
