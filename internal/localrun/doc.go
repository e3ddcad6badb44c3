// Package localrun runs the operator's whole stack on one machine, and is
// the one place that knows how: hack/run-local, the end-to-end suites
// (test/e2e/harness builds its test helpers on it) and the benchmark
// (test/bench) all start their processes through it.
//
//   - RepoRoot finds the repository root once; AssetsDir the pinned etcd
//     and kube-apiserver (bin/k8s/<version>, `make control-plane`);
//     FreshBinaries bin/manager and bin/sdrs-emulator, built when stale.
//   - StartControlPlane starts envtest from those binaries with every CRD
//     of config/crd/bases installed, and hands out users (UserConfig,
//     UserKubeconfig, ServiceAccountKubeconfig) and the manager's user
//     with exactly config/rbac/role.yaml (ManagerConfig, GeneratedRoles).
//     Kubeconfig renders any of them as a kubeconfig file.
//   - StartEmulator starts the sdrs-emulator binary on fixed or free ports
//     and reads the addresses it listens on; Kill, Stop and Restart keep
//     its ports and state file.
//   - StartManager starts the manager binary with its flags; WaitHealthy,
//     WaitReady and WaitLog wait for it; Stop, Kill (SIGKILL) and Signal
//     end or freeze it.
//   - Underneath, Start runs any child in its own process group with its
//     output prefixed line by line, kept for waiters (Lines) and written to
//     a log file (LogFiles lists them all); FreePort and CheckPortFree
//     deal with ports.
//
// A test that wants the whole stack in a few lines uses harness.MustStack.
package localrun
