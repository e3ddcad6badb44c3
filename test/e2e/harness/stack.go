package harness

import (
	"context"
	"fmt"
	"testing"
	"time"

	drv1alpha1 "github.com/sdrs-operator/sdrs-operator/api/v1alpha1"
)

// StackOptions configure StartStack. The zero value works: a control
// plane, an emulator with 1s jobs, a namespace "stack-…" and a
// ProviderConfig for the emulator, and no manager.
type StackOptions struct {
	ControlPlane ControlPlaneOptions
	Emulator     EmulatorOptions
	// NamespacePrefix names the namespace; default "stack-".
	NamespacePrefix string
	// ProviderConfig names the ProviderConfig and its Secret (in the
	// namespace); default "pc-" plus the namespace. MutateProviderConfig,
	// when set, changes it before it is created (rate limits, intervals).
	ProviderConfig       string
	MutateProviderConfig func(*drv1alpha1.ProviderConfig)
	// Manager, when set, starts a manager for the namespace (Kubeconfig
	// and WatchNamespace are filled in) and waits until its workers run.
	Manager *ManagerOptions
}

// Stack is a whole local stack: control plane, emulator, a namespace with
// a ProviderConfig for the emulator and optionally a manager. A drill or
// plan test starts it with MustStack and seeds groups with Emu.Admin.Seed:
//
//	st := harness.MustStack(t, harness.StackOptions{Manager: &harness.ManagerOptions{}})
//	groups, _ := st.Emu.Admin.Seed(ctx, emutest.Group{Name: "web", Instances: []emutest.Instance{{}}})
//	pg := st.Adopting("web", groups[0].ID)
//	_ = st.CP.Client.Create(ctx, pg)
//	_ = st.CP.WaitFor(ctx, pg, 2*time.Minute, harness.ReadyAt(drv1alpha1.SiteSource))
type Stack struct {
	CP        *ControlPlane
	Emu       *Emulator
	Mgr       *Manager // nil until StartManager (or StackOptions.Manager)
	Namespace string
	// ProviderConfig is the name of the ProviderConfig (and its Secret).
	ProviderConfig string
}

// StartStack starts the pieces in dependency order; on an error it stops
// what it started.
func StartStack(ctx context.Context, o StackOptions) (st *Stack, err error) {
	st = &Stack{}
	defer func() {
		if err != nil {
			st.Stop()
			st = nil
		}
	}()
	if st.CP, err = StartControlPlane(o.ControlPlane); err != nil {
		return st, err
	}
	if st.Emu, err = StartEmulator(o.Emulator); err != nil {
		return st, err
	}
	if o.NamespacePrefix == "" {
		o.NamespacePrefix = "stack-"
	}
	if st.Namespace, err = st.CP.Namespace(ctx, o.NamespacePrefix); err != nil {
		return st, err
	}
	st.ProviderConfig = o.ProviderConfig
	if st.ProviderConfig == "" {
		st.ProviderConfig = "pc-" + st.Namespace
	}
	pc := ProviderConfigFor(st.ProviderConfig, st.Namespace, st.Emu, "")
	if o.MutateProviderConfig != nil {
		o.MutateProviderConfig(pc)
	}
	eo := st.Emu.Options()
	if err = st.CP.CreateProviderConfig(ctx, pc, eo.AccessKey, eo.SecretKey); err != nil {
		return st, err
	}
	if o.Manager != nil {
		if err = st.StartManager(ctx, *o.Manager); err != nil {
			return st, err
		}
	}
	return st, nil
}

// MustStack starts a stack and stops it when tb ends.
func MustStack(tb testing.TB, o StackOptions) *Stack {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	st, err := StartStack(ctx, o)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(st.Stop)
	return st
}

// StartManager starts a manager for the stack's namespace (after
// StopManager, a fresh one) and waits until its workers run (with leader
// election, until it leads).
func (st *Stack) StartManager(ctx context.Context, o ManagerOptions) error {
	if st.Mgr != nil {
		return fmt.Errorf("the stack's manager %s already runs", st.Mgr.Name)
	}
	if o.Kubeconfig == "" {
		o.Kubeconfig = st.CP.Kubeconfig
	}
	if o.WatchNamespace == "" && !o.AllNamespaces {
		o.WatchNamespace = st.Namespace
	}
	m, err := StartManager(o)
	if err != nil {
		return err
	}
	st.Mgr = m
	wctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	if o.LeaderElect {
		_, err = m.WaitLog(wctx, LeaderLine)
	} else {
		err = m.WaitReady(wctx)
	}
	return err
}

// StopManager stops the manager, if one runs.
func (st *Stack) StopManager() {
	if st.Mgr != nil {
		_ = st.Mgr.Stop()
		st.Mgr = nil
	}
}

// Stop stops the manager, the emulator and the control plane, in that
// order, whichever of them run.
func (st *Stack) Stop() {
	st.StopManager()
	if st.Emu != nil {
		_ = st.Emu.Stop()
	}
	if st.CP != nil {
		_ = st.CP.Stop()
	}
}

// Adopting returns a ProtectionGroup of the stack's namespace and
// ProviderConfig that adopts the SDRS group groupID (AdoptingGroup).
func (st *Stack) Adopting(name, groupID string) *drv1alpha1.ProtectionGroup {
	return AdoptingGroup(st.Namespace, name, st.ProviderConfig, groupID)
}
