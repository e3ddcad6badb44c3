package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/sdrs-operator/sdrs-operator/internal/localrun"
)

// stack is what start brought up and what run watches afterwards.
type stack struct {
	dir         string
	childExited chan *localrun.Process
}

func (s *stack) logPath(name string) string { return filepath.Join(s.dir, name+".log") }

// start brings everything up in dependency order, pushing a stop step for
// each part as soon as it runs, so a failure or an interrupt at any point
// tears down exactly what exists.
func start(ctx context.Context, o options, console io.Writer, log *logger, td *teardown) (*stack, error) {
	// envtest and the client log through controller-runtime; without a
	// logger it prints a warning with a stack trace after 30 seconds.
	ctrllog.SetLogger(zap.New(zap.WriteTo(log)))

	root, err := localrun.RepoRoot()
	if err != nil {
		return nil, err
	}
	dir, err := filepath.Abs(o.dir)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	release, err := lockDir(dir)
	if err != nil {
		return nil, err
	}
	td.push(func(time.Duration) { release() })
	if err := cleanDir(dir); err != nil {
		return nil, err
	}
	s := &stack{dir: dir, childExited: make(chan *localrun.Process, 2)}

	// Check everything cheap before the slow control plane starts.
	managerBin, emulatorBin := filepath.Join(o.binDir, localrun.ManagerBinary), filepath.Join(o.binDir, localrun.EmulatorBinary)
	for _, b := range []string{managerBin, emulatorBin} {
		if _, err := os.Stat(b); err != nil {
			return nil, fmt.Errorf("%s is missing: run `make build` (make run-local does it for you)", b)
		}
	}
	smp, err := loadSamples(filepath.Join(root, "config", "samples"))
	if err != nil {
		return nil, err
	}
	provider, err := smp.providerSettings()
	if err != nil {
		return nil, err
	}
	if err := localrun.CheckPortFree("127.0.0.1", o.sdrsPort, "the SDRS emulator", "--sdrs-port"); err != nil {
		return nil, err
	}
	if err := localrun.CheckPortFree("127.0.0.1", o.ecsPort, "the emulator's ECS API", "--ecs-port"); err != nil {
		return nil, err
	}
	if o.managerRBAC != localrun.RBACGenerated && o.managerRBAC != localrun.RBACAdmin {
		return nil, fmt.Errorf("--manager-rbac must be generated or admin, not %q", o.managerRBAC)
	}
	assets, err := localrun.AssetsDir(root)
	if err != nil {
		return nil, err
	}

	log.Printf("starting etcd and kube-apiserver from %s", assets)
	cp, err := localrun.StartControlPlane(localrun.ControlPlaneOptions{
		Dir: filepath.Join(dir, controlPlaneLogDir), Root: root,
		StopTimeout: time.Minute, ContextName: contextName,
	})
	if err != nil {
		return nil, err
	}
	td.push(func(time.Duration) {
		log.Printf("stopping kube-apiserver and etcd")
		if err := cp.Stop(); err != nil {
			log.Printf("stopping the control plane: %v", err)
		}
	})
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	log.Printf("control plane up at %s; CRDs installed", cp.Config.Host)

	emu, err := startEmulator(emulatorConfig{
		bin: emulatorBin, stateFile: filepath.Join(dir, emulatorStateFile), logFile: s.logPath("emulator"),
		sdrsPort: o.sdrsPort, ecsPort: o.ecsPort, projectID: provider.projectID,
		jobDuration: o.jobDuration, syncDur: o.syncDuration, profile: o.emuProfile,
	}, console)
	if err != nil {
		return nil, err
	}
	td.pushProcess(emu.Process(), log)
	ids, err := seed(ctx, emu)
	if err != nil {
		return nil, err
	}
	log.Printf("emulator serves SDRS at %s and ECS at %s; demo groups %v", emu.SDRSURL, emu.ECSURL, ids)

	eo := emu.Options()
	if err := cp.CreateAll(ctx, credentials(provider, eo.AccessKey, eo.SecretKey), smp.withEndpoints(emu.SDRSURL, emu.ECSURL)); err != nil {
		return nil, err
	}
	mcfg, err := cp.ManagerConfig(ctx, o.managerRBAC)
	if err != nil {
		return nil, err
	}
	log.Printf("manager runs as %s with %s permissions", localrun.ManagerUser, o.managerRBAC)
	mkc, err := localrun.Kubeconfig(mcfg, contextName, "")
	if err != nil {
		return nil, err
	}
	mkcPath := filepath.Join(dir, managerKubeconfig)
	if err := writeFileAtomic(mkcPath, mkc, 0o600); err != nil {
		return nil, err
	}

	mgr, err := startManager(managerBin, mkcPath, s.logPath("manager"), o.managerArgs, console)
	if err != nil {
		return nil, err
	}
	td.pushProcess(mgr.Process(), log)
	if err := waitManager(ctx, mgr); err != nil {
		return nil, err
	}
	for _, p := range []*localrun.Process{emu.Process(), mgr.Process()} {
		go func() { <-p.Done(); s.childExited <- p }()
	}

	groups, err := smp.withGroupIDs(ids)
	if err != nil {
		return nil, err
	}
	if err := cp.CreateAll(ctx, objects(groups...)...); err != nil {
		return nil, err
	}
	// The sample plans select those groups; armed, they move nothing.
	if err := cp.CreateAll(ctx, objects(smp.plansInNamespace()...)...); err != nil {
		return nil, err
	}
	if o.groupsReady > 0 {
		log.Printf("waiting up to %s for the sample ProtectionGroups to become Ready", o.groupsReady)
		if pending, err := waitGroupsReady(ctx, cp.Client, groups, o.groupsReady); err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			log.Printf("warning: not Ready yet: %s; carrying on (kubectl describe pg says more)", strings.Join(pending, ", "))
		}
	}

	// The files people and tests use appear last, and go first on the way
	// down, so whoever finds them finds a working stack.
	admin, err := cp.UserConfig("sdrs-local-admin", "system:masters")
	if err != nil {
		return nil, fmt.Errorf("cannot add the admin user: %w", err)
	}
	akc, err := localrun.Kubeconfig(admin, contextName, samplesNamespace)
	if err != nil {
		return nil, err
	}
	kcPath, envPath := filepath.Join(dir, kubeconfigFile), filepath.Join(dir, emulatorEnvFile)
	td.push(func(time.Duration) {
		for _, f := range []string{kcPath, envPath, mkcPath} {
			_ = os.Remove(f)
		}
	})
	if err := writeFileAtomic(envPath, envFile(emulatorEnv(emu, provider.region), envPath), 0o600); err != nil {
		return nil, err
	}
	if err := writeFileAtomic(kcPath, akc, 0o600); err != nil {
		return nil, err
	}
	log.Plain(banner(root, kcPath, envPath, o.binDir, mgr.MetricsURL))
	log.Plain(readyLine + "\n")
	return s, nil
}
