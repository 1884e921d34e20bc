package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/duroxide-go/duroxide/spec"
)

func TestRunJSONFiltered(t *testing.T) {
	var out, errOut bytes.Buffer
	code := run([]string{"-json", "-run", "^atomicity/"}, &out, &errOut, false)
	require.Equal(t, 0, code, "stderr: %s", errOut.String())
	var rep report
	require.NoError(t, json.Unmarshal(out.Bytes(), &rep))
	require.Equal(t, "fake clock", rep.Mode)
	require.Len(t, rep.Groups, 1)
	require.Equal(t, "atomicity", rep.Groups[0].Group)
	require.Equal(t, 4, rep.Passed)
	require.Zero(t, rep.Failed)
	require.Zero(t, rep.Skipped)
}

func TestRunTextWholeSpec(t *testing.T) {
	var out, errOut bytes.Buffer
	code := run(nil, &out, &errOut, true)
	require.Equal(t, 0, code, "stdout: %s", out.String())
	text := out.String()
	require.Contains(t, text, "PASS: ")
	require.Contains(t, text, "0 failed, 0 skipped")
	for _, g := range spec.Groups() {
		if len(casesOf(g)) > 0 {
			require.Contains(t, text, g, "every group with cases appears in the report")
		}
	}
	require.Contains(t, errOut.String(), "[1/", "the progress line was written")
}

func casesOf(group string) []spec.Case {
	var out []spec.Case
	for _, c := range spec.Cases() {
		if c.Group == group {
			out = append(out, c)
		}
	}
	return out
}

func TestRunBadUsage(t *testing.T) {
	tests := []struct {
		name string
		args []string
	}{
		{"unknown flag", []string{"-nope"}},
		{"bad regexp", []string{"-run", "("}},
		{"stray argument", []string{"extra"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			require.Equal(t, 2, run(tc.args, &out, &errOut, false))
			require.NotEmpty(t, errOut.String())
		})
	}
}

func TestReportCountsAndFailures(t *testing.T) {
	results := []spec.Result{
		{Case: "g1/a", Outcome: spec.Passed, Duration: time.Millisecond},
		{Case: "g1/b", Outcome: spec.Failed, Messages: []string{"boom\nline two"}, Duration: 2 * time.Millisecond},
		{Case: "g2/c", Outcome: spec.Skipped, Messages: []string{"skipped: no hooks"}},
	}
	rep := newReport("p", "fake clock", results, 3*time.Millisecond)
	require.Equal(t, 1, rep.Passed)
	require.Equal(t, 1, rep.Failed)
	require.Equal(t, 1, rep.Skipped)
	require.Len(t, rep.Groups, 2)
	require.Equal(t, 3*time.Millisecond, rep.Groups[0].Duration)

	var out bytes.Buffer
	rep.writeText(&out)
	text := out.String()
	require.Contains(t, text, "failed cases:")
	require.Contains(t, text, "g1/b")
	require.Contains(t, text, "    boom\n    line two")
	require.Contains(t, text, "skipped cases:")
	require.True(t, strings.HasPrefix(strings.TrimSpace(text[strings.LastIndex(text, "\nFAIL"):]), "FAIL: 1 passed, 1 failed, 1 skipped of 3 cases"))
}

func TestRunRealTimeConcurrent(t *testing.T) {
	if testing.Short() {
		t.Skip("sleeps in real time")
	}
	var out, errOut bytes.Buffer
	code := run([]string{"-json", "-realtime", "-run", "^(long_polling|lock_expiration)/"}, &out, &errOut, false)
	require.Equal(t, 0, code, "stderr: %s\nstdout: %s", errOut.String(), out.String())
	var rep report
	require.NoError(t, json.Unmarshal(out.Bytes(), &rep))
	require.Equal(t, "real time", rep.Mode)
	require.Len(t, rep.Groups, 2)
	// The clock-step-back cases step a fake clock: real time skips them.
	stepBack := 0
	for _, c := range casesOf("lock_expiration") {
		if strings.Contains(c.Name, "clock_step_back") {
			stepBack++
		}
	}
	require.Positive(t, stepBack)
	require.Equal(t, len(casesOf("long_polling"))+len(casesOf("lock_expiration"))-stepBack, rep.Passed)
	require.Equal(t, stepBack, rep.Skipped)
	// Cases ran concurrently: the wall time is well below the sum of the
	// case times (the long-poll cases alone sleep 0.5 s each).
	var sum time.Duration
	for _, g := range rep.Groups {
		sum += g.Duration
	}
	require.Less(t, rep.Duration, sum)
}
