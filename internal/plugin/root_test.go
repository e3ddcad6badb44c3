package plugin_test

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"

	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/sdrs-operator/sdrs-operator/internal/plugin"
)

// execute runs the real root command in-process, as main does.
func execute(args ...string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	root := plugin.NewRootCommand(genericclioptions.NewConfigFlags(false),
		genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut})
	root.SetArgs(args)
	code = plugin.Execute(context.Background(), root, &errOut)
	return code, out.String(), errOut.String()
}

// Usage errors and refusals exit 2 before any kubeconfig is read, so a
// script learns about its own mistake, not about the cluster.
func TestExitCodesWithoutACluster(t *testing.T) {
	cases := []struct {
		args       []string
		wantCode   int
		wantStderr string
	}{
		{[]string{"--help"}, 0, ""},
		{[]string{"bogus"}, 2, `error: unknown command "bogus" for "kubectl sdrs"`},
		{[]string{"status", "--bogus"}, 2, "error: unknown flag: --bogus"},
		{[]string{"failover", "app"}, 2, "pass --allow-data-loss"},
		{[]string{"failover", "app", "--allow-data-loss"}, 2, "--to is required"},
		{[]string{"switchover", "app"}, 2, "--to is required"},
		{[]string{"switchover", "--to", "target"}, 2, "name a ProtectionGroup, or select a fleet"},
		{[]string{"wait", "app", "--timeout", "0s"}, 2, "--timeout must be positive"},
		{[]string{"history"}, 2, "exactly one"},
	}
	for _, tc := range cases {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			code, _, stderr := execute(tc.args...)
			if code != tc.wantCode {
				t.Errorf("exit %d, want %d (stderr %q)", code, tc.wantCode, stderr)
			}
			if !strings.Contains(stderr, tc.wantStderr) {
				t.Errorf("stderr %q lacks %q", stderr, tc.wantStderr)
			}
		})
	}
}

// Each verb's --help describes the flags it has, as they behave.
func TestHelpDescribesTheFlagsAsTheyBehave(t *testing.T) {
	allFlag := regexp.MustCompile(`--all([^-]|$)`)
	cases := []struct {
		verb    string
		want    []string
		notWant *regexp.Regexp
	}{
		{verb: "pause", want: []string{"--wait", "wait until the operator reports Paused=True"}, notWant: regexp.MustCompile(`Ready for the`)},
		{verb: "resume", want: []string{"wait until the operator reports Paused=False and each group is Ready"}},
		{verb: "status", want: []string{"-A, --all-namespaces", "list ProtectionGroups in all namespaces"}, notWant: allFlag},
		{verb: "history", notWant: allFlag},
		{verb: "failover", want: []string{"--to source|target", "(required)", "for this move only"}, notWant: regexp.MustCompile(`not active now`)},
		{verb: "switchover", want: []string{"the generation this command wrote", "exit 5", "6 if the group is paused"}},
	}
	for _, tc := range cases {
		t.Run(tc.verb, func(t *testing.T) {
			code, out, stderr := execute(tc.verb, "--help")
			if code != 0 {
				t.Fatalf("exit %d, stderr %q", code, stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("%s --help lacks %q:\n%s", tc.verb, w, out)
				}
			}
			if tc.notWant != nil && tc.notWant.MatchString(out) {
				t.Errorf("%s --help says %q:\n%s", tc.verb, tc.notWant.FindString(out), out)
			}
		})
	}
}
