package main

// The dashboard's content: rows of panels, each with the question it
// answers at 3 a.m. (its description), its PromQL and the alert it goes
// with. dashboard.go turns these into Grafana panels; docs/dashboard.md
// describes each one, and the tests check both against internal/metrics.

// ns selects the namespaces picked in the dashboard's namespace variable. It
// applies only to metrics that carry the ProtectionGroup's, drill's or
// plan's namespace; the fleet-wide ones (operations, cloud API calls,
// rpo_exceeded_pairs) have no such label.
//
// The panels use the fleet-level series the manager always exports
// (groups counted per namespace). The tables that name groups add a query
// on the per-group series, which return rows only when the manager runs
// with --metrics-per-group; their namespace counts answer without it.
const ns = `namespace=~"$namespace"`

type panelKind int

const (
	statPanel panelKind = iota
	timeseriesPanel
	tablePanel
	bargaugePanel
)

type query struct {
	expr   string
	legend string
	// instant asks for one value at the end of the range (stat, table and
	// bar gauge panels of current state); otherwise a range query.
	instant bool
}

type panelSpec struct {
	kind        panelKind
	title       string
	description string
	unit        string
	width       uint32
	height      uint32
	// red is the value from which a stat or bar gauge turns red; 0 keeps
	// the default palette.
	red     float64
	queries []query
}

type rowSpec struct {
	title string
	// collapsed rows load their queries only when opened: drills and plans
	// are optional features, and the cloud API row is for digging deeper.
	collapsed bool
	panels    []panelSpec
}

var rows = []rowSpec{
	{
		title: "Fleet",
		panels: []panelSpec{
			{
				kind:  statPanel,
				title: "Groups by active site",
				description: "Where does production run now? The count of ProtectionGroups served from each site " +
					"(source or target; unknown before the operator has seen the SDRS group). During a region failover, " +
					"watch target grow as source shrinks; when the failover is done every group you moved is counted under target.",
				width: 6, height: 5,
				queries: []query{{expr: `sum by (active_site) (sdrs_operator_protectiongroups{` + ns + `})`, legend: "{{active_site}}", instant: true}},
			},
			{
				kind:        timeseriesPanel,
				title:       "Active site over time",
				description: "When did the groups move? The same count over time: a step shows when each batch of groups changed site.",
				width:       6, height: 5,
				queries: []query{{expr: `sum by (active_site) (sdrs_operator_protectiongroups{` + ns + `})`, legend: "{{active_site}}"}},
			},
			{
				kind:  statPanel,
				title: "Groups not Ready",
				description: "How many groups are not where their spec says, or still have work in flight? Ready is not " +
					"True while a failover runs, so this rises during a planned move and must come back to 0. " +
					"Groups that stay here need a look (see the table on the right).",
				width: 4, height: 5, red: 1,
				queries: []query{{expr: `sum(sdrs_operator_protectiongroups_condition{` + ns + `,type="Ready",status!="True"})`, legend: "not Ready", instant: true}},
			},
			{
				kind:  statPanel,
				title: "Groups Stalled",
				description: "How many groups wait for a person? Stalled is True after a failed SDRS job, bad credentials " +
					"or a precondition that will not resolve by itself; the operator does not retry these. " +
					"Alert: SDRSProtectionGroupStalled.",
				width: 4, height: 5, red: 1,
				queries: []query{{expr: `sum(sdrs_operator_protectiongroups_condition{` + ns + `,type="Stalled",status="True"})`, legend: "Stalled", instant: true}},
			},
			{
				kind:  tablePanel,
				title: "Groups that need attention",
				description: "Which groups? The namespaces with groups Stalled or not Ready, and how many, for " +
					"kubectl get pg -n NAMESPACE; with --metrics-per-group, every such group by name too. A group Stalled " +
					"needs a person; one only not Ready is usually mid-operation.",
				width: 4, height: 5,
				queries: []query{
					{
						expr: `sum by (namespace, type) (sdrs_operator_protectiongroups_condition{` + ns + `,type="Stalled",status="True"}) > 0` +
							` or sum by (namespace, type) (sdrs_operator_protectiongroups_condition{` + ns + `,type="Ready",status!="True"}) > 0`,
						legend: "{{namespace}} {{type}}", instant: true,
					},
					{
						expr: `sdrs_operator_protectiongroup_condition{` + ns + `,type="Stalled",status="True"} == 1` +
							` or sdrs_operator_protectiongroup_condition{` + ns + `,type="Ready",status="True"} == 0`,
						legend: "{{namespace}}/{{name}} {{type}}", instant: true,
					},
				},
			},
		},
	},
	{
		title: "Operations",
		panels: []panelSpec{
			{
				kind:  timeseriesPanel,
				title: "Operations in flight by type",
				description: "What is the operator doing right now? Groups with an SDRS operation in flight, by type " +
					"(PlannedFailover, Failover, Reprotect, ...). In a fleet failover the line jumps to the groups moving and falls as they finish.",
				width: 6, height: 8,
				queries: []query{{expr: `sum by (type) (sdrs_operator_operations_in_flight)`, legend: "{{type}}"}},
			},
			{
				kind:  timeseriesPanel,
				title: "Oldest operation in flight",
				description: "Is one operation stuck among many short ones? The age of the oldest operation in flight, " +
					"by type, since its intent was recorded. It falls back when that operation ends; one that keeps " +
					"climbing past the usual duration (the next panel) is stuck. Alert: SDRSJobRunningTooLong (30 minutes).",
				width: 6, height: 8, unit: "s",
				queries: []query{{expr: `max by (type) (sdrs_operator_operation_oldest_age_seconds{` + ns + `})`, legend: "{{type}}"}},
			},
			{
				kind:  timeseriesPanel,
				title: "Operation duration (finished, p50 and p95)",
				description: "How long do operations take, so how long should I wait for the ones in flight? The 50th " +
					"and 95th percentile of the time from an operation's intent to its end, by type, including " +
					"stopping and starting servers. An operation in flight far beyond the p95 deserves a look.",
				width: 6, height: 8, unit: "s",
				queries: []query{
					{expr: `histogram_quantile(0.5, sum by (le, type) (rate(sdrs_operator_operation_duration_seconds_bucket[$__rate_interval])))`, legend: "p50 {{type}}"},
					{expr: `histogram_quantile(0.95, sum by (le, type) (rate(sdrs_operator_operation_duration_seconds_bucket[$__rate_interval])))`, legend: "p95 {{type}}"},
				},
			},
			{
				kind:  timeseriesPanel,
				title: "Operations finished by type and result",
				description: "Is the failover making progress? Operations that ended in each interval, by type and " +
					"result (Succeeded, Failed). During a region failover the Succeeded bars should add up to the groups you moved.",
				width: 6, height: 8,
				queries: []query{{expr: `sum by (type, result) (increase(sdrs_operator_operations_total[$__rate_interval]))`, legend: "{{type}} {{result}}"}},
			},
			{
				kind:  tablePanel,
				title: "Operations in flight, oldest first",
				description: "Which operations are old? The namespaces with an operation in flight and the age of the " +
					"oldest, by type; with --metrics-per-group, every group with one, by name, oldest first.",
				width: 24, height: 6, unit: "s",
				queries: []query{
					{expr: `sort_desc(sdrs_operator_operation_oldest_age_seconds{` + ns + `})`, legend: "{{namespace}} {{type}}", instant: true},
					{expr: `sort_desc(sdrs_operator_operation_age_seconds{` + ns + `})`, legend: "{{namespace}}/{{name}} {{type}}", instant: true},
				},
			},
		},
	},
	{
		title: "Failures by reason",
		panels: []panelSpec{
			{
				kind:  bargaugePanel,
				title: "Failed operations in range by reason",
				description: "What failed, why, and how often, in the time range shown? Failed operations by type, the " +
					"reason they left the group Stalled with (JobFailed, ...) and the SDRS or ECS error code; each stays " +
					"Stalled until someone retries it. Alert: SDRSOperationFailed.",
				width: 8, height: 8, red: 1,
				queries: []query{{expr: `sum by (type, reason, code) (increase(sdrs_operator_operation_failures_total[$__range]))`, legend: "{{type}} {{reason}} {{code}}", instant: true}},
			},
			{
				kind:  timeseriesPanel,
				title: "Cloud API errors by code",
				description: "Why are calls failing? SDRS and ECS errors per second by error code, including calls the " +
					"operator retries. APIGW.03* codes are throttling or authentication, other is a code the operator does not know.",
				width: 8, height: 8, unit: "reqps",
				queries: []query{{expr: `sum by (code) (rate(sdrs_operator_cloud_api_errors_total[$__rate_interval]))`, legend: "{{code}}"}},
			},
			{
				kind:  bargaugePanel,
				title: "Groups by unhealthy condition",
				description: "Which kind of trouble is it? Groups whose Stalled condition is True, or whose Ready, " +
					"Protected, ServersRunning or FailoverReady condition is not True, counted by condition type. " +
					"The reason of each condition is in kubectl describe pg.",
				width: 8, height: 8, red: 1,
				queries: []query{
					{expr: `sum by (type) (sdrs_operator_protectiongroups_condition{` + ns + `,type="Stalled",status="True"})`, legend: "{{type}}", instant: true},
					{expr: `sum by (type) (sdrs_operator_protectiongroups_condition{` + ns + `,type=~"Ready|Protected|ServersRunning|FailoverReady",status!="True"})`, legend: "not {{type}}", instant: true},
				},
			},
		},
	},
	{
		title: "Replication and RPO",
		panels: []panelSpec{
			{
				kind:  statPanel,
				title: "Replication not active",
				description: "Is data still reaching the other site? Groups with protection Enabled whose SDRS " +
					"replication is not active (copying, stopped, error). A failover now could lose more than the RPO. " +
					"Alert: SDRSReplicationNotActive.",
				width: 4, height: 5, red: 1,
				queries: []query{{expr: `sum(sdrs_operator_protectiongroups_replication_inactive{` + ns + `}) or vector(0)`, legend: "not active", instant: true}},
			},
			{
				kind:  statPanel,
				title: "Groups by fault level",
				description: "Can these groups fail over at all? Groups whose worst replication pair reports SDRS " +
					"fault level 2 (only a forced failover, with data loss up to the RPO) or 5 (no failover of any " +
					"kind until the link is repaired). Alert: SDRSFailoverNotAllowed (level 5).",
				width: 5, height: 5, red: 1,
				queries: []query{
					{expr: `sum(sdrs_operator_protectiongroups_fault_level{` + ns + `,level="2"}) or vector(0)`, legend: "level 2: forced only", instant: true},
					{expr: `sum(sdrs_operator_protectiongroups_fault_level{` + ns + `,level="5"}) or vector(0)`, legend: "level 5: none", instant: true},
				},
			},
			{
				kind:  statPanel,
				title: "Groups not FailoverReady",
				description: "If I had to switch over now, which groups could not run a planned failover? Groups whose " +
					"FailoverReady condition is not True; kubectl sdrs check says why for each. " +
					"Alert: SDRSProtectionGroupNotFailoverReady.",
				width: 4, height: 5, red: 1,
				queries: []query{{expr: `sum(sdrs_operator_protectiongroups_condition{` + ns + `,type="FailoverReady",status!="True"})`, legend: "not ready", instant: true}},
			},
			{
				kind:  timeseriesPanel,
				title: "Pairs above their RPO target",
				description: "Are we within the RPO? Replication pairs above their RPO target, per ProviderConfig " +
					"(SDRS counts per project, not per group, so this says how many, not which; the namespace " +
					"variable does not apply). Alert: SDRSRPOAboveTarget.",
				width: 5, height: 5,
				queries: []query{{expr: `sum by (provider_config) (sdrs_operator_rpo_exceeded_pairs)`, legend: "{{provider_config}}"}},
			},
			{
				kind:  tablePanel,
				title: "Groups that cannot fail over cleanly",
				description: "Which groups, exactly? The namespaces with groups not FailoverReady, by status (False or " +
					"Unknown), for kubectl sdrs check -n NAMESPACE --all; with --metrics-per-group, each group by name.",
				width: 6, height: 5,
				queries: []query{
					{expr: `sum by (namespace, status) (sdrs_operator_protectiongroups_condition{` + ns + `,type="FailoverReady",status=~"False|Unknown"}) > 0`, legend: "{{namespace}} {{status}}", instant: true},
					{expr: `sdrs_operator_protectiongroup_condition{` + ns + `,type="FailoverReady",status=~"False|Unknown"} == 1`, legend: "{{namespace}}/{{name}} {{status}}", instant: true},
				},
			},
		},
	},
	{
		title:     "Cloud API",
		collapsed: true,
		panels: []panelSpec{
			{
				kind:  timeseriesPanel,
				title: "Cloud API calls by operation",
				description: "Is the operator talking to SDRS and ECS, and how hard? Calls per second by SDK operation. " +
					"A fleet failover multiplies them; the ProviderConfig's rate limit caps them.",
				width: 8, height: 8, unit: "reqps",
				queries: []query{{expr: `sum by (operation) (rate(sdrs_operator_cloud_api_calls_total[$__rate_interval]))`, legend: "{{operation}}"}},
			},
			{
				kind:        timeseriesPanel,
				title:       "Cloud API error ratio by operation",
				description: "Is one kind of call failing? The share of calls of each SDK operation that failed.",
				width:       8, height: 8, unit: "percentunit",
				queries: []query{{
					expr: `sum by (operation) (rate(sdrs_operator_cloud_api_errors_total[$__rate_interval]))` +
						` / sum by (operation) (rate(sdrs_operator_cloud_api_calls_total[$__rate_interval]))`,
					legend: "{{operation}}",
				}},
			},
			{
				kind:  timeseriesPanel,
				title: "Cloud API latency p95 by operation",
				description: "Is the cloud slow, or are we throttling ourselves? The 95th percentile call latency, " +
					"including the client-side rate-limit wait: a rise across every operation at once is usually the rate limit.",
				width: 8, height: 8, unit: "s",
				queries: []query{{expr: `histogram_quantile(0.95, sum by (le, operation) (rate(sdrs_operator_cloud_api_call_duration_seconds_bucket[$__rate_interval])))`, legend: "{{operation}}"}},
			},
		},
	},
	{
		title:     "Drills",
		collapsed: true,
		panels: []panelSpec{
			{
				kind:  statPanel,
				title: "Groups with drills overdue",
				description: "Which groups have not proved they can fail over lately? Groups whose DrillUpToDate " +
					"condition is False: no passed DR drill within spec.drillInterval (DrillOverdue, or NoDrillPassed). " +
					"Alert: SDRSDrillOverdue.",
				width: 5, height: 5, red: 1,
				queries: []query{{expr: `sum(sdrs_operator_protectiongroups_condition{` + ns + `,type="DrillUpToDate",status="False"})`, legend: "overdue", instant: true}},
			},
			{
				kind:  bargaugePanel,
				title: "Groups by when their drill falls due",
				description: "Which groups need a drill soon? Groups by when their last passed drill stops counting " +
					"(spec.drillInterval after it): overdue, within 7 days, within 30 days, later, or never passed one.",
				width: 7, height: 5,
				queries: []query{{expr: `sum by (due) (sdrs_operator_protectiongroups_drill_due{` + ns + `})`, legend: "{{due}}", instant: true}},
			},
			{
				kind:  statPanel,
				title: "Drill cleanup overdue",
				description: "Are drill servers costing money past their expiry? Drills still not deleted 15 minutes " +
					"after status.expiresAt. Alert: SDRSDrillCleanupOverdue.",
				width: 5, height: 5, red: 1,
				queries: []query{{expr: `sum(sdrs_operator_drill_cleanup_overdue{` + ns + `}) or vector(0)`, legend: "overdue", instant: true}},
			},
			{
				kind:        bargaugePanel,
				title:       "Drills by phase",
				description: "What are the drills doing? ProtectionGroupDrills by phase; a drill stuck in Creating or Releasing, or any Failed, needs kubectl describe pgdrill.",
				width:       7, height: 5,
				queries: []query{{expr: `sum by (phase) (sdrs_operator_drill_phase{` + ns + `})`, legend: "{{phase}}", instant: true}},
			},
			{
				kind:        tablePanel,
				title:       "Drill servers up",
				description: "Which drills have servers running, and for how long? The time since each drill's servers became available.",
				width:       7, height: 5, unit: "s",
				queries: []query{{expr: `sdrs_operator_drill_age_seconds{` + ns + `} > 0`, legend: "{{namespace}}/{{name}}", instant: true}},
			},
			{
				kind:  tablePanel,
				title: "Drill servers expire in",
				description: "When will each drill's servers be deleted? The time left until status.expiresAt, soonest " +
					"first; a negative time is past it (the cleanup is late, see Drill cleanup overdue).",
				width: 7, height: 5, unit: "s",
				queries: []query{{expr: `sort(sdrs_operator_drill_expires_in_seconds{` + ns + `})`, legend: "{{namespace}}/{{name}}", instant: true}},
			},
		},
	},
	{
		title:     "Plans",
		collapsed: true,
		panels: []panelSpec{
			{
				kind:  timeseriesPanel,
				title: "Live runs against their RTO",
				description: "Will the run in progress finish within its RTO? Each live run's elapsed time, climbing, " +
					"and its plan's spec.rto, flat: the run is late where the lines cross. Alert: SDRSDRPlanRunOverRTO.",
				width: 16, height: 8, unit: "s",
				queries: []query{
					{expr: `sdrs_operator_drplan_run_elapsed_seconds{` + ns + `}`, legend: "{{plan}} elapsed"},
					{expr: `sdrs_operator_drplan_rto_seconds{` + ns + `}`, legend: "{{plan}} RTO"},
				},
			},
			{
				kind:  bargaugePanel,
				title: "Share of the RTO used by live runs",
				description: "How much of its RTO has each live run used? Elapsed time over spec.rto; 100% is the RTO, " +
					"red from there. Plans without spec.rto are not shown.",
				width: 8, height: 8, unit: "percentunit", red: 1,
				queries: []query{{expr: `sdrs_operator_drplan_run_elapsed_seconds{` + ns + `} / on (namespace, plan) sdrs_operator_drplan_rto_seconds{` + ns + `}`, legend: "{{plan}}", instant: true}},
			},
			{
				kind:  bargaugePanel,
				title: "Plan members by run state",
				description: "How far along is each DRPlan's run? Members of the live or last run by state (pending, " +
					"inProgress, succeeded, failed, skipped). Alert: SDRSDRPlanRunBlocked (failed members).",
				width: 8, height: 8,
				queries: []query{{expr: `sum by (plan, state) (sdrs_operator_drplan_members{` + ns + `,state=~"pending|inProgress|succeeded|failed|skipped"})`, legend: "{{plan}} {{state}}", instant: true}},
			},
			{
				kind:  statPanel,
				title: "Plans waiting for approval",
				description: "Is a run stopped waiting for me? Plans whose run waits for an Approve decision; nothing " +
					"moves meanwhile and the RTO clock runs. Alert: SDRSDRPlanWaitingForApproval.",
				width: 4, height: 8, red: 1,
				queries: []query{{expr: `sum(sdrs_operator_drplan_waiting_for_approval{` + ns + `}) or vector(0)`, legend: "waiting", instant: true}},
			},
			{
				kind:  statPanel,
				title: "Plan members failed",
				description: "Did members of a run fail? Failed, not skipped members of the plans' live or last runs. " +
					"Alert: SDRSDRPlanRunBlocked.",
				width: 4, height: 8, red: 1,
				queries: []query{{expr: `sum(sdrs_operator_drplan_members{` + ns + `,state="failed"}) or vector(0)`, legend: "failed", instant: true}},
			},
			{
				kind:  bargaugePanel,
				title: "Plan members by site now",
				description: "Where are each plan's members now? Members at the source or target site, diverged " +
					"(moved by this plan, then set to the other site by someone else), held by another plan's live run, or in no wave.",
				width: 8, height: 8,
				queries: []query{{expr: `sum by (plan, state) (sdrs_operator_drplan_members{` + ns + `,state=~"atSource|atTarget|diverged|claimedElsewhere|unassigned"})`, legend: "{{plan}} {{state}}", instant: true}},
			},
			{
				kind:  tablePanel,
				title: "Last run per plan (measured RTO)",
				description: "How long did each plan's last run take, and how did it end? The duration of the last " +
					"finished run, with its mode, the site it moved to and its phase; a run in progress is in Live runs against their RTO. Alert: SDRSDRPlanRunExceededRTO.",
				width: 8, height: 8, unit: "s",
				queries: []query{{expr: `sdrs_operator_drplan_last_run_duration_seconds{` + ns + `}`, legend: "{{plan}}", instant: true}},
			},
			{
				kind:        tablePanel,
				title:       "Last run of each wave",
				description: "Which wave took the time? The duration of each wave's last finished run, approvals and waits included.",
				width:       8, height: 8, unit: "s",
				queries: []query{{expr: `sdrs_operator_drplan_last_wave_duration_seconds{` + ns + `}`, legend: "{{plan}} {{wave}}", instant: true}},
			},
			{
				kind:  bargaugePanel,
				title: "Runs finished in range",
				description: "How many plan runs ended in the time range, by mode (Failover, Drill) and how they ended " +
					"(Succeeded, Failed, Aborted)?",
				width: 8, height: 8,
				queries: []query{{expr: `sum by (mode, phase) (increase(sdrs_operator_drplan_run_duration_seconds_count{` + ns + `}[$__range]))`, legend: "{{mode}} {{phase}}", instant: true}},
			},
		},
	},
}
