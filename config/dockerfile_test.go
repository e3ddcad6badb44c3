package config_test

import (
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
)

// TestDockerfileBuildsAStaticManager does what the Dockerfile's builder
// stage does without a container engine: copy exactly what its COPY lines
// copy (minus what .dockerignore drops), run its RUN go build line, and
// check the result is a static binary that distroless/static can run. A
// new top-level package the manager imports but the Dockerfile does not
// copy fails here rather than in an image build.
func TestDockerfileBuildsAStaticManager(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the manager from scratch")
	}
	dockerfile, err := os.ReadFile("../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	ignore, err := os.ReadFile("../.dockerignore")
	if err != nil {
		t.Fatal(err)
	}
	copies, build := builderStage(t, string(dockerfile))

	ctx := t.TempDir()
	for _, src := range copies {
		if src != "go.mod" && src != "go.sum" && !strings.Contains(string(ignore), "\n!"+src) {
			t.Errorf(".dockerignore must let %s into the build context (a line !%s)", src, src)
		}
		if err := copyTree(filepath.Join("..", src), filepath.Join(ctx, src)); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command("sh", "-c", build)
	cmd.Dir = ctx
	cmd.Env = append(os.Environ(), "TARGETARCH="+runtime.GOARCH)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", build, err, out)
	}

	bin := filepath.Join(ctx, "manager")
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Error("the manager is dynamically linked; distroless/static has no libc")
		}
	}
	if out, err := exec.Command(bin, "--help").CombinedOutput(); err != nil || !strings.Contains(string(out), "leader-elect") {
		t.Errorf("the built manager does not run: %v\n%s", err, out)
	}
}

// builderStage returns the COPY sources and the go build command of the
// Dockerfile's first stage.
func builderStage(t *testing.T, dockerfile string) (copies []string, build string) {
	t.Helper()
	joined := regexp.MustCompile(`\\\n\s*`).ReplaceAllString(dockerfile, "")
	for _, line := range strings.Split(joined, "\n") {
		fields := strings.Fields(line)
		switch {
		case len(fields) == 0:
		case fields[0] == "FROM" && len(copies) > 0:
			return copies, build // the runtime stage starts
		case fields[0] == "COPY" && !strings.HasPrefix(fields[1], "--from"):
			for _, src := range fields[1 : len(fields)-1] {
				copies = append(copies, strings.TrimSuffix(src, "/"))
			}
		case fields[0] == "RUN" && strings.Contains(line, "go build"):
			build = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(line), "RUN"))
		}
	}
	if build == "" || len(copies) == 0 {
		t.Fatal("no builder stage with COPY and RUN go build found in the Dockerfile")
	}
	return copies, build
}

// copyTree copies a file or directory, leaving out tests and testdata as
// .dockerignore does.
func copyTree(src, dst string) error {
	return filepath.Walk(src, func(path string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		target := filepath.Join(dst, rel)
		switch {
		case fi.IsDir() && fi.Name() == "testdata":
			return filepath.SkipDir
		case fi.IsDir():
			return os.MkdirAll(target, 0o755)
		case strings.HasSuffix(path, "_test.go"):
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, 0o644)
	})
}
