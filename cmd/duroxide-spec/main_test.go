package main

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/duroxide-go/duroxide/internal/memharness"
	"github.com/duroxide-go/duroxide/spec"
	"github.com/duroxide-go/duroxide/spec/conformance"
)

func casesOf(group string) []spec.Case {
	var out []spec.Case
	for _, c := range spec.Cases() {
		if c.Group == group {
			out = append(out, c)
		}
	}
	return out
}

func TestRunJSONFiltered(t *testing.T) {
	var out, errOut bytes.Buffer
	code := command.Main([]string{"-json", "-run", "^atomicity/"}, &out, &errOut)
	require.Equal(t, conformance.ExitConformant, code, "stderr: %s", errOut.String())
	var rep conformance.Report
	require.NoError(t, json.Unmarshal(out.Bytes(), &rep))
	require.Equal(t, "memprovider", rep.Provider)
	require.Equal(t, "fake clock", rep.Mode)
	require.Equal(t, "^atomicity/", rep.Pattern)
	require.Len(t, rep.Groups, 1)
	require.Equal(t, "atomicity", rep.Groups[0].Group)
	require.Equal(t, len(casesOf("atomicity")), rep.Passed)
	require.Equal(t, len(spec.Cases())-rep.Passed, rep.NotSelected)
	require.Zero(t, rep.Failed)
	require.Zero(t, rep.Skipped)
	for _, c := range rep.Groups[0].Cases {
		require.Contains(t, spec.AllLevels(), c.Level, "every case carries its level")
	}
}

func TestRunTextWholeSpec(t *testing.T) {
	var out, errOut bytes.Buffer
	code := command.Main(nil, &out, &errOut)
	require.Equal(t, conformance.ExitConformant, code, "stdout: %s", out.String())
	text := out.String()
	require.Contains(t, text, "verdict: conformant (strict): ")
	require.Contains(t, text, "0 failed, 0 skipped")
	require.Contains(t, text, "required  conformant")
	require.Contains(t, text, "strict    conformant")
	for _, g := range spec.Groups() {
		require.Contains(t, text, g, "every group appears in the report")
	}
}

func TestRunRequiredLevelOnly(t *testing.T) {
	var out, errOut bytes.Buffer
	code := command.Main([]string{"-json", "-level", "required"}, &out, &errOut)
	require.Equal(t, conformance.ExitConformant, code, "stderr: %s", errOut.String())
	var rep conformance.Report
	require.NoError(t, json.Unmarshal(out.Bytes(), &rep))
	for _, g := range rep.Groups {
		for _, c := range g.Cases {
			require.Equal(t, spec.Required, c.Level, "%s/%s", g.Group, c.Case)
		}
	}
	require.Equal(t, conformance.NotRun, rep.Levels[1].Verdict)
	require.Equal(t, conformance.ConformantRequired, rep.Verdict)
}

func TestRunNothingMatchesIsAnError(t *testing.T) {
	var out, errOut bytes.Buffer
	code := command.Main([]string{"-run", "atomicty/"}, &out, &errOut)
	require.Equal(t, conformance.ExitUsage, code)
	require.Contains(t, errOut.String(), "no case selected")
	require.Empty(t, out.String())
}

func TestRunRealTimeConcurrent(t *testing.T) {
	if testing.Short() {
		t.Skip("sleeps in real time")
	}
	var out, errOut bytes.Buffer
	code := command.Main([]string{"-json", "-realtime", "-run", "^(long_polling|lock_expiration)/"}, &out, &errOut)
	require.Equal(t, conformance.ExitConformant, code, "stderr: %s\nstdout: %s", errOut.String(), out.String())
	var rep conformance.Report
	require.NoError(t, json.Unmarshal(out.Bytes(), &rep))
	require.Equal(t, "real time", rep.Mode)
	require.Equal(t, 32, rep.Parallel)
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
	require.Equal(t, 0, rep.Skipped)
	require.Equal(t, stepBack, rep.NotApplicable, "the step-back cases do not apply in real time")
	// Cases ran concurrently: the wall time is well below the sum of the
	// case times (the long-poll cases alone sleep 0.5 s each).
	var sum time.Duration
	for _, g := range rep.Groups {
		sum += g.CaseTime
	}
	require.Equal(t, sum, rep.CaseTime)
	require.Less(t, rep.WallTime, rep.CaseTime)
}

// TestLongPollingMismatch is the run a new user makes first: memprovider
// long-polls, but the harness leaves LongPolling false. The short-poll cases
// used to hang until go test's timeout; they now fail at once, saying what
// to set.
func TestLongPollingMismatch(t *testing.T) {
	start := time.Now()
	rep, err := conformance.Run(conformance.Options{
		Provider: "memprovider",
		NewHarness: func(t spec.T) *spec.Harness {
			h := memharness.Fake(t)
			h.LongPolling = false
			return h
		},
		Run: "^long_polling/",
	})
	require.NoError(t, err)
	require.Less(t, time.Since(start), 5*time.Second)
	require.Equal(t, conformance.NotConformant, rep.Verdict)
	var first *conformance.CaseReport
	for _, c := range rep.Groups[0].Cases {
		if c.Outcome == spec.Failed {
			first = &c
			break
		}
	}
	require.NotNil(t, first)
	require.Equal(t, "short_poll_returns_immediately", first.Case)
	require.Contains(t, strings.Join(first.Messages, "\n"), "set Harness.LongPolling = true")
}

func TestSplitProvider(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		provider string
		rest     []string
		err      error
	}{
		{"none", nil, "", []string{}, nil},
		{"separate value", []string{"-provider", "pg"}, "pg", []string{}, nil},
		{"equals", []string{"-provider=pg", "-json"}, "pg", []string{"-json"}, nil},
		{"double dash", []string{"-json", "--provider", "mem"}, "mem", []string{"-json"}, nil},
		{"last wins", []string{"-provider", "pg", "-provider=mem"}, "mem", []string{}, nil},
		{"among other flags", []string{"-run", "^kv_store/", "-provider", "pg", "-parallel", "2"}, "pg",
			[]string{"-run", "^kv_store/", "-parallel", "2"}, nil},
		{"another flag's value is not -provider", []string{"-run", "-provider", "-json"}, "",
			[]string{"-run", "-provider", "-json"}, nil},
		{"flags end at a non-flag", []string{"-json", "extra", "-provider", "pg"}, "",
			[]string{"-json", "extra", "-provider", "pg"}, nil},
		{"flags end at --", []string{"--", "-provider", "pg"}, "", []string{"--", "-provider", "pg"}, nil},
		{"missing value", []string{"-json", "-provider"}, "", nil, errProviderValue},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			provider, rest, err := splitProvider(tc.args)
			require.ErrorIs(t, err, tc.err)
			require.Equal(t, tc.provider, provider)
			require.Equal(t, tc.rest, rest)
		})
	}
}

// noEnv is an empty environment.
func noEnv(string) string { return "" }

func TestRunProviderFlag(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		code    int
		stdout  string // substring; "" means empty
		stderr  string // substring; "" means empty
		jsonFor string // provider named in the JSON report
	}{
		{"pg without DSN", []string{"-provider", "pg"}, conformance.ExitUsage, "",
			"-provider pg needs DUROXIDE_PG_DSN: run .ci/pg go run ./cmd/duroxide-spec -provider pg", ""},
		{"pgprovider without DSN", []string{"-provider=pgprovider", "-json"}, conformance.ExitUsage, "",
			"needs DUROXIDE_PG_DSN", ""},
		{"unknown provider", []string{"-provider", "sqlite"}, conformance.ExitUsage, "",
			`-provider "sqlite": want mem or pg`, ""},
		{"missing value", []string{"-provider"}, conformance.ExitUsage, "", "flag needs an argument: -provider", ""},
		{"mem explicitly", []string{"-provider", "mem", "-json", "-run", "^atomicity/"}, conformance.ExitConformant,
			`"provider"`, "", "memprovider"},
		{"mem by default", []string{"-json", "-run", "^atomicity/"}, conformance.ExitConformant, `"provider"`, "", "memprovider"},
		{"help names -provider", []string{"-provider", "pg", "-h"}, conformance.ExitConformant, "", "-provider string", ""},
		{"bad flag after -provider", []string{"-provider", "mem", "-bogus"}, conformance.ExitUsage, "",
			"flag provided but not defined: -bogus", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := run(tc.args, &out, &errOut, noEnv)
			require.Equal(t, tc.code, code, "stderr: %s", errOut.String())
			if tc.stdout == "" {
				require.Empty(t, out.String())
			} else {
				require.Contains(t, out.String(), tc.stdout)
			}
			if tc.stderr == "" {
				require.Empty(t, errOut.String())
			} else {
				require.Contains(t, errOut.String(), tc.stderr)
			}
			if tc.jsonFor != "" {
				var rep conformance.Report
				require.NoError(t, json.Unmarshal(out.Bytes(), &rep))
				require.Equal(t, tc.jsonFor, rep.Provider)
				require.Positive(t, rep.Passed)
			}
		})
	}
}

// TestRunPostgres runs a group of the report against the database that
// DUROXIDE_PG_DSN names, in both time modes:
//
//	.ci/pg go test ./cmd/duroxide-spec -run TestRunPostgres
func TestRunPostgres(t *testing.T) {
	dsn := os.Getenv("DUROXIDE_PG_DSN")
	if dsn == "" {
		t.Skip("needs PostgreSQL: .ci/pg go test ./cmd/duroxide-spec -run TestRunPostgres")
	}
	for _, mode := range []struct {
		name string
		args []string
	}{{"fake clock", nil}, {"real time", []string{"-realtime"}}} {
		t.Run(mode.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			args := append([]string{"-provider", "pg", "-json", "-run", "^(atomicity|kv_store)/"}, mode.args...)
			code := run(args, &out, &errOut, os.Getenv)
			require.Equal(t, conformance.ExitConformant, code, "stderr: %s\nstdout: %s", errOut.String(), out.String())
			var rep conformance.Report
			require.NoError(t, json.Unmarshal(out.Bytes(), &rep))
			require.Equal(t, "pgprovider", rep.Provider)
			require.Equal(t, mode.name, rep.Mode)
			require.Equal(t, len(casesOf("atomicity"))+len(casesOf("kv_store")), rep.Passed)
			if mode.args != nil {
				require.Equal(t, 4, rep.Parallel, "pgprovider's real-time default")
			}
		})
	}
}
