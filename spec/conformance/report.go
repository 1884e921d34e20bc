package conformance

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/duroxide-go/duroxide/spec"
)

// Verdict is what a run says about a provider, per level and overall.
//
// A Verdict is an immutable value.
type Verdict string

// Overall verdicts ([Report.Verdict]).
const (
	// ConformantStrict: every selected case of both levels passed.
	ConformantStrict Verdict = "conformant (strict)"
	// ConformantRequired: every selected required case passed; strict
	// cases failed, were skipped, or did not run.
	ConformantRequired Verdict = "conformant (required)"
	// NotConformant: a required case failed (per level: a case of the
	// level failed).
	NotConformant Verdict = "not conformant"
	// Incomplete: no required case failed, but some were skipped for a
	// missing capability, or the required level did not run (per level:
	// no case of the level failed, some were skipped).
	Incomplete Verdict = "incomplete"
)

// Per-level verdicts ([LevelReport.Verdict]), besides NotConformant and
// Incomplete.
const (
	// Conformant: every selected case of the level passed.
	Conformant Verdict = "conformant"
	// NotRun: the level was not selected.
	NotRun Verdict = "not run"
)

// Report is the outcome of a run, also its JSON form.
//
// A Report is plain data, not synchronized; [Run] returns a fresh one.
type Report struct {
	// Provider and Mode ("fake clock", "real time") say what ran.
	Provider string `json:"provider"`
	Mode     string `json:"mode"`
	// Pattern is the Run pattern the cases were selected with, if any:
	// then the verdicts are those of the selected cases only.
	Pattern string `json:"pattern,omitempty"`
	// Verdict is the overall verdict.
	Verdict Verdict `json:"verdict"`
	// Levels is the verdict and the counts per level, in level order.
	Levels []LevelReport `json:"levels"`
	// Passed, Failed and Skipped count the cases run.
	Passed  int `json:"passed"`
	Failed  int `json:"failed"`
	Skipped int `json:"skipped"`
	// NotApplicable counts the cases that do not concern the provider as
	// its harness declares it; they leave no verdict incomplete.
	NotApplicable int `json:"not_applicable"`
	// NotSelected counts the cases of the levels run that the pattern
	// left out.
	NotSelected int `json:"not_selected"`
	// CaseTime is the sum of the cases' times; WallTime is the run's
	// elapsed time, less than CaseTime when cases ran in parallel.
	CaseTime time.Duration `json:"case_time_ns"`
	WallTime time.Duration `json:"wall_time_ns"`
	// Parallel is how many cases ran at once.
	Parallel int `json:"parallel"`
	// Groups are the groups run, in case order.
	Groups []GroupReport `json:"groups"`
}

// LevelReport is one level's verdict and counts.
type LevelReport struct {
	Level   spec.Level `json:"level"`
	Verdict Verdict    `json:"verdict"`
	Passed  int        `json:"passed"`
	Failed  int        `json:"failed"`
	Skipped int        `json:"skipped"`
	// NotApplicable counts the level's cases that do not apply.
	NotApplicable int `json:"not_applicable"`
	// NotSelected counts the level's cases the pattern left out.
	NotSelected int `json:"not_selected"`
	// DidNotRun counts the skipped and not applicable cases by reason,
	// most frequent first.
	DidNotRun []ReasonCount `json:"did_not_run,omitempty"`
}

// ReasonCount is how many cases were skipped for one reason.
type ReasonCount struct {
	Reason string `json:"reason"`
	Count  int    `json:"count"`
}

// GroupReport summarises one group.
type GroupReport struct {
	Group   string `json:"group"`
	Passed  int    `json:"passed"`
	Failed  int    `json:"failed"`
	Skipped int    `json:"skipped"`
	// NotApplicable counts the group's cases that do not apply.
	NotApplicable int `json:"not_applicable"`
	// CaseTime is the sum of the group's case times.
	CaseTime time.Duration `json:"case_time_ns"`
	Cases    []CaseReport  `json:"cases"`
}

// CaseReport is one case's outcome.
type CaseReport struct {
	Case     string        `json:"case"`
	Level    spec.Level    `json:"level"`
	Outcome  spec.Outcome  `json:"outcome"`
	Duration time.Duration `json:"duration_ns"`
	Messages []string      `json:"messages,omitempty"`
}

// newReport builds the report of results, the outcomes of s.cases.
func newReport(provider, mode, pattern string, s selection, results []spec.Result, wall time.Duration, parallel int) *Report {
	r := &Report{Provider: provider, Mode: mode, Pattern: pattern, WallTime: wall, Parallel: parallel}
	levels := map[spec.Level]*LevelReport{}
	for _, l := range spec.AllLevels() {
		r.Levels = append(r.Levels, LevelReport{Level: l, Verdict: NotRun})
	}
	for i := range r.Levels {
		levels[r.Levels[i].Level] = &r.Levels[i]
	}
	reasons := map[spec.Level]map[string]int{}
	index := map[string]int{}
	for i, res := range results {
		c := s.cases[i]
		i, ok := index[c.Group]
		if !ok {
			i = len(r.Groups)
			index[c.Group] = i
			r.Groups = append(r.Groups, GroupReport{Group: c.Group})
		}
		g := &r.Groups[i]
		g.CaseTime += res.Duration
		r.CaseTime += res.Duration
		g.Cases = append(g.Cases, CaseReport{Case: c.Name, Level: c.Level, Outcome: res.Outcome, Duration: res.Duration, Messages: res.Messages})
		l := levels[c.Level]
		switch res.Outcome {
		case spec.Passed:
			g.Passed++
			r.Passed++
			l.Passed++
		case spec.Failed:
			g.Failed++
			r.Failed++
			l.Failed++
		case spec.Skipped, spec.NotApplicable:
			if res.Outcome == spec.Skipped {
				g.Skipped++
				r.Skipped++
				l.Skipped++
			} else {
				g.NotApplicable++
				r.NotApplicable++
				l.NotApplicable++
			}
			if reasons[c.Level] == nil {
				reasons[c.Level] = map[string]int{}
			}
			reasons[c.Level][res.SkipReason]++
		}
	}
	selected := map[string]bool{}
	for _, c := range s.cases {
		selected[c.FullName()] = true
	}
	for _, c := range s.universe {
		if !selected[c.FullName()] {
			r.NotSelected++
			levels[c.Level].NotSelected++
		}
	}
	for i := range r.Levels {
		l := &r.Levels[i]
		for reason, n := range reasons[l.Level] {
			l.DidNotRun = append(l.DidNotRun, ReasonCount{Reason: reason, Count: n})
		}
		slices.SortFunc(l.DidNotRun, func(a, b ReasonCount) int {
			return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Reason, b.Reason))
		})
		switch {
		case !slices.Contains(s.levels, l.Level):
			l.Verdict = NotRun
		case l.Failed > 0:
			l.Verdict = NotConformant
		case l.Skipped > 0:
			l.Verdict = Incomplete
		default:
			l.Verdict = Conformant
		}
	}
	r.Verdict = overall(levels[spec.Required].Verdict, levels[spec.Strict].Verdict)
	return r
}

// overall combines the level verdicts.
func overall(required, strict Verdict) Verdict {
	switch {
	case required == NotConformant:
		return NotConformant
	case required != Conformant:
		return Incomplete
	case strict == Conformant:
		return ConformantStrict
	}
	return ConformantRequired
}

// WriteJSON writes the report as one indented JSON document.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteText writes the report for people: a table of groups, the levels with
// their verdicts and why cases did not run, the failed and skipped cases
// with their messages, and the verdict.
func (r *Report) WriteText(w io.Writer) error {
	ew := &errWriter{w: w}
	r.writeText(ew)
	return ew.err
}

// errWriter keeps the first write error.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return len(p), nil
	}
	_, e.err = e.w.Write(p)
	return len(p), nil
}

func (r *Report) writeText(w io.Writer) {
	fmt.Fprintf(w, "duroxide-go conformance report: %s (%s)\n", r.Provider, r.Mode)
	if r.Pattern != "" {
		fmt.Fprintf(w, "cases matching %q only: %d other cases not selected\n", r.Pattern, r.NotSelected)
	}
	fmt.Fprintln(w)

	width := len("total")
	for _, g := range r.Groups {
		width = max(width, len(g.Group))
	}
	row := func(name string, passed, failed, skipped, na int, d time.Duration) {
		fmt.Fprintf(w, "  %-*s  %6d  %6d  %7d  %4d  %10s\n", width, name, passed, failed, skipped, na, round(d))
	}
	fmt.Fprintf(w, "  %-*s  %6s  %6s  %7s  %4s  %10s\n", width, "group", "passed", "failed", "skipped", "n/a", "case time")
	for _, g := range r.Groups {
		row(g.Group, g.Passed, g.Failed, g.Skipped, g.NotApplicable, g.CaseTime)
	}
	row("total", r.Passed, r.Failed, r.Skipped, r.NotApplicable, r.CaseTime)
	fmt.Fprintf(w, "  (case time sums the cases' times; wall time %s, %d case(s) at a time)\n", round(r.WallTime), r.Parallel)

	fmt.Fprintf(w, "\nlevels:\n")
	for _, l := range r.Levels {
		if l.Verdict == NotRun {
			fmt.Fprintf(w, "  %-8s  not run\n", l.Level)
			continue
		}
		fmt.Fprintf(w, "  %-8s  %s: %d passed, %d failed, %d skipped, %d not applicable\n", l.Level, l.Verdict, l.Passed, l.Failed, l.Skipped, l.NotApplicable)
		for _, rc := range l.DidNotRun {
			fmt.Fprintf(w, "            did not run: %d case(s): %s\n", rc.Count, rc.Reason)
		}
	}

	for _, outcome := range []spec.Outcome{spec.Failed, spec.Skipped} {
		header := false
		for _, g := range r.Groups {
			for _, c := range g.Cases {
				if c.Outcome != outcome {
					continue
				}
				if !header {
					fmt.Fprintf(w, "\n%s cases:\n", outcome)
					header = true
				}
				fmt.Fprintf(w, "\n  %s/%s [%s] (%s)\n", g.Group, c.Case, c.Level, round(c.Duration))
				for _, m := range c.Messages {
					fmt.Fprintf(w, "    %s\n", strings.ReplaceAll(strings.TrimSpace(m), "\n", "\n    "))
				}
			}
		}
	}
	scope := ""
	if r.Pattern != "" {
		scope = " (of the selected cases)"
	}
	fmt.Fprintf(w, "\nverdict%s: %s: %d passed, %d failed, %d skipped, %d not applicable of %d cases in %s\n",
		scope, r.Verdict, r.Passed, r.Failed, r.Skipped, r.NotApplicable, r.Passed+r.Failed+r.Skipped+r.NotApplicable, round(r.WallTime))
}

// round keeps durations readable.
func round(d time.Duration) time.Duration {
	switch {
	case d >= time.Second:
		return d.Round(10 * time.Millisecond)
	case d >= time.Millisecond:
		return d.Round(10 * time.Microsecond)
	}
	return d.Round(time.Microsecond)
}
