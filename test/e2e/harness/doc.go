// Package harness runs the operator's stack as real processes on one
// machine for end-to-end tests and benchmarks: envtest's etcd and
// kube-apiserver (with a kubeconfig on disk), the sdrs-emulator binary, one
// or more bin/manager processes, and an optional fault-injecting HTTP proxy
// between the manager and the emulator. The processes are internal/localrun's
// (the same code hack/run-local uses); this package adds the test defaults,
// the run directory and the helpers that wait and check.
//
// The whole stack in a few lines (StackOptions.Manager starts a manager):
//
//	st := harness.MustStack(t, harness.StackOptions{Manager: &harness.ManagerOptions{}})
//	groups, _ := st.Emu.Admin.Seed(ctx, emutest.Group{Name: "web", Instances: []emutest.Instance{{}}})
//	pg := st.Adopting("web", groups[0].ID)
//	_ = st.CP.Client.Create(ctx, pg)
//	_ = st.CP.WaitFor(ctx, pg, 2*time.Minute, harness.ReadyAt(drv1alpha1.SiteSource))
//
// The pieces are independent and each has a Start function that returns an
// error, plus a Must variant for a testing.TB that registers its cleanup:
//
//	cp := harness.MustControlPlane(t, harness.ControlPlaneOptions{})
//	emu := harness.MustEmulator(t, harness.EmulatorOptions{JobDuration: time.Second})
//	groups, _ := emu.Admin.Seed(ctx, emutest.Group{Name: "web", Instances: []emutest.Instance{{}}})
//	ns := cp.MustNamespace(t, "scenario-")
//	cp.MustProviderConfig(t, harness.ProviderConfigFor("pc-"+ns, ns, emu, ""), emu)
//	mgr := harness.MustManager(t, harness.ManagerOptions{Kubeconfig: cp.Kubeconfig, WatchNamespace: ns})
//	pg := harness.AdoptingGroup(ns, "web", "pc-"+ns, groups[0].ID)
//	_ = cp.Client.Create(ctx, pg)
//	_ = cp.WaitFor(ctx, pg, 2*time.Minute, harness.ReadyAt(drv1alpha1.SiteSource))
//	calls, _ := emu.Admin.Calls(ctx, "", groups[0].ID) // what SDRS saw
//	_ = harness.ActionCounts(calls)                  // accepted actions by operation
//
// Pieces:
//   - ControlPlane: envtest with the CRDs, an admin client and kubeconfig,
//     StopAPIServer/StartAPIServer (same port and certificates), kubeconfigs
//     for client-certificate users and for ServiceAccounts (TokenRequest).
//   - Emulator: the sdrs-emulator binary on free (or fixed) ports, the admin
//     client (emutest.Admin), Kill/Stop/Restart on the same ports and state
//     file, optionally with rotated keys or HTTPS (NewTLSFiles).
//   - Manager: one bin/manager process per call; several with leader
//     election make replicas. WaitLog waits for a log line, Lines reads
//     the whole log, Kill is SIGKILL, Signal sends SIGSTOP/SIGCONT.
//   - Proxy: sits in front of an emulator listener; Rules hold a request
//     before or after the emulator handled it, rewrite the answer or answer
//     in its place (hostile bodies).
//   - WaitFor with Conditions (ReadyAt, HasCondition, OperationRunning),
//     Events, CheckRate (calls against a token bucket), Report (a Markdown
//     table of scenarios).
//
// Managers started with WatchNamespace only reconcile ProtectionGroups of
// that namespace, but every manager reconciles every (cluster-scoped)
// ProviderConfig: expect their validation calls in every emulator's log.
//
// Every process writes its whole output to a log file in the run directory
// (Dir, RunDir); localrun.LogFiles lists them all, so a test can search
// every line a manager ever wrote. Processes run in their own process
// groups and die with the test process (Pdeathsig), so a crashed test
// leaves nothing.
//
// Binaries: bin/manager and bin/sdrs-emulator from `make build` are used
// when they are newer than every Go source file of the module; otherwise
// the harness builds fresh ones into the run directory once per process.
// HARNESS_BIN_DIR names a directory with both binaries to skip the check.
package harness
