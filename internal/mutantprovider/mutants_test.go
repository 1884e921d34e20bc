package mutantprovider_test

import (
	"flag"
	"fmt"
	"maps"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/duroxide-go/duroxide/fakeclock"
	"github.com/duroxide-go/duroxide/internal/mutantprovider"
	"github.com/duroxide-go/duroxide/spec"
)

// updateDoc rewrites the kill matrix in docs/mutants.md from this run.
var updateDoc = flag.Bool("update-mutants-doc", false, "write TestMutants' kill matrix into docs/mutants.md")

// specStart is the fake clock's start time.
var specStart = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// caseTimeout bounds one spec case against a mutant (cases take
// milliseconds on a fake clock; a mutant may make one wait forever).
const caseTimeout = 10 * time.Second

// harness returns a spec harness building a provider with the named
// mutations (none: the unmutated copy of memprovider) on a fresh fake clock.
func harness(mutations ...string) spec.NewHarness {
	return func(spec.T) *spec.Harness {
		clock := fakeclock.NewFake(specStart)
		p := mutantprovider.New(mutantprovider.WithClock(clock), mutantprovider.WithMutation(mutations...))
		return &spec.Harness{Provider: p, Clock: clock, Hooks: mutantprovider.Hooks{P: p}, LongPolling: true, ClockStepsBack: true}
	}
}

var _ spec.Hooks = mutantprovider.Hooks{}

// TestUnmutatedSpec runs the whole specification against the generated
// package with no mutation active: it must behave exactly like memprovider,
// so every mutant's failures are the mutation's.
func TestUnmutatedSpec(t *testing.T) {
	spec.Run(t, harness())
}

// specKills runs every spec case against a fresh provider with mutation
// active and returns the failing cases (with their first message) and the
// number of cases run. Cases run a few at a time: they are independent, and
// a case a mutant makes hang costs caseTimeout once, not once per remaining
// case.
func specKills(mutation string) (failed []string, total int) {
	results := spec.RunCases(spec.Cases(), harness(mutation), max(2, runtime.GOMAXPROCS(0)), caseTimeout, nil)
	for _, r := range results {
		if r.Outcome == spec.Failed {
			msg := ""
			if len(r.Messages) > 0 {
				msg = specSummary(r.Messages[0])
			}
			failed = append(failed, r.Case+": "+msg)
		}
	}
	return failed, len(results)
}

// specSummary shortens a spec failure: testify's Messages and Error lines
// when it has them, else its first line.
func specSummary(s string) string {
	var parts []string
	for _, l := range strings.Split(s, "\n") {
		l = strings.TrimSpace(l)
		for _, key := range []string{"Messages:", "Error:"} {
			if v, ok := strings.CutPrefix(l, key); ok {
				parts = append(parts, strings.TrimSpace(v))
			}
		}
	}
	if len(parts) == 0 {
		return firstLine(s)
	}
	slices.Reverse(parts) // Messages first
	out := strings.Join(parts, ": ")
	if len(out) > 300 {
		out = out[:300] + "..."
	}
	return out
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return s
}

// killRow is one mutant's line of the kill matrix.
type killRow struct {
	mutation  mutantprovider.Mutation
	specFails int
	specTotal int
	firstSpec string // first failing case, with its first message
	prop      string // proptest: "killed" or "survived"
	propMsg   string
	lin       string // linearizability: "killed", "survived" or "inconclusive"
	linMsg    string

	specTime, propTime, linTime time.Duration
}

func (r killRow) killed() bool {
	return r.specFails > 0 || r.prop == "killed" || r.lin == "killed"
}

// TestMutants runs the spec and the property tests against every mutant,
// asserts that each is killed by at least one of them, and logs the kill
// matrix (written to docs/mutants.md with -update-mutants-doc).
func TestMutants(t *testing.T) {
	if problems := staleness(); len(problems) > 0 {
		t.Fatalf("the generated mutants are not memprovider's current source, so kills would be meaningless:\n%s", strings.Join(problems, "\n"))
	}
	muts := mutantprovider.Mutations()
	if len(muts) < 20 {
		t.Fatalf("only %d mutants; the catalog must hold at least 20", len(muts))
	}
	defer rapidForMutants(t)()
	start := time.Now()
	var mu sync.Mutex
	rows := make(map[string]killRow)
	t.Run("mutant", func(t *testing.T) {
		for _, m := range muts {
			t.Run(m.Name, func(t *testing.T) {
				t.Parallel()
				row := killRow{mutation: m}
				began := time.Now()
				fails, total := specKills(m.Name)
				row.specFails, row.specTotal = len(fails), total
				if len(fails) > 0 {
					row.firstSpec = fails[0]
				}
				row.specTime = time.Since(began)
				began = time.Now()
				row.prop, row.propMsg = propKill(t, m.Name)
				row.propTime = time.Since(began)
				began = time.Now()
				row.lin, row.linMsg = linKill(t, m.Name)
				row.linTime = time.Since(began)
				mu.Lock()
				rows[m.Name] = row
				mu.Unlock()
				if !row.killed() {
					t.Errorf("mutant %s (%s) survived the spec (%d cases) and proptest", m.Name, m.Bug, total)
				}
			})
		}
	})

	ordered := make([]killRow, 0, len(muts))
	for _, m := range muts {
		if r, ok := rows[m.Name]; ok {
			ordered = append(ordered, r)
		}
	}
	t.Logf("kill matrix (%d mutants, %v):\n%s", len(ordered), time.Since(start).Round(time.Millisecond), matrix(ordered, true))
	if *updateDoc {
		if len(ordered) != len(muts) {
			t.Fatalf("-update-mutants-doc needs every mutant; %d of %d ran", len(ordered), len(muts))
		}
		if err := writeMatrix("../../docs/mutants.md", matrix(ordered, false)); err != nil {
			t.Fatal(err)
		}
	}
}

// matrix renders the kill matrix as a Markdown table; verbose adds the
// first failure of each column and the time each took.
func matrix(rows []killRow, verbose bool) string {
	var b strings.Builder
	b.WriteString("| mutant | bug | spec: failing cases | proptest | linearizability | first failing spec case |\n")
	b.WriteString("|---|---|---|---|---|---|\n")
	for _, r := range rows {
		first, _, _ := strings.Cut(r.firstSpec, ":")
		if first == "" {
			first = "(none)"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %d / %d | %s | %s | %s |\n", r.mutation.Name, r.mutation.Bug, r.specFails, r.specTotal, r.prop, r.lin, first)
	}
	var bySpec, byProp, byLin int
	for _, r := range rows {
		if r.specFails > 0 {
			bySpec++
		}
		if r.prop == "killed" {
			byProp++
		}
		if r.lin == "killed" {
			byLin++
		}
	}
	fmt.Fprintf(&b, "\nKilled by the spec: %d of %d mutants; by proptest: %d; by linearizability: %d.\n", bySpec, len(rows), byProp, byLin)
	if verbose {
		b.WriteString("\nfirst failures and times (spec / proptest / linearizability):\n")
		for _, r := range rows {
			fmt.Fprintf(&b, "%s (%v / %v / %v)\n", r.mutation.Name, r.specTime.Round(time.Millisecond), r.propTime.Round(time.Millisecond), r.linTime.Round(time.Millisecond))
			for _, m := range []string{r.firstSpec, r.propMsg, r.linMsg} {
				if m != "" {
					fmt.Fprintf(&b, "\t%s\n", m)
				}
			}
		}
	}
	return b.String()
}

const (
	beginMarker = "<!-- BEGIN KILL MATRIX (go test ./internal/mutantprovider -run TestMutants -update-mutants-doc) -->"
	endMarker   = "<!-- END KILL MATRIX -->"
)

// writeMatrix replaces the text between the kill-matrix markers of path.
func writeMatrix(path, table string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	s := string(b)
	i, j := strings.Index(s, beginMarker), strings.Index(s, endMarker)
	if i < 0 || j < i {
		return fmt.Errorf("%s: kill matrix markers not found", path)
	}
	s = s[:i+len(beginMarker)] + "\n" + table + s[j:]
	return os.WriteFile(path, []byte(s), 0o644)
}

// mutantChecks is rapid's number of checks per mutant (rapid divides it by
// 5 with -short). A property check stops at the first failure, so only
// mutants the property does not kill pay for all of them; the mutants that
// only the property kills fall within the first ~50 checks.
const mutantChecks = "500"

// rapidForMutants sets rapid's flags for mutant runs and returns a function
// restoring them: no fail files (a mutant's expected failure must not write
// testdata/rapid/ into the repository), short shrinking (the report needs a
// verdict, not a minimal case), and mutantChecks checks unless -rapid.checks
// was given on the command line. rapid reads its flags at every Check, and
// only this package's test binary sees these values.
func rapidForMutants(t *testing.T) (restore func()) {
	t.Helper()
	explicit := map[string]bool{}
	flag.Visit(func(f *flag.Flag) { explicit[f.Name] = true })
	set := map[string]string{"rapid.nofailfile": "true", "rapid.shrinktime": "200ms"}
	if !explicit["rapid.checks"] {
		set["rapid.checks"] = mutantChecks
	}
	old := map[string]string{}
	for _, name := range slices.Sorted(maps.Keys(set)) {
		f := flag.Lookup(name)
		if f == nil {
			t.Fatalf("rapid flag -%s not registered", name)
		}
		old[name] = f.Value.String()
		if err := flag.Set(name, set[name]); err != nil {
			t.Fatal(err)
		}
	}
	return func() {
		for name, v := range old {
			if err := flag.Set(name, v); err != nil {
				t.Errorf("restore -%s: %v", name, err)
			}
		}
	}
}
