// Package harness runs the operator's stack as real processes on one
// machine for end-to-end tests and benchmarks: envtest's etcd and
// kube-apiserver (with a kubeconfig on disk), the sdrs-emulator binary, one
// or more bin/manager processes, and an optional fault-injecting HTTP proxy
// between the manager and the emulator.
//
// The pieces are independent and each has a Start function that returns an
// error, plus a Must variant for a testing.TB that registers its cleanup:
//
//	cp := harness.MustControlPlane(t, harness.ControlPlaneOptions{})
//	emu := harness.MustEmulator(t, harness.EmulatorOptions{JobDuration: time.Second})
//	groups, _ := emu.Admin.Seed(ctx, emutest.Group{Name: "web", Instances: []emutest.Instance{{}}})
//	ns := cp.MustNamespace(t, "scenario-")
//	cp.MustProviderConfig(t, harness.ProviderConfigFor("pc-"+ns, ns, emu, nil))
//	mgr := harness.MustManager(t, harness.ManagerOptions{Kubeconfig: cp.Kubeconfig, WatchNamespace: ns})
//	pg := harness.AdoptingGroup(ns, "web", "pc-"+ns, groups[0].ID)
//	cp.Client.Create(ctx, pg)
//	cp.WaitFor(ctx, pg, 2*time.Minute, harness.ReadyAt(drv1alpha1.SiteSource))
//
// Every process writes its whole output to a log file in the run directory
// (Dir, RunDir); LogFiles lists them all, so a test can search every line a
// manager ever wrote. Processes run in their own process groups and die
// with the test process (Pdeathsig), so a crashed test leaves nothing.
//
// Binaries: bin/manager and bin/sdrs-emulator from `make build` are used
// when they are newer than every Go source file of the module; otherwise
// the harness builds fresh ones into the run directory once per process.
// HARNESS_BIN_DIR names a directory with both binaries to skip the check.
package harness
