package spec

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/duroxide-go/duroxide"
)

// scenarioEnv names the scenario TestRunScenario plays in a child process.
const scenarioEnv = "SPEC_RUN_SCENARIO"

// nopProvider satisfies duroxide.Provider for runner tests; no method is
// called.
type nopProvider struct{ duroxide.Provider }

func nopHarness(T) *Harness { return &Harness{Provider: nopProvider{}} }

// Case bodies of the scenarios, named so that their names show in stacks
// and rule notes.

func hangForever(T, *Harness) { <-make(chan struct{}) }

func passes(t T, _ *Harness) { t.Logf("ran") }

func failsOnIDs(t T, _ *Harness) {
	require.Equal(t, uint64(5), uint64(6), "event ids") // failsOnIDs line
}

func failsOnPointer(t T, _ *Harness) {
	a, b := "x", "y"
	require.Equal(t, &a, &b, "pointers")
}

func panics(T, *Harness) { panic("boom") }

func skips(t T, _ *Harness) { t.Skipf("no %s", "hooks") }

// reportsLate fails after its deadline, when its subtest has ended: the
// runner must drop the report rather than crash the test binary.
func reportsLate(t T, _ *Harness) {
	time.Sleep(100 * time.Millisecond)
	t.Errorf("late failure")
	t.Logf("late log")
}

// scenarios are the runs TestRunScenario can play.
var scenarios = map[string]func(t *testing.T){
	"hang": func(t *testing.T) {
		runTests(t, []Case{
			{"g", "hang", hangForever, Required},
			{"g", "after", passes, Required},
		}, nopHarness, newOptions(t, []Option{CaseTimeout(100 * time.Millisecond)}))
	},
	"late": func(t *testing.T) {
		runTests(t, []Case{{"g", "late", reportsLate, Required}},
			nopHarness, newOptions(t, []Option{CaseTimeout(20 * time.Millisecond)}))
		// Outlive the late report, which must not crash the binary.
		time.Sleep(300 * time.Millisecond)
		t.Log("outlived")
	},
	"outcomes": func(t *testing.T) {
		runTests(t, []Case{
			{"g", "ids", failsOnIDs, Required},
			{"g", "pointer", failsOnPointer, Strict},
			{"g", "panic", panics, Required},
			{"g", "skip", skips, Required},
			{"h", "pass", passes, Strict},
		}, nopHarness, newOptions(t, nil))
	},
	"required only": func(t *testing.T) {
		runTests(t, []Case{
			{"g", "req", passes, Required},
			{"g", "strict", failsOnIDs, Strict},
			{"h", "strict", failsOnIDs, Strict},
		}, nopHarness, newOptions(t, []Option{Levels(Required)}))
	},
	"no levels":     func(t *testing.T) { Run(t, nopHarness, Levels()) },
	"unknown level": func(t *testing.T) { Run(t, nopHarness, Levels(Level(9))) },
	"zero timeout":  func(t *testing.T) { Run(t, nopHarness, CaseTimeout(0)) },
}

// TestRunScenario plays the scenario named by SPEC_RUN_SCENARIO; without it
// it does nothing. TestRun runs it in a child process, as its scenarios fail.
func TestRunScenario(t *testing.T) {
	name := os.Getenv(scenarioEnv)
	if name == "" {
		t.Skip("runs only as TestRun's child process")
	}
	scenarios[name](t)
}

// playScenario runs scenario name in a child test process and returns its
// verbose output and whether it exited 0.
func playScenario(t *testing.T, name string) (string, bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestRunScenario$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), scenarioEnv+"="+name)
	out, err := cmd.CombinedOutput()
	if err != nil {
		var ee *exec.ExitError
		require.ErrorAs(t, err, &ee, "child process: %s", out)
	}
	return string(out), err == nil
}

func TestRun(t *testing.T) {
	idsLine := lineOf(t, "run_internal_test.go", "// failsOnIDs line")
	tests := []struct {
		scenario string
		ok       bool
		want     []string
		wantNot  []string
	}{
		{"hang", false, []string{
			"--- FAIL: TestRunScenario/g/hang",
			"case did not finish within 100ms (spec.CaseTimeout)",
			"It was stuck here:",
			"spec.hangForever(",
			"--- PASS: TestRunScenario/g/after",
			"level required",
		}, nil},
		{"late", false, []string{
			"--- FAIL: TestRunScenario/g/late",
			"outlived",
		}, []string{"late failure", "late log", "panic"}},
		{"outcomes", false, []string{
			"--- FAIL: TestRunScenario/g/ids",
			"run_internal_test.go:" + idsLine + ":",
			"expected: 5",
			"actual  : 6",
			"rule g/ids (level required) is stated in the doc comment of spec.failsOnIDs (spec/run_internal_test.go:",
			"--- FAIL: TestRunScenario/g/pointer",
			"(*string)(non-nil)",
			"rule g/pointer (level strict)",
			"--- FAIL: TestRunScenario/g/panic",
			"panic: boom",
			"--- SKIP: TestRunScenario/g/skip",
			"skipped: no hooks",
			"--- PASS: TestRunScenario/h/pass",
			"level strict",
		}, []string{"expected: 0x5", "(*string)(0xc"}},
		{"required only", true, []string{
			"--- PASS: TestRunScenario/g/req",
		}, []string{"TestRunScenario/g/strict", "TestRunScenario/h"}},
		{"no levels", false, []string{"spec.Levels: no level given"}, []string{"=== RUN   TestRunScenario/"}},
		{"unknown level", false, []string{"spec.Levels: Level(9) is not a level"}, []string{"=== RUN   TestRunScenario/"}},
		{"zero timeout", false, []string{"spec.CaseTimeout(0s): the timeout must be positive"}, []string{"=== RUN   TestRunScenario/"}},
	}
	for _, tc := range tests {
		t.Run(tc.scenario, func(t *testing.T) {
			out, ok := playScenario(t, tc.scenario)
			require.Equal(t, tc.ok, ok, "exit status; output:\n%s", out)
			for _, w := range tc.want {
				require.Contains(t, out, w)
			}
			for _, w := range tc.wantNot {
				require.NotContains(t, out, w)
			}
		})
	}
}

// lineOf returns the line number, in file, of the line containing marker.
func lineOf(t *testing.T, file, marker string) string {
	t.Helper()
	f, err := os.Open(file)
	require.NoError(t, err)
	defer f.Close()
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		if strings.Contains(sc.Text(), marker) && !strings.Contains(sc.Text(), "lineOf") {
			return strconv.Itoa(n)
		}
	}
	t.Fatalf("%s has no line containing %q", file, marker)
	return ""
}

func TestReadable(t *testing.T) {
	tests := []struct{ in, want string }{
		{"expected: 0x5\nactual  : 0x6", "expected: 5\nactual  : 6"},
		{"[]uint64{0x1, 0x2, 0x1869f}", "[]uint64{1, 2, 99999}"},
		{"(*string)(0xc000012345)", "(*string)(non-nil)"},
		{"(*duroxide.LockedWorkItem)(0xc0000a8000)", "(*duroxide.LockedWorkItem)(non-nil)"},
		{"(*string)(nil)", "(*string)(nil)"},
		{"result {orch:0xc0000a8000 err:<nil>}", "result {orch:<pointer> err:<nil>}"},
		{`token "0x5" stays`, `token "0x5" stays`},
		{`"a \"0x5\"" then 0x10`, `"a \"0x5\"" then 16`},
		{"no hex here", "no hex here"},
		{"word0x5 is not a number", "word0x5 is not a number"},
		{`unterminated "0x5`, `unterminated "0x5`},
	}
	for _, tc := range tests {
		require.Equal(t, tc.want, readable(tc.in), "readable(%q)", tc.in)
	}
}

// TestDocSectionsExist checks that every group names sections of
// docs/provider-semantics.md that exist and mention the group.
func TestDocSectionsExist(t *testing.T) {
	b, err := os.ReadFile("../docs/provider-semantics.md")
	require.NoError(t, err)
	sections := map[string]string{}
	var heading string
	for line := range strings.SplitSeq(string(b), "\n") {
		if h, ok := strings.CutPrefix(line, "#"); ok {
			heading = strings.TrimSpace(strings.TrimLeft(h, "#"))
			// "Sessions (`sessions`)": the title is what precedes the groups.
			heading, _, _ = strings.Cut(heading, " (`")
		}
		sections[heading] += line + "\n"
	}
	for _, g := range Groups() {
		secs := docSectionsOf(g)
		require.NotEmpty(t, secs, "group %s has no documentation section", g)
		for _, s := range secs {
			text, ok := sections[s]
			require.True(t, ok, "group %s: docs/provider-semantics.md has no heading %q", g, s)
			require.Contains(t, text, "`"+g+"`", "section %q does not mention group %s", s, g)
		}
	}
	require.Nil(t, docSectionsOf("no_such_group"))
}

func TestLevelText(t *testing.T) {
	for _, l := range AllLevels() {
		b, err := l.MarshalText()
		require.NoError(t, err)
		var back Level
		require.NoError(t, back.UnmarshalText(b))
		require.Equal(t, l, back)
		p, err := ParseLevel(l.String())
		require.NoError(t, err)
		require.Equal(t, l, p)
	}
	_, err := Level(0).MarshalText()
	require.Error(t, err)
	_, err = ParseLevel("Required")
	require.ErrorContains(t, err, `"required" or "strict"`)
	require.Equal(t, "Level(7)", Level(7).String())
}
