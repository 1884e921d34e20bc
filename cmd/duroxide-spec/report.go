package main

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/duroxide-go/duroxide/spec"
)

// report is the conformance report, also its JSON form.
type report struct {
	Provider string        `json:"provider"`
	Mode     string        `json:"mode"`
	Passed   int           `json:"passed"`
	Failed   int           `json:"failed"`
	Skipped  int           `json:"skipped"`
	Duration time.Duration `json:"duration_ns"`
	Groups   []groupReport `json:"groups"`
}

// groupReport summarises one group.
type groupReport struct {
	Group    string        `json:"group"`
	Passed   int           `json:"passed"`
	Failed   int           `json:"failed"`
	Skipped  int           `json:"skipped"`
	Duration time.Duration `json:"duration_ns"`
	Cases    []caseReport  `json:"cases"`
}

// caseReport is one case's outcome.
type caseReport struct {
	Case     string        `json:"case"`
	Outcome  spec.Outcome  `json:"outcome"`
	Duration time.Duration `json:"duration_ns"`
	Messages []string      `json:"messages,omitempty"`
}

// newReport groups results in their order of appearance.
func newReport(provider, mode string, results []spec.Result, total time.Duration) report {
	r := report{Provider: provider, Mode: mode, Duration: total}
	index := map[string]int{}
	for _, res := range results {
		group, name, _ := strings.Cut(res.Case, "/")
		i, ok := index[group]
		if !ok {
			i = len(r.Groups)
			index[group] = i
			r.Groups = append(r.Groups, groupReport{Group: group})
		}
		g := &r.Groups[i]
		g.Duration += res.Duration
		g.Cases = append(g.Cases, caseReport{Case: name, Outcome: res.Outcome, Duration: res.Duration, Messages: res.Messages})
		switch res.Outcome {
		case spec.Passed:
			g.Passed++
			r.Passed++
		case spec.Failed:
			g.Failed++
			r.Failed++
		case spec.Skipped:
			g.Skipped++
			r.Skipped++
		}
	}
	return r
}

// writeText prints the human report.
func (r report) writeText(w io.Writer) {
	fmt.Fprintf(w, "duroxide-go conformance report: %s (%s)\n\n", r.Provider, r.Mode)
	width := len("total")
	for _, g := range r.Groups {
		width = max(width, len(g.Group))
	}
	row := func(name string, passed, failed, skipped int, d time.Duration) {
		fmt.Fprintf(w, "  %-*s  %6d  %6d  %7d  %10s\n", width, name, passed, failed, skipped, round(d))
	}
	fmt.Fprintf(w, "  %-*s  %6s  %6s  %7s  %10s\n", width, "group", "passed", "failed", "skipped", "time")
	for _, g := range r.Groups {
		row(g.Group, g.Passed, g.Failed, g.Skipped, g.Duration)
	}
	row("total", r.Passed, r.Failed, r.Skipped, r.Duration)

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
				fmt.Fprintf(w, "\n  %s/%s (%s)\n", g.Group, c.Case, round(c.Duration))
				for _, m := range c.Messages {
					fmt.Fprintf(w, "    %s\n", strings.ReplaceAll(strings.TrimSpace(m), "\n", "\n    "))
				}
			}
		}
	}
	verdict := "PASS"
	if r.Failed > 0 {
		verdict = "FAIL"
	}
	fmt.Fprintf(w, "\n%s: %d passed, %d failed, %d skipped of %d cases in %s\n",
		verdict, r.Passed, r.Failed, r.Skipped, r.Passed+r.Failed+r.Skipped, round(r.Duration))
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
