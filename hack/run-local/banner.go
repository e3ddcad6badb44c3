package main

import (
	"os"
	"path/filepath"
	"strings"
)

// unsetHint is the last thing run-local says: the kubeconfig the banner
// told people to export is gone, and kubectl without one quietly tries
// localhost:8080.
const unsetHint = "In every terminal where you exported KUBECONFIG for this run, type: unset KUBECONFIG " +
	"(its file is removed, and kubectl would fall back to localhost:8080)"

// banner says what to type next. Paths are relative to the repository root
// when they are inside it, so the lines can be pasted from there. Every
// command in it names the site it moves a group to, so pasting a line
// twice changes nothing the second time.
func banner(root, kubeconfig, envPath, binDir, metricsURL string) string {
	rel := func(p string) string {
		if r, err := filepath.Rel(root, p); err == nil && !strings.HasPrefix(r, "..") {
			return "$PWD/" + r
		}
		return p
	}
	var b strings.Builder
	w := func(lines ...string) {
		for _, l := range lines {
			b.WriteString(l + "\n")
		}
	}
	w("",
		"The operator is running against a local kube-apiserver and the SDRS emulator.",
		"In another terminal, from the repository root:",
		"",
		"  export KUBECONFIG="+rel(kubeconfig),
		"  kubectl get pg                      # web, erp and files, active at site source",
		"  kubectl get pg -o wide              # plus the production zone and the SDRS group ID",
		"",
		"Switch web over to the target site (planned failover: no data loss; the operator",
		"stops the production servers, reverses the group and starts the servers there):",
		"",
		`  kubectl patch pg web --type merge -p '{"spec":{"desiredActiveSite":"target"}}'`,
		"  kubectl wait pg/web --for=condition=Ready --timeout=5m",
		"  kubectl get pg web -o jsonpath='{.status.sites}{\"\\n\"}'",
		"",
		"and back again with desiredActiveSite source. Force a failover of erp, as when the",
		"production zone is lost (may lose the data written since the last replication);",
		"Forced is for this move only, so put erp's mode (Auto) back once it is Ready:",
		"",
		`  kubectl patch pg erp --type merge -p '{"spec":{"desiredActiveSite":"target","failoverMode":"Forced","allowDataLoss":true}}'`,
		"  kubectl wait pg/erp --for=condition=Ready --timeout=5m",
		`  kubectl patch pg erp --type merge -p '{"spec":{"failoverMode":"Auto"}}'`,
		"",
		"Follow along with kubectl get pg -w, kubectl describe pg erp and kubectl get events.",
		"The emulator's endpoints and keys: set -a; . "+rel(envPath)+"; set +a",
		"  curl -s $SDRS_ENDPOINT/admin/state      # what SDRS itself says",
		"The operator's Prometheus metrics:",
		"  curl -s "+metricsURL+" | grep ^sdrs_operator",
	)
	if plugin := filepath.Join(binDir, "kubectl-sdrs"); isExecutable(plugin) {
		w("",
			"The same with the runbook plugin (or put "+binDir+" on PATH and type kubectl sdrs);",
			"each names the site, so running one again changes nothing:",
			"  "+plugin+" status",
			"  "+plugin+" switchover web --to target --wait",
			"  "+plugin+" failover erp --to target --allow-data-loss --wait   # puts the mode back itself")
	}
	w("", "Logs are in "+filepath.Dir(kubeconfig)+"/*.log. Ctrl-C stops everything and removes the kubeconfig;",
		"then type unset KUBECONFIG in the other terminal.", "")
	return b.String()
}

func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0
}
