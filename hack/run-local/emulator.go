package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/sdrs-operator/sdrs-operator/internal/emutest"
	"github.com/sdrs-operator/sdrs-operator/internal/localrun"
)

// demoGroups are the SDRS groups run-local seeds, keyed by the sample
// ProtectionGroup that adopts each. They start as a healthy estate looks:
// protected, replication active, production servers running and the DR
// servers stopped; the three OS types show their different login notes.
var demoGroups = func() map[string]emutest.Group {
	protected := true
	group := func(name, description string, instances ...emutest.Instance) emutest.Group {
		return emutest.Group{
			Name: name, Description: description,
			SourceAvailabilityZone: "cn-north-4a", TargetAvailabilityZone: "cn-north-4b", PriorityStation: "source",
			Protected: &protected, ReplicationStatus: "active", Instances: instances,
		}
	}
	server := func(name, osType string) emutest.Instance {
		return emutest.Instance{Name: name, OSType: osType, ProductionPower: "ACTIVE", DRPower: "SHUTOFF"}
	}
	return map[string]emutest.Group{
		"web":   group("demo-web", "Web front ends", server("web-1", "Linux"), server("web-2", "Linux")),
		"erp":   group("demo-erp", "ERP application and database", server("erp-app", "Windows"), server("erp-db", "Linux")),
		"files": group("demo-files", "File servers", server("files-1", "CoreOS")),
	}
}()

type emulatorConfig struct {
	bin, stateFile, logFile string
	sdrsPort, ecsPort       int
	projectID               string
	jobDuration, syncDur    time.Duration
	profile                 string // --profile; "" is the emulator's default
}

// startEmulator starts sdrs-emulator with fresh credentials on the given
// ports (0: any free port).
func startEmulator(c emulatorConfig, console io.Writer) (*localrun.Emulator, error) {
	return localrun.StartEmulator(localrun.EmulatorOptions{
		Bin: c.bin, Name: "emulator", LogFile: c.logFile, Output: console, Prefix: "[emulator] ",
		SDRSAddr:  "127.0.0.1:" + strconv.Itoa(c.sdrsPort),
		ECSAddr:   "127.0.0.1:" + strconv.Itoa(c.ecsPort),
		ProjectID: c.projectID, JobDuration: c.jobDuration, SyncDuration: c.syncDur,
		StateFile: c.stateFile, Profile: c.profile,
	})
}

// seed creates the demo groups and returns their IDs by sample name.
func seed(ctx context.Context, emu *localrun.Emulator) (map[string]string, error) {
	names := []string{"web", "erp", "files"}
	var groups []emutest.Group
	for _, n := range names {
		groups = append(groups, demoGroups[n])
	}
	seeded, err := emu.Admin.Seed(ctx, groups...)
	if err != nil {
		return nil, fmt.Errorf("cannot seed the demo groups: %w", err)
	}
	byGroupName := map[string]string{}
	for _, g := range seeded {
		byGroupName[g.Name] = g.ID
	}
	ids := map[string]string{}
	for _, n := range names {
		id := byGroupName[demoGroups[n].Name]
		if id == "" {
			return nil, fmt.Errorf("the emulator's seed answer lacks group %s", demoGroups[n].Name)
		}
		ids[n] = id
	}
	return ids, nil
}

// emulatorEnv is what .local/emulator.env holds, for scripts and the SDK.
func emulatorEnv(emu *localrun.Emulator, region string) map[string]string {
	o := emu.Options()
	return map[string]string{
		"SDRS_ENDPOINT":     emu.SDRSURL,
		"SDRS_ECS_ENDPOINT": emu.ECSURL,
		"SDRS_REGION":       region,
		"SDRS_PROJECT_ID":   o.ProjectID,
		"SDRS_ACCESS_KEY":   o.AccessKey,
		"SDRS_SECRET_KEY":   o.SecretKey,
	}
}
