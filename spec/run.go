package spec

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// Case is one executable rule of the contract.
//
// A Case is an immutable value, safe to share between goroutines.
type Case struct {
	// Group is the duroxide validation module, e.g. "atomicity".
	Group string
	// Name is the case name within its group, e.g. "concurrent_ack_prevention".
	Name string
	// Run executes the case against a fresh harness.
	Run func(t T, h *Harness)
	// Level says whether duroxide's runtime needs the rule ([Required]) or
	// memprovider recommends it ([Strict]).
	Level Level
}

// Level is how binding a case is.
//
// A Level is an immutable value.
type Level int

// Levels. The zero Level is not a level: every case names one.
const (
	// Required cases check rules whose violation breaks duroxide's runtime,
	// loses or duplicates work, or breaks a rule the contract states as a
	// must. A provider that fails one is not conformant.
	Required Level = iota + 1
	// Strict cases check stronger guarantees (sharper errors, liveness,
	// ordering) that memprovider gives and recommends but duroxide's runtime
	// does not rely on.
	Strict
)

// String returns "required" or "strict".
func (l Level) String() string {
	switch l {
	case Required:
		return "required"
	case Strict:
		return "strict"
	}
	return fmt.Sprintf("Level(%d)", int(l))
}

// AllLevels returns every level, in order: Required, Strict.
func AllLevels() []Level { return []Level{Required, Strict} }

// ParseLevel returns the level named s ("required" or "strict"), or an
// error naming the valid levels.
func ParseLevel(s string) (Level, error) {
	for _, l := range AllLevels() {
		if s == l.String() {
			return l, nil
		}
	}
	return 0, fmt.Errorf("spec: unknown level %q (want \"required\" or \"strict\")", s)
}

// valid reports whether l is one of the levels.
func (l Level) valid() bool { return l == Required || l == Strict }

// MarshalText encodes the level as its name, so that JSON shows "required"
// or "strict". It refuses a Level that is not one of the levels.
func (l Level) MarshalText() ([]byte, error) {
	if !l.valid() {
		return nil, fmt.Errorf("spec: invalid level %d", int(l))
	}
	return []byte(l.String()), nil
}

// UnmarshalText decodes a level name written by MarshalText.
func (l *Level) UnmarshalText(b []byte) error {
	v, err := ParseLevel(string(b))
	if err != nil {
		return err
	}
	*l = v
	return nil
}

// FullName returns "group/case".
func (c Case) FullName() string { return c.Group + "/" + c.Name }

// registry holds every group's cases, in group order.
var registry = [][]Case{
	atomicityCases(),
	bulkDeletionCases(),
	cancellationCases(),
	capabilityFilteringCases(),
	customStatusCases(),
	deletionCases(),
	errorHandlingCases(),
	instanceCreationCases(),
	instanceLockingCases(),
	kvStoreCases(),
	lockExpirationCases(),
	longPollingCases(),
	managementCases(),
	multiExecutionCases(),
	poisonMessageCases(),
	pruneCases(),
	queueSemanticsCases(),
	sessionsCases(),
	tagFilteringCases(),
}

// Cases returns every case of the specification, grouped, in a stable order.
// The returned slice is the caller's.
func Cases() []Case {
	var all []Case
	for _, g := range registry {
		all = append(all, g...)
	}
	return all
}

// Groups returns the group names in order.
func Groups() []string {
	gs := make([]string, len(registry))
	for i, g := range registry {
		gs[i] = g[0].Group
	}
	return gs
}

// Default per-case deadlines, used unless [CaseTimeout] (or the timeout
// argument of [RunCase] and [RunCases]) sets one. A case on a fake clock
// takes milliseconds, so 30 s means it is stuck (it is longer than the 10 s
// the long-poll cases wait for a fetch before they fail saying why); a
// real-time case sleeps for the harness's durations, hence the minute.
const (
	DefaultFakeClockCaseTimeout = 30 * time.Second
	DefaultRealTimeCaseTimeout  = time.Minute
)

// An Option changes how [Run] and [RunConcurrently] run the cases.
//
// Options are immutable values, safe to share.
type Option func(*options)

// options is what the Options set.
type options struct {
	levels  []Level       // nil: every level
	timeout time.Duration // 0: the default for the harness's mode
	errs    []string      // invalid options, reported by Run
}

// Levels runs only the cases of the given levels, e.g.
// spec.Levels(spec.Required) for the cases duroxide's runtime relies on.
// Without it every level runs. An empty or unknown level fails the run.
func Levels(levels ...Level) Option {
	return func(o *options) {
		if len(levels) == 0 {
			o.errs = append(o.errs, "spec.Levels: no level given")
		}
		for _, l := range levels {
			if !l.valid() {
				o.errs = append(o.errs, fmt.Sprintf("spec.Levels: %v is not a level (spec.Required or spec.Strict)", l))
			}
		}
		o.levels = slices.Clone(levels)
	}
}

// CaseTimeout bounds each case's wall time: a case still running after d
// fails with a message saying so (and where it was stuck), instead of
// hanging until go test's own timeout. The default is
// [DefaultFakeClockCaseTimeout] for a harness with a fake clock and
// [DefaultRealTimeCaseTimeout] otherwise. A d that is not positive fails the
// run.
func CaseTimeout(d time.Duration) Option {
	return func(o *options) {
		if d <= 0 {
			o.errs = append(o.errs, fmt.Sprintf("spec.CaseTimeout(%v): the timeout must be positive", d))
		}
		o.timeout = d
	}
}

// newOptions applies opts, failing t on an invalid one.
func newOptions(t testing.TB, opts []Option) options {
	t.Helper()
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	if len(o.errs) > 0 {
		t.Fatalf("%s", strings.Join(o.errs, "\n"))
	}
	return o
}

// selected reports whether c runs under o's level filter.
func (o options) selected(c Case) bool {
	return o.levels == nil || slices.Contains(o.levels, c.Level)
}

// Run runs the cases as subtests of t named "group/case", so that
// go test -run 'TestSpec/sessions/' selects one group. newHarness is called
// once per case and must return a fresh, empty provider. Cases run one at a
// time, each in a goroutine of its own under a deadline (see [CaseTimeout]):
// a case that hangs fails with the place it hung, and the others still run.
// Each case logs its level; [Levels] runs only some levels.
func Run(t *testing.T, newHarness NewHarness, opts ...Option) {
	t.Helper()
	runTests(t, Cases(), newHarness, newOptions(t, opts))
}

// runTests runs the selected cases as subtests "group/case" of t, one group
// (a run of cases with the same Group) at a time.
func runTests(t *testing.T, cases []Case, newHarness NewHarness, o options) {
	t.Helper()
	cases = slices.DeleteFunc(slices.Clone(cases), func(c Case) bool { return !o.selected(c) })
	for i := 0; i < len(cases); {
		end := i + 1
		for end < len(cases) && cases[end].Group == cases[i].Group {
			end++
		}
		group := cases[i:end]
		t.Run(group[0].Group, func(t *testing.T) {
			for _, c := range group {
				t.Run(c.Name, func(t *testing.T) { runTest(t, c, newHarness, o.timeout) })
			}
		})
		i = end
	}
}

// RunConcurrently runs the cases like [Run], but up to n cases at a time,
// each on its own fresh harness, through [RunCases]; it then reports each
// result as subtest "group/case" of t (failures with their messages, skips
// with their reasons). Use it for real-time runs, whose cases mostly sleep:
// the wall time approaches that of the slowest case. Only use it when the
// harnesses' providers are independent of each other. It returns the
// results of the cases run, in case order.
func RunConcurrently(t *testing.T, newHarness NewHarness, n int, opts ...Option) []Result {
	t.Helper()
	o := newOptions(t, opts)
	var cases []Case
	for _, c := range Cases() {
		if o.selected(c) {
			cases = append(cases, c)
		}
	}
	results := RunCases(cases, newHarness, n, o.timeout, nil)
	for i := 0; i < len(cases); {
		group := cases[i].Group
		end := i
		for end < len(cases) && cases[end].Group == group {
			end++
		}
		t.Run(group, func(t *testing.T) {
			for j := i; j < end; j++ {
				r := results[j]
				t.Run(cases[j].Name, func(t *testing.T) {
					t.Logf("level %s", r.Level)
					switch r.Outcome {
					case Failed:
						t.Errorf("%s", strings.Join(r.Messages, "\n"))
					case Skipped, NotApplicable:
						t.Skip(strings.Join(r.Messages, "; "))
					default:
						for _, m := range r.Messages {
							t.Log(m)
						}
					}
				})
			}
		})
		i = end
	}
	return results
}

// RunCases runs cases through [RunCase], up to n at a time, each on its own
// fresh harness, and returns their results in case order. timeout bounds
// each case as in RunCase. started, when non-nil, is called from the calling
// goroutine as each case starts, with the number of cases started so far.
func RunCases(cases []Case, newHarness NewHarness, n int, timeout time.Duration, started func(int, Case)) []Result {
	results := make([]Result, len(cases))
	sem := make(chan struct{}, max(n, 1))
	var wg sync.WaitGroup
	for i, c := range cases {
		sem <- struct{}{}
		if started != nil {
			started(i+1, c)
		}
		wg.Go(func() {
			defer func() { <-sem }()
			results[i] = RunCase(c, newHarness, timeout)
		})
	}
	wg.Wait()
	return results
}

// Outcome is how a case ended.
//
// An Outcome is an immutable value.
type Outcome string

// Case outcomes.
const (
	Passed  Outcome = "passed"
	Failed  Outcome = "failed"
	Skipped Outcome = "skipped"
	// NotApplicable: the case checks a rule that does not concern the
	// provider as its harness declares it (a clock step back, for a
	// provider whose clock cannot step back). Unlike a skip for a missing
	// capability, it leaves no verdict incomplete.
	NotApplicable Outcome = "not applicable"
)

// Result is the outcome of one case run by [RunCase].
//
// A Result is plain data, not synchronized; RunCase returns a fresh one.
type Result struct {
	// Case is "group/case".
	Case string
	// Level is the case's level.
	Level Level
	// Outcome is passed, failed, skipped or not applicable.
	Outcome Outcome
	// Messages are the failure, skip and log messages, in order. A failed
	// case's last message names the rule and where it is documented.
	Messages []string
	// SkipReason is why a skipped or not applicable case did not run,
	// without the "skipped: " prefix of its message; "" otherwise.
	SkipReason string
	// Duration is the case's wall time.
	Duration time.Duration
}

// RunCase runs one case outside go test, with a recording T, and returns its
// result. It is what the conformance report and mutation tests use. A case
// that does not finish within timeout fails, with the stack it was stuck in;
// its goroutine is left running and the harness provider is then in an
// unknown state. A timeout that is not positive selects the default
// ([DefaultFakeClockCaseTimeout] on a fake clock, else
// [DefaultRealTimeCaseTimeout]).
func RunCase(c Case, newHarness NewHarness, timeout time.Duration) Result {
	ctx, cancel := context.WithCancel(context.Background())
	rt := &recordingT{name: c.FullName(), ctx: ctx}
	start := time.Now()
	supervise(rt, c, newHarness, timeout, rt.runCleanups)
	cancel()
	if rt.failedNow() {
		rt.record(ruleNote(c))
	}
	return rt.result(c.Level, time.Since(start))
}
