package conformance

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/duroxide-go/duroxide"
	"github.com/duroxide-go/duroxide/fakeclock"
	"github.com/duroxide-go/duroxide/spec"
)

// nopProvider satisfies duroxide.Provider; the test cases call nothing but
// AsManagementCapability.
type nopProvider struct{ duroxide.Provider }

func (nopProvider) AsManagementCapability() duroxide.ProviderAdmin { return nil }

func fakeHarness(spec.T) *spec.Harness {
	return &spec.Harness{Provider: nopProvider{}, Clock: fakeclock.NewFake(time.Unix(0, 0))}
}

func realHarness(spec.T) *spec.Harness { return &spec.Harness{Provider: nopProvider{}} }

func pass(spec.T, *spec.Harness) {}

func fail(t spec.T, _ *spec.Harness) { t.Errorf("boom") }

// needsAdmin skips: nopProvider has no management API.
func needsAdmin(t spec.T, h *spec.Harness) { h.Admin(t) }

func needsHooks(t spec.T, h *spec.Harness) { h.RequireHooks(t) }

// stepsBack does not apply: the test harnesses do not declare ClockStepsBack.
func stepsBack(t spec.T, h *spec.Harness) { h.RequireClockStepsBack(t) }

// kase builds a case.
func kase(group, name string, level spec.Level, run func(spec.T, *spec.Harness)) spec.Case {
	return spec.Case{Group: group, Name: name, Run: run, Level: level}
}

func levelOf(r *Report, l spec.Level) LevelReport {
	for _, lr := range r.Levels {
		if lr.Level == l {
			return lr
		}
	}
	return LevelReport{}
}

func TestVerdicts(t *testing.T) {
	tests := []struct {
		name              string
		cases             []spec.Case
		levels            []spec.Level
		pattern           string
		want              Verdict
		required, strict  Verdict
		exit              int
		requiredDidNotRun []ReasonCount
	}{
		{"all pass", []spec.Case{
			kase("g", "a", spec.Required, pass), kase("g", "b", spec.Strict, pass),
		}, nil, "", ConformantStrict, Conformant, Conformant, ExitConformant, nil},
		{"strict fails", []spec.Case{
			kase("g", "a", spec.Required, pass), kase("g", "b", spec.Strict, fail),
		}, nil, "", ConformantRequired, Conformant, NotConformant, ExitFailed, nil},
		{"strict skipped", []spec.Case{
			kase("g", "a", spec.Required, pass), kase("g", "b", spec.Strict, needsHooks),
		}, nil, "", ConformantRequired, Conformant, Incomplete, ExitIncomplete, nil},
		{"required fails", []spec.Case{
			kase("g", "a", spec.Required, fail), kase("g", "b", spec.Strict, pass),
		}, nil, "", NotConformant, NotConformant, Conformant, ExitFailed, nil},
		{"required fails and skips", []spec.Case{
			kase("g", "a", spec.Required, fail), kase("g", "b", spec.Required, needsAdmin),
		}, nil, "", NotConformant, NotConformant, Conformant, ExitFailed,
			[]ReasonCount{{"provider has no management capability (AsManagementCapability returned nil)", 1}}},
		{"required skipped", []spec.Case{
			kase("g", "a", spec.Required, needsAdmin), kase("h", "b", spec.Required, needsAdmin),
			kase("h", "c", spec.Required, needsHooks), kase("h", "d", spec.Strict, pass),
		}, nil, "", Incomplete, Incomplete, Conformant, ExitIncomplete, []ReasonCount{
			{"provider has no management capability (AsManagementCapability returned nil)", 2},
			{"harness has no white-box hooks (CorruptInstanceHistory, MaxAttemptCount)", 1},
		}},
		{"required not applicable", []spec.Case{
			kase("g", "a", spec.Required, pass), kase("g", "b", spec.Required, stepsBack), kase("g", "c", spec.Strict, pass),
		}, nil, "", ConformantStrict, Conformant, Conformant, ExitConformant, []ReasonCount{
			{"not applicable: the harness does not declare ClockStepsBack: the provider's clock is not expected to step back", 1},
		}},
		{"required only", []spec.Case{
			kase("g", "a", spec.Required, pass), kase("g", "b", spec.Strict, fail),
		}, []spec.Level{spec.Required}, "", ConformantRequired, Conformant, NotRun, ExitConformant, nil},
		{"strict only", []spec.Case{
			kase("g", "a", spec.Required, pass), kase("g", "b", spec.Strict, pass),
		}, []spec.Level{spec.Strict}, "", Incomplete, NotRun, Conformant, ExitConformant, nil},
		{"pattern", []spec.Case{
			kase("g", "a", spec.Required, pass), kase("h", "b", spec.Required, fail),
		}, nil, "^g/", ConformantStrict, Conformant, Conformant, ExitConformant, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rep, err := Run(Options{Provider: "p", NewHarness: fakeHarness, Cases: tc.cases, Levels: tc.levels, Run: tc.pattern})
			require.NoError(t, err)
			require.Equal(t, tc.want, rep.Verdict)
			require.Equal(t, tc.required, levelOf(rep, spec.Required).Verdict)
			require.Equal(t, tc.strict, levelOf(rep, spec.Strict).Verdict)
			require.Equal(t, tc.requiredDidNotRun, levelOf(rep, spec.Required).DidNotRun)
			require.Equal(t, tc.exit, rep.ExitStatus())

			var out bytes.Buffer
			require.NoError(t, rep.WriteText(&out))
			text := out.String()
			require.Contains(t, text, "verdict")
			require.Contains(t, text, string(tc.want)+": ")
			for _, rc := range tc.requiredDidNotRun {
				require.Contains(t, text, "did not run: "+itoa(rc.Count)+" case(s): "+rc.Reason)
			}
		})
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func TestReportCountsPatternAndTimes(t *testing.T) {
	cases := []spec.Case{
		kase("g1", "a", spec.Required, pass),
		kase("g1", "b", spec.Strict, func(t spec.T, _ *spec.Harness) { t.Errorf("boom\nline two") }),
		kase("g2", "c", spec.Required, needsHooks),
		kase("g3", "d", spec.Strict, pass),
	}
	rep, err := Run(Options{Provider: "p", NewHarness: realHarness, Cases: cases, Run: "^g[12]/", Parallel: 2})
	require.NoError(t, err)
	require.Equal(t, "real time", rep.Mode)
	require.Equal(t, 1, rep.Passed)
	require.Equal(t, 1, rep.Failed)
	require.Equal(t, 1, rep.Skipped)
	require.Equal(t, 1, rep.NotSelected)
	require.Equal(t, 1, levelOf(rep, spec.Strict).NotSelected)
	require.Equal(t, 2, rep.Parallel)
	require.Len(t, rep.Groups, 2)
	var sum time.Duration
	for _, g := range rep.Groups {
		sum += g.CaseTime
	}
	require.Equal(t, sum, rep.CaseTime)

	var out bytes.Buffer
	require.NoError(t, rep.WriteText(&out))
	text := out.String()
	require.Contains(t, text, `cases matching "^g[12]/" only: 1 other cases not selected`)
	require.Contains(t, text, "case time")
	require.Contains(t, text, "wall time")
	require.Contains(t, text, "failed cases:")
	require.Contains(t, text, "g1/b [strict]")
	require.Contains(t, text, "    boom\n    line two")
	require.Contains(t, text, "rule g1/b (level strict)")
	require.Contains(t, text, "skipped cases:")
	require.Contains(t, text, "g2/c [required]")
	require.Contains(t, text, "verdict (of the selected cases): incomplete: 1 passed, 1 failed, 1 skipped, 0 not applicable of 3 cases")
}

func TestReportJSON(t *testing.T) {
	cases := []spec.Case{kase("g", "a", spec.Required, pass), kase("g", "b", spec.Strict, needsAdmin)}
	rep, err := Run(Options{Provider: "p", NewHarness: fakeHarness, Cases: cases})
	require.NoError(t, err)
	var out bytes.Buffer
	require.NoError(t, rep.WriteJSON(&out))
	require.Contains(t, out.String(), `"level": "required"`)
	require.Contains(t, out.String(), `"level": "strict"`)
	require.Contains(t, out.String(), `"verdict": "conformant (required)"`)

	var back Report
	require.NoError(t, json.Unmarshal(out.Bytes(), &back))
	require.Equal(t, *rep, back)
	require.Equal(t, "fake clock", back.Mode)
	require.Equal(t, spec.Strict, back.Groups[0].Cases[1].Level)
	require.Equal(t, Incomplete, levelOf(&back, spec.Strict).Verdict)
}

func TestRunRejectsBadOptions(t *testing.T) {
	one := []spec.Case{kase("g", "a", spec.Required, pass)}
	tests := []struct {
		name     string
		o        Options
		sentinel error
		contains string
	}{
		{"no harness", Options{Cases: one}, ErrInvalidOptions, "NewHarness is nil"},
		{"negative parallel", Options{NewHarness: fakeHarness, Cases: one, Parallel: -1}, ErrInvalidOptions, "Parallel is -1"},
		{"negative timeout", Options{NewHarness: fakeHarness, Cases: one, CaseTimeout: -time.Second}, ErrInvalidOptions, "CaseTimeout is -1s"},
		{"bad level", Options{NewHarness: fakeHarness, Cases: one, Levels: []spec.Level{7}}, ErrInvalidOptions, "Level(7) is not a level"},
		{"case without level", Options{NewHarness: fakeHarness, Cases: []spec.Case{{Group: "g", Name: "x", Run: pass}}}, ErrInvalidOptions, "case g/x has no level (Level(0))"},
		{"bad pattern", Options{NewHarness: fakeHarness, Cases: one, Run: "("}, ErrInvalidOptions, "Run pattern"},
		{"pattern matches nothing", Options{NewHarness: fakeHarness, Cases: one, Run: "atomicty/"}, ErrNoCases, `pattern "atomicty/"`},
		{"level has no cases", Options{NewHarness: fakeHarness, Cases: one, Levels: []spec.Level{spec.Strict}}, ErrNoCases, "match none of the 1 cases"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rep, err := Run(tc.o)
			require.ErrorIs(t, err, tc.sentinel)
			require.ErrorContains(t, err, tc.contains)
			require.Nil(t, rep)
		})
	}
}

func TestProgress(t *testing.T) {
	cases := []spec.Case{kase("g", "a", spec.Required, pass), kase("g", "b", spec.Required, pass)}
	var progress bytes.Buffer
	_, err := Run(Options{NewHarness: fakeHarness, Cases: cases, Progress: &progress})
	require.NoError(t, err)
	require.Contains(t, progress.String(), "[1/2] g/a")
	require.Contains(t, progress.String(), "[2/2] g/b")
	require.True(t, strings.HasSuffix(progress.String(), "\r\033[K"), "the progress line is erased at the end")
}

func TestCaseTimeout(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	cases := []spec.Case{kase("g", "hang", spec.Required, func(spec.T, *spec.Harness) { <-release })}
	rep, err := Run(Options{NewHarness: fakeHarness, Cases: cases, CaseTimeout: 20 * time.Millisecond})
	require.NoError(t, err)
	require.Equal(t, NotConformant, rep.Verdict)
	require.Contains(t, strings.Join(rep.Groups[0].Cases[0].Messages, "\n"), "did not finish within 20ms")
}

// TestCommandUsage checks what Main refuses before running anything: every
// row would otherwise run a whole spec, or nothing, and exit 0.
func TestCommandUsage(t *testing.T) {
	both := Command{Provider: "p", Fake: fakeHarness, RealTime: realHarness}
	fakeOnly := Command{Provider: "p", Fake: fakeHarness}
	tests := []struct {
		name     string
		cmd      Command
		args     []string
		contains string
	}{
		{"unknown flag", both, []string{"-nope"}, "flag provided but not defined"},
		{"bad regexp", both, []string{"-run", "("}, "Run pattern"},
		{"run matches nothing", both, []string{"-run", "atomicty/"}, "no case selected"},
		{"stray argument", both, []string{"extra"}, "unexpected arguments"},
		{"zero timeout", both, []string{"-timeout", "0"}, "-timeout 0s: the per-case timeout must be positive"},
		{"negative timeout", both, []string{"-timeout", "-1s"}, "must be positive"},
		{"zero parallel", both, []string{"-parallel", "0"}, "-parallel 0: run at least 1 case at a time"},
		{"negative parallel", both, []string{"-parallel", "-3"}, "-parallel -3"},
		{"bad level", both, []string{"-level", "all"}, `unknown level "all"`},
		{"no real-time harness", fakeOnly, []string{"-realtime"}, "-realtime: p has no real-time harness"},
		{"no harness", Command{Provider: "p"}, nil, "p has no harness"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			require.Equal(t, ExitUsage, tc.cmd.Main(tc.args, &out, &errOut))
			require.Contains(t, errOut.String(), tc.contains)
			require.Empty(t, out.String(), "nothing ran")
		})
	}
}

func TestCommandHelp(t *testing.T) {
	var out, errOut bytes.Buffer
	require.Equal(t, ExitConformant, Command{Fake: fakeHarness}.Main([]string{"-h"}, &out, &errOut))
	require.Contains(t, errOut.String(), "-level")
	require.Empty(t, out.String())
}

// TestCommandRealTimeOnly: a provider with only a real-time harness runs in
// real time by default.
func TestCommandRealTimeOnly(t *testing.T) {
	var out, errOut bytes.Buffer
	cmd := Command{Provider: "p", RealTime: realHarness}
	code := cmd.main([]string{"-json", "-run", "^management/list_instances$"}, &out, &errOut, nil)
	require.Equal(t, ExitIncomplete, code, "stderr: %s", errOut.String())
	var rep Report
	require.NoError(t, json.Unmarshal(out.Bytes(), &rep))
	require.Equal(t, "real time", rep.Mode)
	require.Equal(t, 32, rep.Parallel)
	require.Equal(t, 1, rep.Skipped, "nopProvider has no management API")
	require.Equal(t, Incomplete, rep.Verdict)
}

// TestCommandRealTimeParallel: RealTimeParallel sets the real-time default
// (also in the usage), -parallel still overrides it, and the fake clock
// keeps 1.
func TestCommandRealTimeParallel(t *testing.T) {
	cmd := Command{Provider: "p", Fake: fakeHarness, RealTime: realHarness, RealTimeParallel: 3}
	for _, tc := range []struct {
		args []string
		want int
	}{
		{[]string{"-realtime"}, 3},
		{[]string{"-realtime", "-parallel", "5"}, 5},
		{nil, 1},
	} {
		var out, errOut bytes.Buffer
		args := append([]string{"-json", "-run", "^management/list_instances$"}, tc.args...)
		code := cmd.main(args, &out, &errOut, nil)
		require.Equal(t, ExitIncomplete, code, "%v: stderr: %s", tc.args, errOut.String())
		var rep Report
		require.NoError(t, json.Unmarshal(out.Bytes(), &rep))
		require.Equal(t, tc.want, rep.Parallel, "%v", tc.args)
	}
	var out, errOut bytes.Buffer
	require.Equal(t, ExitConformant, cmd.Main([]string{"-h"}, &out, &errOut))
	require.Contains(t, errOut.String(), "3 in real time")
}
