package main

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/sdrs-operator/sdrs-operator/internal/localrun"
)

// profileLines keeps the rows of a cumulative pprof top that name the
// operator's code and the libraries a failover passes through, so the
// report says where the manager's CPU goes without the runtime's plumbing.
var profileLines = regexp.MustCompile(`sdrs-operator/|controller-runtime/pkg/internal/controller|client-go/rest\.|client-go/tools/cache|huaweicloud-sdk-go-v3/core\.|encoding/json\.(Marshal|Unmarshal)|runtime\.gcBgMarkWorker$|runtime\.mallocgc$|prometheus/client_golang/prometheus\.\(\*Registry\)\.Gather|net/http\.\(\*persistConn\)`)

// summarizeProfile runs `go tool pprof -top -cum` on the manager's CPU
// profile of a flip and keeps the telling rows.
func summarizeProfile(ctx context.Context, profile string) (string, error) {
	root, err := localrun.RepoRoot()
	if err != nil {
		return "", err
	}
	bin := filepath.Join(root, "bin", localrun.ManagerBinary)
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, "go", "tool", "pprof", "-top", "-cum", "-nodecount=400", bin, profile)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go tool pprof %s: %w: %s", profile, err, out.String())
	}
	var keep []string
	kept := 0
	for _, l := range strings.Split(out.String(), "\n") {
		switch {
		case strings.HasPrefix(l, "Duration:"), strings.HasPrefix(l, "      flat"):
			keep = append(keep, l)
		case profileLines.MatchString(l) && kept < 30:
			keep = append(keep, l)
			kept++
		}
	}
	return strings.Join(keep, "\n"), nil
}
