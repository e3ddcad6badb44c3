package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"strconv"
	"time"

	"github.com/sdrs-operator/sdrs-operator/internal/localrun"
)

// emulatorListenTimeout bounds the wait for the emulator's listen lines.
const emulatorListenTimeout = 30 * time.Second

var (
	sdrsListening = regexp.MustCompile(`msg="SDRS API listening".*\baddr=(\S+)`)
	ecsListening  = regexp.MustCompile(`msg="ECS API listening".*\baddr=(\S+)`)
)

// seedGroup and seedInstance are the emulator's seed JSON (POST /admin/seed,
// see docs/emulator.md).
type seedGroup struct {
	Name              string         `json:"name"`
	Description       string         `json:"description"`
	SourceAZ          string         `json:"source_availability_zone"`
	TargetAZ          string         `json:"target_availability_zone"`
	PriorityStation   string         `json:"priority_station"`
	Protected         bool           `json:"protected"`
	ReplicationStatus string         `json:"replication_status"`
	Instances         []seedInstance `json:"instances"`
}

type seedInstance struct {
	Name            string `json:"name"`
	OSType          string `json:"os_type"`
	ProductionPower string `json:"production_power"`
	DRPower         string `json:"dr_power"`
}

// demoGroups are the SDRS groups run-local seeds, keyed by the sample
// ProtectionGroup that adopts each. They start as a healthy estate looks:
// protected, replication active, production servers running and the DR
// servers stopped; the three OS types show their different login notes.
var demoGroups = map[string]seedGroup{
	"web": {
		Name: "demo-web", Description: "Web front ends",
		SourceAZ: "cn-north-4a", TargetAZ: "cn-north-4b", PriorityStation: "source",
		Protected: true, ReplicationStatus: "active",
		Instances: []seedInstance{
			{Name: "web-1", OSType: "Linux", ProductionPower: "ACTIVE", DRPower: "SHUTOFF"},
			{Name: "web-2", OSType: "Linux", ProductionPower: "ACTIVE", DRPower: "SHUTOFF"},
		},
	},
	"erp": {
		Name: "demo-erp", Description: "ERP application and database",
		SourceAZ: "cn-north-4a", TargetAZ: "cn-north-4b", PriorityStation: "source",
		Protected: true, ReplicationStatus: "active",
		Instances: []seedInstance{
			{Name: "erp-app", OSType: "Windows", ProductionPower: "ACTIVE", DRPower: "SHUTOFF"},
			{Name: "erp-db", OSType: "Linux", ProductionPower: "ACTIVE", DRPower: "SHUTOFF"},
		},
	},
	"files": {
		Name: "demo-files", Description: "File servers",
		SourceAZ: "cn-north-4a", TargetAZ: "cn-north-4b", PriorityStation: "source",
		Protected: true, ReplicationStatus: "active",
		Instances: []seedInstance{
			{Name: "files-1", OSType: "CoreOS", ProductionPower: "ACTIVE", DRPower: "SHUTOFF"},
		},
	},
}

type emulator struct {
	proc                 *localrun.Process
	sdrsURL, ecsURL      string
	projectID, region    string
	accessKey, secretKey string
}

type emulatorConfig struct {
	bin, stateFile, logFile string
	sdrsPort, ecsPort       int
	projectID, region       string
	jobDuration, syncDur    time.Duration
	profile                 string // --profile; "" is the emulator's default
}

// startEmulator starts sdrs-emulator with fresh credentials and reads the
// addresses it really listens on from its log, so port 0 works.
func startEmulator(ctx context.Context, c emulatorConfig, console io.Writer) (*emulator, error) {
	e := &emulator{projectID: c.projectID, region: c.region, accessKey: randomKey(20), secretKey: randomKey(40)}
	args := []string{
		"--listen", "127.0.0.1:" + strconv.Itoa(c.sdrsPort),
		"--ecs-listen", "127.0.0.1:" + strconv.Itoa(c.ecsPort),
		"--project-id", c.projectID,
		"--access-key", e.accessKey,
		"--job-duration", c.jobDuration.String(),
		"--sync-duration", c.syncDur.String(),
		"--state-file", c.stateFile,
	}
	if c.profile != "" {
		args = append(args, "--profile", c.profile)
	}
	p, err := localrun.Start(localrun.Options{
		Name: "emulator",
		Path: c.bin,
		Args: args,
		// The secret key goes through the environment, not the command
		// line, so it does not show in process listings.
		Env:     []string{"SDRS_SECRET_KEY=" + e.secretKey},
		Prefix:  "[emulator] ",
		Output:  console,
		LogFile: c.logFile,
	})
	if err != nil {
		return nil, err
	}
	e.proc = p
	wctx, cancel := context.WithTimeout(ctx, emulatorListenTimeout)
	defer cancel()
	for _, w := range []struct {
		re  *regexp.Regexp
		dst *string
	}{{sdrsListening, &e.sdrsURL}, {ecsListening, &e.ecsURL}} {
		m, err := p.Lines().Wait(wctx, w.re)
		if err != nil {
			return e, fmt.Errorf("the emulator did not report its listen address (see %s): %w", filepath.Base(c.logFile), err)
		}
		*w.dst = "http://" + m[1]
	}
	return e, nil
}

// seed creates the demo groups and returns their IDs by sample name.
func (e *emulator) seed(ctx context.Context) (map[string]string, error) {
	names := []string{"web", "erp", "files"}
	req := struct {
		Groups []seedGroup `json:"groups"`
	}{}
	for _, n := range names {
		req.Groups = append(req.Groups, demoGroups[n])
	}
	var resp struct {
		Groups []struct {
			ID   string `json:"id"`
			Name string `json:"name"`
		} `json:"groups"`
	}
	if err := postJSON(ctx, e.sdrsURL+"/admin/seed", req, &resp); err != nil {
		return nil, fmt.Errorf("cannot seed the demo groups: %w", err)
	}
	byGroupName := map[string]string{}
	for _, g := range resp.Groups {
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

func postJSON(ctx context.Context, url string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("POST %s: %s: %s", url, resp.Status, bytes.TrimSpace(b))
	}
	return json.Unmarshal(b, out)
}

// env is what .local/emulator.env holds, for scripts and the SDK.
func (e *emulator) env() map[string]string {
	return map[string]string{
		"SDRS_ENDPOINT":     e.sdrsURL,
		"SDRS_ECS_ENDPOINT": e.ecsURL,
		"SDRS_REGION":       e.region,
		"SDRS_PROJECT_ID":   e.projectID,
		"SDRS_ACCESS_KEY":   e.accessKey,
		"SDRS_SECRET_KEY":   e.secretKey,
	}
}

// randomKey makes throwaway AK/SK-shaped credentials for this run only.
func randomKey(n int) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	b := make([]byte, n)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}
