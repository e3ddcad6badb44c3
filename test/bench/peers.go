package main

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// The peers section (the runbooks without the operator) sits between these
// markers, so that a -peers-only run rewrites it alone and a full run
// without peers keeps it.
const (
	peersSectionBegin = "<!-- peers section: written by test/bench (peers.go); a -peers-only run replaces only this part -->"
	peersSectionEnd   = "<!-- end of the peers section -->"
	peersHeading      = "## Against a runbook without the operator"
)

// earlierFlip is what a -peers-only run takes from the report's main table:
// the operator's flip time per N, and the run's settings that the peers must
// share for a ratio to mean anything.
type earlierFlip struct {
	Run            string // "2026-12-06 09:42 UTC"
	JobDuration    time.Duration
	CallsPerSecond int
	Burst          int
	RateLimit      string
	LastReady      map[int]time.Duration
	// SDRSPerFailover is the table's SDRS calls per failover.
	SDRSPerFailover map[int]float64
}

var (
	reportRunRe  = regexp.MustCompile(`(?m)^Run (\d{4}-\d{2}-\d{2} \d{2}:\d{2} [A-Z]+), took`)
	reportDRe    = regexp.MustCompile(`D = ([0-9a-zµ.]+)\)`)
	reportRateRe = regexp.MustCompile(`rate limit (\d+) calls/s with burst (\d+)`)
	leadingFloat = regexp.MustCompile(`^\**\s*([0-9.]+)( s|\**$)`)
)

// parseEarlierFlip reads the main table of a report written by markdown:
// nil when it has none.
func parseEarlierFlip(md string) *earlierFlip {
	head, table, ok := strings.Cut(md, "## Failover of the whole fleet\n")
	if !ok {
		return nil
	}
	if i := strings.Index(table, "\n## "); i >= 0 {
		table = table[:i]
	}
	e := &earlierFlip{LastReady: map[int]time.Duration{}, SDRSPerFailover: map[int]float64{}}
	if m := reportRunRe.FindStringSubmatch(head); m != nil {
		e.Run = m[1]
	}
	if m := reportDRe.FindStringSubmatch(head); m != nil {
		e.JobDuration, _ = time.ParseDuration(m[1])
	}
	if m := reportRateRe.FindStringSubmatch(head); m != nil {
		e.CallsPerSecond, _ = strconv.Atoi(m[1])
		e.Burst, _ = strconv.Atoi(m[2])
		e.RateLimit = fmt.Sprintf("%d calls/s, burst %d", e.CallsPerSecond, e.Burst)
	}
	var sizes []int
	for _, line := range strings.Split(table, "\n") {
		cells := tableCells(line)
		if len(cells) < 2 {
			continue
		}
		switch {
		case cells[0] == "" && strings.HasPrefix(cells[1], "N = "):
			sizes = sizes[:0]
			for _, c := range cells[1:] {
				n, err := strconv.Atoi(strings.TrimPrefix(c, "N = "))
				if err != nil {
					return nil
				}
				sizes = append(sizes, n)
			}
		case cells[0] == "**flip → last group Ready**" || cells[0] == "**SDRS calls per failover**":
			for i, c := range cells[1:] {
				m := leadingFloat.FindStringSubmatch(c)
				if m == nil || i >= len(sizes) {
					continue
				}
				v, err := strconv.ParseFloat(m[1], 64)
				switch {
				case err != nil:
				case m[2] == " s":
					e.LastReady[sizes[i]] = time.Duration(v * float64(time.Second))
				default:
					e.SDRSPerFailover[sizes[i]] = v
				}
			}
		}
	}
	if len(e.LastReady) == 0 {
		return nil
	}
	return e
}

// tableCells splits a Markdown table row into its trimmed cells; nil for
// any other line.
func tableCells(line string) []string {
	line = strings.TrimSpace(line)
	if !strings.HasPrefix(line, "|") || !strings.HasSuffix(line, "|") || len(line) < 2 {
		return nil
	}
	parts := strings.Split(line[1:len(line)-1], "|")
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
	}
	return parts
}

// comparable says whether the earlier run had this run's D and rate limit.
func (e *earlierFlip) comparable(o runOptions) bool {
	return e != nil && e.JobDuration == o.JobDuration && e.CallsPerSecond == o.CallsPerSecond && e.Burst == o.Burst
}

// earlierFlipInto gives a -peers-only result the earlier flip time at its N,
// when the earlier run is comparable and had that N.
func (b *benchRun) earlierFlipInto(res *scenarioResult) {
	res.FlipFrom = "none"
	e := b.EarlierFlip
	if !e.comparable(b.Opts) {
		return
	}
	if t, ok := e.LastReady[res.Fleet.N]; ok {
		res.Fleet.LastReady = t
		res.FlipSDRSPerFailover = e.SDRSPerFailover[res.Fleet.N]
		res.FlipFrom = "the main table's run of " + e.Run
	}
}

// sdrsPerFailover is the operator's SDRS calls per failover in the flip the
// peers are compared with (0: unknown).
func (s *scenarioResult) sdrsPerFailover() float64 {
	if s.Fleet.Calls.Total > 0 && s.Fleet.N > 0 {
		return float64(s.Fleet.Calls.SDRS()) / float64(s.Fleet.N)
	}
	return s.FlipSDRSPerFailover
}

// extractPeersSection returns the marked peers section of a report,
// markers and trailing newline included; a report written before the
// markers has the section from its heading to the next one (legacy true).
// "" when it has neither.
func extractPeersSection(md string) (sec string, legacy bool) {
	if sec := extractSection(md, peersSectionBegin, peersSectionEnd); sec != "" {
		return sec, false
	}
	i := strings.Index(md, "\n"+peersHeading+"\n")
	if i < 0 {
		return "", false
	}
	i++
	j := strings.Index(md[i+len(peersHeading):], "\n## ")
	if j < 0 {
		return md[i:], true
	}
	return md[i : i+len(peersHeading)+j+1], true
}

// extractSection returns the part of md from begin to end, both included,
// with end's newline; "" when either is missing.
func extractSection(md, begin, end string) string {
	i := strings.Index(md, begin)
	if i < 0 {
		return ""
	}
	j := strings.Index(md[i:], end)
	if j < 0 {
		return ""
	}
	k := i + j + len(end)
	if k < len(md) && md[k] == '\n' {
		k++
	}
	return md[i:k]
}

// peersDocument is existing with only its peers section replaced by this
// run's (-peers-only); the section goes before the DRPlan section, or at
// the end, when existing has none.
func (b *benchRun) peersDocument(existing string) string {
	sec := b.peersSection()
	if sec == "" {
		return existing
	}
	if old, legacy := extractPeersSection(existing); old != "" {
		if legacy {
			sec += "\n"
		}
		return strings.Replace(existing, old, sec, 1)
	}
	if plan := extractPlanSection(existing); plan != "" {
		return strings.Replace(existing, plan, sec+"\n"+plan, 1)
	}
	return strings.TrimRight(existing, "\n") + "\n\n" + sec
}

// peersSection is the runbooks without the operator, against the
// operator's flip, with its markers ("" when no peer ran).
func (b *benchRun) peersSection() string {
	have, earlier := false, false
	for _, s := range b.Scenarios {
		have = have || s.Serial != nil || s.Parallel != nil || s.Unbounded != nil
		earlier = earlier || s.FlipFrom != ""
	}
	if !have {
		return ""
	}
	var w strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&w, format, args...) }
	o := b.Opts
	p("%s\n%s\n\n", peersSectionBegin, peersHeading)
	if earlier {
		p("Run %s at `%s` with `%s`, took %s: only this section (`-peers-only`), no operator.\nMachine: %s.\n",
			b.Started.UTC().Format("2006-01-02 15:04 MST"), b.Commit, b.Command, b.Took.Round(time.Second), b.Machine)
		if e := b.EarlierFlip; e != nil && e.comparable(o) {
			p("**The operator's flip times below are not from this run**: they are the main table's, from the run of\n")
			p("%s, an earlier run on this machine (possibly at an earlier commit, and under the load it had then).\n\n", e.Run)
		} else {
			p("The report's main table has no flip with this run's D and rate limit, so there are no ratios.\n\n")
		}
	} else {
		p("Measured in the run of %s (the main table), after the operator's flip, on the same stack.\n\n",
			b.Started.UTC().Format("2006-01-02 15:04 MST"))
	}
	p("The runbook calls the SDK's planned failover (`StartReverseProtectionGroup`) for a group, polls its\n")
	p("job every %s until it ends (as the Terraform provider's `WaitForJobSuccess` does), reads the group\n", o.RunbookPoll)
	p("back once (as Terraform refreshes its state), then moves to the next group; the parallel variant\n")
	p("runs %d groups at a time.\n", o.Parallel)
	if o.Unbounded {
		p("The SDK script with unbounded parallelism is the strongest peer, the best a skilled SRE writes\n")
		p("without the operator: one goroutine per group, every group's action sent at once, each job\n")
		p("polled on the same fixed %s tick, then the group read back once; it always runs on all N groups.\n", o.RunbookPoll)
		p("It skips Kubernetes entirely, so the operator's flip time as a ratio to it is what Kubernetes costs\n")
		p("on this machine (**Kubernetes cost**): the person's patch, the status writes, the watches and the\n")
		p("controller's queue, on the cores everything shares. Its time holds the poll tick, so the last of its\n")
		p("jobs to end (from the emulator's state) is given too: no polling script can be done sooner.\n")
	}
	p("\nEvery peer runs in the same emulator binary with the same D (%s), on its own freshly seeded groups, and\n", o.JobDuration)
	p("takes a token before each call from a client-side limiter of %d calls/s with burst %d (the\n", o.CallsPerSecond, o.Burst)
	p("`golang.org/x/time/rate` limiter the operator builds from its ProviderConfig, with the fleet runs'\n")
	p("setting). Their groups' servers are stopped already, as the operator's with `serverPower: Manual`, so\n")
	p("no peer stops or starts servers (nor reads them, which the operator does once before the action).\n")
	p("Where the serial or parallel runbook ran on fewer groups than N (to keep the benchmark under an\n")
	p("hour), its time is scaled linearly (serial: per group; parallel: per round of %d), which is exact\n", o.Parallel)
	p("for a script that waits.\n\n")
	p("| | %s |\n|---|%s\n", strings.Join(b.colNames(), " | "), strings.Repeat("---:|", len(b.Scenarios)))
	row := func(name string, f func(s *scenarioResult) string) {
		cells := make([]string, 0, len(b.Scenarios))
		for _, s := range b.Scenarios {
			cells = append(cells, f(s))
		}
		p("| %s | %s |\n", name, strings.Join(cells, " | "))
	}
	if earlier {
		row("operator: flip → last group Ready / SDRS calls per failover (earlier run)", func(s *scenarioResult) string {
			if s.Fleet.LastReady == 0 {
				return "not measured"
			}
			return fmt.Sprintf("%.2f s / %.2f", s.Fleet.LastReady.Seconds(), s.sdrsPerFailover())
		})
	}
	calls := func(m *runbookMeasure) string {
		if m == nil || m.Groups == 0 {
			return ""
		}
		g := float64(m.Groups)
		return fmt.Sprintf("%.2f (%.2f / %.2f / %.2f)", float64(m.Calls.SDRS())/g, float64(m.Calls.ByClass[classAction])/g,
			float64(m.Calls.ByClass[classJobPoll])/g, float64(m.Calls.ByClass[classGroupRead])/g)
	}
	callRatio := func(s *scenarioResult, m *runbookMeasure) string {
		if m == nil || m.Groups == 0 || m.Calls.SDRS() == 0 {
			return ""
		}
		op := s.sdrsPerFailover()
		if op == 0 {
			return "not measured"
		}
		return fmt.Sprintf("%.2f", op/(float64(m.Calls.SDRS())/float64(m.Groups)))
	}
	for _, v := range []struct {
		name string
		get  func(s *scenarioResult) *runbookMeasure
	}{
		{"serial runbook", func(s *scenarioResult) *runbookMeasure { return s.Serial }},
		{fmt.Sprintf("runbook, %d in parallel", o.Parallel), func(s *scenarioResult) *runbookMeasure { return s.Parallel }},
	} {
		row("**"+v.name+": all N moved**", func(s *scenarioResult) string {
			m := v.get(s)
			if m == nil {
				return "not run"
			}
			t := extrapolate(m, s.Fleet.N)
			note := ""
			if m.Groups < s.Fleet.N {
				note = fmt.Sprintf(" (measured on %d, scaled)", m.Groups)
			}
			return fmt.Sprintf("**%s**%s", human(t), note)
		})
		row("… SDRS calls per failover (actions / polls / reads)", func(s *scenarioResult) string { return calls(v.get(s)) })
		row("… operator's time as a share of it", func(s *scenarioResult) string {
			m := v.get(s)
			if m == nil {
				return ""
			}
			if s.Fleet.LastReady == 0 {
				return "no flip"
			}
			t := extrapolate(m, s.Fleet.N)
			return fmt.Sprintf("%.4f (%.0f× faster)", s.Fleet.LastReady.Seconds()/t.Seconds(), t.Seconds()/s.Fleet.LastReady.Seconds())
		})
		row("… operator's SDRS calls per failover as a ratio to it", func(s *scenarioResult) string { return callRatio(s, v.get(s)) })
	}
	if o.Unbounded {
		row("**SDK script, all N at once (unbounded): last group done**", func(s *scenarioResult) string {
			if s.Unbounded == nil {
				return "not run"
			}
			return fmt.Sprintf("**%.2f s**", s.Unbounded.Took.Seconds())
		})
		row("… last action logged by the emulator / last job ended", func(s *scenarioResult) string {
			m := s.Unbounded
			if m == nil {
				return ""
			}
			return fmt.Sprintf("%.2f / %.2f s", m.LastAction.Seconds(), m.LastJobEnd.Seconds())
		})
		row("… each group reversed exactly once and at target", func(s *scenarioResult) string {
			m := s.Unbounded
			if m == nil {
				return ""
			}
			if m.ReversesMin == 1 && m.ReversesMax == 1 && m.AtTarget == m.Groups {
				return fmt.Sprintf("yes (%d groups)", m.Groups)
			}
			return fmt.Sprintf("**no**: %d to %d reverses per group, %d of %d at target", m.ReversesMin, m.ReversesMax, m.AtTarget, m.Groups)
		})
		row("… SDRS calls per failover (actions / polls / reads)", func(s *scenarioResult) string { return calls(s.Unbounded) })
		row("**… Kubernetes cost: the operator's flip time as a ratio to it**", func(s *scenarioResult) string {
			m := s.Unbounded
			if m == nil || m.Took == 0 {
				return ""
			}
			if s.Fleet.LastReady == 0 {
				return "no flip"
			}
			return fmt.Sprintf("**%.2f×** (%.2f s / %.2f s)", s.Fleet.LastReady.Seconds()/m.Took.Seconds(), s.Fleet.LastReady.Seconds(), m.Took.Seconds())
		})
		row("… the same against its last job's end", func(s *scenarioResult) string {
			m := s.Unbounded
			if m == nil || m.LastJobEnd == 0 {
				return ""
			}
			if s.Fleet.LastReady == 0 {
				return "no flip"
			}
			return fmt.Sprintf("%.2f×", s.Fleet.LastReady.Seconds()/m.LastJobEnd.Seconds())
		})
		row("… operator's SDRS calls per failover as a ratio to it", func(s *scenarioResult) string { return callRatio(s, s.Unbounded) })
	}
	p("\n%s\n", peersSectionEnd)
	return w.String()
}
