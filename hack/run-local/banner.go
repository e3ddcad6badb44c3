package main

import (
	"os"
	"path/filepath"
	"strings"
)

// banner says what to type next. Paths are relative to the repository root
// when they are inside it, so the lines can be pasted from there.
func banner(root, kubeconfig, envPath, binDir string) string {
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
		"production zone is lost (may lose the data written since the last replication):",
		"",
		`  kubectl patch pg erp --type merge -p '{"spec":{"desiredActiveSite":"target","failoverMode":"Forced","allowDataLoss":true}}'`,
		"  kubectl wait pg/erp --for=condition=Ready --timeout=5m",
		"",
		"Follow along with kubectl get pg -w, kubectl describe pg erp and kubectl get events.",
		"The emulator's endpoints and keys: set -a; . "+rel(envPath)+"; set +a",
		"  curl -s $SDRS_ENDPOINT/admin/state      # what SDRS itself says",
	)
	if plugin := filepath.Join(binDir, "kubectl-sdrs"); isExecutable(plugin) {
		w("",
			"The same with the runbook plugin (or put "+binDir+" on PATH and type kubectl sdrs):",
			"  "+plugin+" status",
			"  "+plugin+" switchover web --to target --wait",
			"  "+plugin+" failover erp --allow-data-loss --wait")
	}
	w("", "Logs are in "+filepath.Dir(kubeconfig)+"/*.log. Ctrl-C stops everything.", "")
	return b.String()
}

func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0
}
