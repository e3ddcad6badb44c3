package plan

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	k8swait "k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	drv1alpha1 "github.com/sdrs-operator/sdrs-operator/api/v1alpha1"
	"github.com/sdrs-operator/sdrs-operator/internal/plugin/cli"
)

// DecideOptions are the flags of approve, retry, skip and abort.
type DecideOptions struct {
	Common
	Action drv1alpha1.DecisionAction
	// Step is <wave>/<step>; Member a ProtectionGroup. At most one.
	Step   string
	Member string
	// Run is the run the decision answers; empty means status.run.id.
	Run string
	// Note is for the audit; empty means DefaultNote.
	Note string
	// User is who the kubeconfig connects as, for the default note.
	User string
}

// Validate checks the flags before anything is read; the API server's CEL
// rules say the same, but a refusal here names the flag.
func (o *DecideOptions) Validate() error {
	verb := strings.ToLower(string(o.Action))
	if err := o.validate(verb); err != nil {
		return err
	}
	if o.Run != "" && !runPattern.MatchString(o.Run) {
		return cli.Usagef("--run must name a run as status.run.id does, e.g. r-0003, not %q", o.Run)
	}
	if o.Step != "" && !stepPattern.MatchString(o.Step) {
		return cli.Usagef("--step must be <wave>/<step> (lower-case names, e.g. db/confirm), not %q", o.Step)
	}
	if o.Step != "" && o.Member != "" {
		return cli.Usagef("a decision names a step or a member, not both: give --step or --member")
	}
	if len(o.Note) > 1024 {
		return cli.Usagef("--note is at most 1024 characters")
	}
	switch o.Action {
	case drv1alpha1.DecisionApprove, drv1alpha1.DecisionRetry:
	case drv1alpha1.DecisionSkip:
		if o.Step == "" && o.Member == "" {
			return cli.Usagef("plan skip needs --step <wave>/<step> or --member <group>: a run is never skipped whole (abort it instead)")
		}
	case drv1alpha1.DecisionAbort:
		if o.Step != "" || o.Member != "" {
			return cli.Usagef("abort ends the whole run: it names neither a step nor a member")
		}
	default:
		return cli.Usagef("unknown decision %q", o.Action)
	}
	return nil
}

// DefaultNote is the note of a decision made without --note: the tool,
// who the kubeconfig connects as (when known) and when.
func DefaultNote(user string, now time.Time) string {
	s := "kubectl sdrs"
	if user != "" {
		s += " by " + user
	}
	return s + " at " + now.UTC().Format(time.RFC3339)
}

// conflictBackoff paces the re-reads after a conflicting write: another
// decision or the controller's own spec reads raced ours.
var conflictBackoff = k8swait.Backoff{Steps: 10, Duration: 20 * time.Millisecond, Factor: 1.5, Jitter: 0.5}

// appendResult is what one attempt of Decide prepared.
type appendResult struct {
	decision drv1alpha1.PlanDecision
	// chosen says how the step was picked when --step was not given.
	chosen string
	// unchanged, when set, says why nothing is sent.
	unchanged string
	warnings  []string
	dropped   []drv1alpha1.PlanDecision
	data      []byte
	before    snapshot
	site      drv1alpha1.Site
	count     int
}

// snapshot is what the run showed of the decision's target before it.
type snapshot struct {
	applied   int
	stepPhase drv1alpha1.StepPhase
	attempt   int32
}

// Decide appends one decision for the plan's run to spec.decisions and,
// with --wait, follows the run until it has used it and stopped again.
// The list is atomic, so the append is a read, an append and a write
// with the resourceVersion read as a precondition: a concurrent append
// makes the write conflict, and the whole is done again from a new read,
// so that no decision is lost.
func Decide(ctx context.Context, env *cli.Env, o DecideOptions) error {
	if err := o.Validate(); err != nil {
		return err
	}
	note := o.Note
	if note == "" {
		note = DefaultNote(o.User, env.Now())
	}
	var (
		res      *appendResult
		conflict int
		patched  bool // the last error, if any, is the patch's
	)
	err := retry.RetryOnConflict(conflictBackoff, func() error {
		patched = false
		p, err := getPlan(ctx, env, o.Name)
		if err != nil {
			return err
		}
		r, err := prepare(ctx, env, p, o, note)
		if err != nil {
			return err
		}
		res = r
		if r.unchanged != "" || o.DryRun == cli.DryRunClient {
			return nil
		}
		var opts []client.PatchOption
		if o.DryRun == cli.DryRunServer {
			opts = append(opts, client.DryRunAll)
		}
		patched = true
		err = env.Client.Patch(ctx, p, client.RawPatch(types.MergePatchType, r.data), opts...)
		if apierrors.IsConflict(err) {
			conflict++
		}
		return err
	})
	if err != nil {
		if !patched {
			return err // a read error or a refusal, as it came
		}
		if apierrors.IsConflict(err) {
			return fmt.Errorf("cannot append the decision: the plan kept changing under this command (%d conflicting writes): %w", conflict, err)
		}
		if o.dryRun() {
			return fmt.Errorf("the API server refused the patch (dry run): %w", err)
		}
		return fmt.Errorf("cannot patch: %w", err)
	}
	ref := Ref(o.Name)
	for _, w := range res.warnings {
		fmt.Fprintf(env.ErrOut, "Warning: %s: %s\n", ref, w)
	}
	d := res.decision
	switch {
	case res.unchanged != "":
		fmt.Fprintf(env.Out, "%s unchanged: %s\n", ref, res.unchanged)
	case o.dryRun():
		fmt.Fprintf(env.Out, "%s would be patched (dry run: %s)\n", ref, o.DryRun)
	default:
		fmt.Fprintf(env.Out, "%s patched\n", ref)
	}
	if res.unchanged == "" {
		fmt.Fprintf(env.Out, "  spec.decisions: + %s (note %q)\n", decisionWords(d), d.Note)
		if res.chosen != "" {
			fmt.Fprintf(env.Out, "  %s\n", res.chosen)
		}
		if len(res.dropped) > 0 {
			fmt.Fprintf(env.Out, "  spec.decisions was full (%d): dropped the %d oldest decisions of other runs (%s)\n",
				MaxDecisions, len(res.dropped), strings.Join(runsOf(res.dropped), ", "))
		}
		if conflict > 0 {
			fmt.Fprintf(env.Out, "  the plan changed while appending (%d conflicting writes): read again and appended to the newer list\n", conflict)
		}
		if o.dryRun() {
			fmt.Fprintf(env.Out, "  patch: %s\n", res.data)
		}
	}
	if !o.Wait {
		return nil
	}
	return waitPlan(ctx, env, o.Name, o.Common, decideAfter(d, res.site, res.before))
}

// prepare checks the decision against the plan as read and renders the
// patch that appends it.
func prepare(ctx context.Context, env *cli.Env, p *drv1alpha1.DRPlan, o DecideOptions, note string) (*appendResult, error) {
	run := p.Status.Run
	res := &appendResult{site: p.Spec.DesiredActiveSite}
	runID := o.Run
	if runID == "" {
		if run == nil {
			return nil, cli.Usagef("%s has no run yet: there is nothing to %s (kubectl sdrs plan status %s -n %s)",
				Ref(p.Name), strings.ToLower(string(o.Action)), p.Name, p.Namespace)
		}
		runID = run.ID
	}
	// cur is the run status the decision answers; nil when --run names
	// an earlier run (only the history shows it) or the next one.
	var cur *drv1alpha1.PlanRun
	if run != nil && run.ID == runID {
		cur = run
	} else if !slices.ContainsFunc(p.Status.History, func(h drv1alpha1.PlanRunRecord) bool { return h.ID == runID }) {
		// The controller takes decisions for any run up to the next one,
		// and marks the plan not Valid for a later one.
		next := nextRun(p)
		switch n := runNumber(runID); {
		case n > runNumber(next):
			return nil, cli.Usagef("%s shows no run %s, and the next run is %s: a decision naming a later run makes the plan not Valid",
				Ref(p.Name), runID, next)
		case n == runNumber(next):
			res.warnings = append(res.warnings, fmt.Sprintf("run %s has not started yet: the decision waits for it", runID))
		default:
			res.warnings = append(res.warnings, fmt.Sprintf("run %s is over: this decision does not answer the current run", runID))
		}
	} else {
		res.warnings = append(res.warnings, fmt.Sprintf("run %s is over: this decision does not answer the current run", runID))
	}
	d := drv1alpha1.PlanDecision{Run: runID, Step: o.Step, Member: o.Member, Action: o.Action, Note: note}
	if d.Action == drv1alpha1.DecisionApprove && d.Step == "" {
		step, err := theWaitingStep(p, cur)
		if err != nil {
			return nil, err
		}
		d.Step = step.ref
		res.chosen = fmt.Sprintf("step %s: the one step waiting for approval (%s)", step.ref, orDash(step.status.Message))
	}
	if d.Action == drv1alpha1.DecisionApprove && cur != nil && cur.ID == runID {
		// Approving a step the run already took an approval for changes
		// nothing, so a runbook pasted twice does not fail the second time.
		for _, a := range cur.Decisions {
			if a.Action == drv1alpha1.DecisionApprove && a.Step == d.Step {
				res.decision = d
				res.unchanged = fmt.Sprintf("step %s of run %s is already approved (%s)", d.Step, runID, orDash(a.Note))
				return res, nil
			}
		}
	}
	if d.Step != "" {
		s, err := checkStep(p, cur, d)
		if err != nil {
			return nil, err
		}
		if s != nil {
			res.before.stepPhase, res.before.attempt = s.Phase, s.Attempt
			if d.Action != drv1alpha1.DecisionApprove && (s.Phase == drv1alpha1.StepSucceeded || s.Phase == drv1alpha1.StepSkipped) {
				res.warnings = append(res.warnings, fmt.Sprintf("step %s is already %s in run %s: the decision may never be used", d.Step, s.Phase, runID))
			}
		}
	}
	if d.Member != "" {
		res.warnings = append(res.warnings, checkMember(ctx, env, p, cur, d.Member)...)
	}
	if d.Action == drv1alpha1.DecisionRetry && d.Step == "" && d.Member == "" && cur != nil && !cur.Phase.Finished() && cur.Phase != drv1alpha1.PlanBlocked {
		res.warnings = append(res.warnings, fmt.Sprintf("a Retry without --step or --member starts a new run after a finished one; run %s is %s", cur.ID, cur.Phase))
	}
	if managedByArgoCD(p) {
		res.warnings = append(res.warnings, "managed by Argo CD: add the decision in Git too (or have Argo CD ignore spec.decisions), or Argo CD will revert it")
	}
	res.decision = d
	res.before.applied = appliedCount(cur, d)
	if specCount(p, d) > res.before.applied {
		res.unchanged = fmt.Sprintf("spec.decisions already holds %s, not used yet", decisionWords(d))
		return res, nil
	}
	list := append(slices.Clone(p.Spec.Decisions), d)
	if len(list) > MaxDecisions {
		var kept []drv1alpha1.PlanDecision
		excess := len(list) - MaxDecisions
		keep := func(x drv1alpha1.PlanDecision) bool { return x.Run == runID || run != nil && x.Run == run.ID }
		for _, x := range list {
			if excess > 0 && !keep(x) {
				res.dropped = append(res.dropped, x)
				excess--
				continue
			}
			kept = append(kept, x)
		}
		if excess > 0 {
			return nil, cli.Usagef("spec.decisions is full (%d decisions, all for run %s): none can be dropped to make room; remove used ones by hand (kubectl edit drplan %s -n %s)",
				MaxDecisions, runID, p.Name, p.Namespace)
		}
		list = kept
	}
	res.count = len(list)
	body := map[string]any{
		// The resourceVersion makes the API server refuse the write
		// (409 Conflict) if the list changed since it was read.
		"metadata": map[string]any{"resourceVersion": p.ResourceVersion},
		"spec":     map[string]any{"decisions": list},
	}
	data, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	res.data = data
	return res, nil
}

// nextRun is the id the plan's next run gets: one above its current run
// and its history, as the controller numbers them.
func nextRun(p *drv1alpha1.DRPlan) string {
	n := 0
	if p.Status.Run != nil {
		n = runNumber(p.Status.Run.ID)
	}
	for _, h := range p.Status.History {
		n = max(n, runNumber(h.ID))
	}
	return fmt.Sprintf("r-%04d", n+1)
}

// theWaitingStep is the step approve picks without --step: the one step
// of the run waiting for approval, else a refusal naming the candidates.
func theWaitingStep(p *drv1alpha1.DRPlan, cur *drv1alpha1.PlanRun) (waitingStep, error) {
	if cur == nil {
		return waitingStep{}, cli.Usagef("name the step to approve with --step <wave>/<step>")
	}
	ws := waitingSteps(cur)
	switch len(ws) {
	case 1:
		return ws[0], nil
	case 0:
		return waitingStep{}, cli.Usagef("no step of run %s waits for approval (the run is %s): to approve one ahead, name it with --step <wave>/<step>",
			cur.ID, orDash(string(cur.Phase)))
	}
	return waitingStep{}, cli.Usagef("%d steps of run %s wait for approval: %s; name one with --step (e.g. %s)",
		len(ws), cur.ID, refs(ws), approveCommand(p, ws[0].ref))
}

// checkStep refuses a step the run does not show: its wave must be in
// status.run.waves and the step among that wave's steps. When the run
// lists no steps for the wave (it has not started it, or names an
// earlier run), the plan's spec says which steps the wave has. Approve
// takes approval steps only, not yet passed. It returns the step's
// status when the run shows it.
func checkStep(p *drv1alpha1.DRPlan, cur *drv1alpha1.PlanRun, d drv1alpha1.PlanDecision) (*drv1alpha1.PlanStepStatus, error) {
	wave, name, _ := strings.Cut(d.Step, "/")
	approve := d.Action == drv1alpha1.DecisionApprove
	if cur != nil && len(cur.Waves) > 0 {
		i := slices.IndexFunc(cur.Waves, func(w drv1alpha1.PlanWaveStatus) bool { return w.Name == wave })
		if i < 0 {
			names := make([]string, len(cur.Waves))
			for j, w := range cur.Waves {
				names[j] = w.Name
			}
			return nil, cli.Usagef("run %s has no wave %q (its waves: %s)", cur.ID, wave, strings.Join(names, ", "))
		}
		w := &cur.Waves[i]
		if len(w.Steps) > 0 {
			j := slices.IndexFunc(w.Steps, func(s drv1alpha1.PlanStepStatus) bool { return s.Name == name })
			if j < 0 {
				names := make([]string, len(w.Steps))
				for k, s := range w.Steps {
					names[k] = s.Name
				}
				return nil, cli.Usagef("wave %s of run %s has no step %q (its steps: %s)", wave, cur.ID, name, strings.Join(names, ", "))
			}
			s := &w.Steps[j]
			if approve && s.Type != "" && s.Type != "approval" {
				return nil, cli.Usagef("step %s is a %s step, not an approval: approve passes approval steps only (retry or skip it instead)", d.Step, s.Type)
			}
			if approve && (s.Phase == drv1alpha1.StepSucceeded || s.Phase == drv1alpha1.StepSkipped) {
				return nil, cli.Usagef("step %s of run %s is already %s: there is nothing to approve", d.Step, cur.ID, s.Phase)
			}
			return s, nil
		}
	}
	i := slices.IndexFunc(p.Spec.Waves, func(w drv1alpha1.PlanWave) bool { return w.Name == wave })
	if i < 0 {
		return nil, cli.Usagef("the plan has no wave %q", wave)
	}
	w := &p.Spec.Waves[i]
	for _, s := range append(slices.Clone(w.PreSteps), w.PostSteps...) {
		if s.Name != name {
			continue
		}
		if approve && s.Approval == nil {
			return nil, cli.Usagef("step %s is not an approval step: approve passes approval steps only (retry or skip it instead)", d.Step)
		}
		return nil, nil
	}
	return nil, cli.Usagef("wave %s of the plan has no step %q", wave, name)
}

// checkMember warns about a member the decision cannot be checked for:
// the run shows members only among its failures, so any name is taken,
// but one that is not a ProtectionGroup of the plan is likely a typo.
func checkMember(ctx context.Context, env *cli.Env, p *drv1alpha1.DRPlan, cur *drv1alpha1.PlanRun, member string) []string {
	if cur != nil {
		for _, w := range cur.Waves {
			for _, f := range w.Failures {
				if f.Member == member {
					return nil
				}
			}
		}
	}
	var pg drv1alpha1.ProtectionGroup
	err := env.Client.Get(ctx, types.NamespacedName{Namespace: p.Namespace, Name: member}, &pg)
	switch {
	case apierrors.IsNotFound(err):
		return []string{fmt.Sprintf("there is no ProtectionGroup %s in namespace %s: check the name (a decision naming an unknown member makes the plan not Valid)", member, p.Namespace)}
	case err != nil:
		return []string{fmt.Sprintf("cannot check ProtectionGroup %s: %v", member, err)}
	}
	sel, err := metav1.LabelSelectorAsSelector(&p.Spec.Selector)
	if err == nil && !sel.Matches(labels.Set(pg.Labels)) {
		return []string{fmt.Sprintf("ProtectionGroup %s is not selected by the plan (spec.selector): it is not a member (a decision naming it makes the plan not Valid)", member)}
	}
	if cur != nil {
		return []string{fmt.Sprintf("run %s shows no failure of member %s", cur.ID, member)}
	}
	return nil
}

// sameTarget says whether two decisions name the same thing.
func sameTarget(step, member string, action drv1alpha1.DecisionAction, d drv1alpha1.PlanDecision) bool {
	return step == d.Step && member == d.Member && action == d.Action
}

// specCount counts the decisions in spec like d (same run, target and
// action).
func specCount(p *drv1alpha1.DRPlan, d drv1alpha1.PlanDecision) int {
	n := 0
	for _, x := range p.Spec.Decisions {
		if x.Run == d.Run && sameTarget(x.Step, x.Member, x.Action, d) {
			n++
		}
	}
	return n
}

// appliedCount counts the decisions like d the run has used.
func appliedCount(run *drv1alpha1.PlanRun, d drv1alpha1.PlanDecision) int {
	if run == nil || run.ID != d.Run {
		return 0
	}
	n := 0
	for _, x := range run.Decisions {
		if sameTarget(x.Step, x.Member, x.Action, d) {
			n++
		}
	}
	return n
}

// decisionWords is e.g. "Approve db/confirm for run r-0003".
func decisionWords(d drv1alpha1.PlanDecision) string {
	s := string(d.Action)
	switch {
	case d.Step != "":
		s += " step " + d.Step
	case d.Member != "":
		s += " member " + d.Member
	}
	return s + " for run " + d.Run
}

func runsOf(ds []drv1alpha1.PlanDecision) []string {
	var out []string
	for _, d := range ds {
		if !slices.Contains(out, d.Run) {
			out = append(out, d.Run)
		}
	}
	return out
}

// decideAfter is the --wait of the decision verbs: wait until the run has
// used the decision (status.run.decisions records it, or the run shows
// its effect, or a later run started), then until the run stops again.
func decideAfter(d drv1alpha1.PlanDecision, site drv1alpha1.Site, before snapshot) decider {
	abort := d.Action == drv1alpha1.DecisionAbort
	return func(p *drv1alpha1.DRPlan) verdict {
		if p.Spec.DesiredActiveSite != site {
			return siteChanged(p, site)
		}
		run := p.Status.Run
		if run == nil {
			return verdict{outcome: waiting, line: "waiting for the controller to report the run"}
		}
		if !used(run, d, before) {
			if abort && run.ID == d.Run && run.Phase.Finished() {
				// Over before the abort was used: nothing is left to end.
				return runVerdict(p, run, true)
			}
			return verdict{outcome: waiting, line: fmt.Sprintf("waiting for the controller to use %s; %s", decisionWords(d), runLine(run, ""))}
		}
		if abort && !run.Phase.Finished() {
			return verdict{outcome: waiting, line: runLine(run, "")}
		}
		return runVerdict(p, run, abort)
	}
}

// used says whether run shows that decision d was used.
func used(run *drv1alpha1.PlanRun, d drv1alpha1.PlanDecision, before snapshot) bool {
	if runNumber(run.ID) > runNumber(d.Run) {
		return true // a later run: the one d answered is over
	}
	if run.ID != d.Run {
		return false
	}
	if appliedCount(run, d) > before.applied {
		return true
	}
	// The record is the contract; the step's state is a second witness.
	if d.Step != "" {
		wave, name, _ := strings.Cut(d.Step, "/")
		for _, w := range run.Waves {
			if w.Name != wave {
				continue
			}
			for _, s := range w.Steps {
				if s.Name != name {
					continue
				}
				switch d.Action {
				case drv1alpha1.DecisionApprove:
					return s.Phase != before.stepPhase && (s.Phase == drv1alpha1.StepSucceeded || s.Phase == drv1alpha1.StepSkipped)
				case drv1alpha1.DecisionSkip:
					return s.Phase != before.stepPhase && s.Phase == drv1alpha1.StepSkipped
				case drv1alpha1.DecisionRetry:
					return s.Attempt > before.attempt
				}
			}
		}
	}
	return d.Action == drv1alpha1.DecisionAbort && run.Phase == drv1alpha1.PlanAborted
}
