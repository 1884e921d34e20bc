package spec

import (
	"context"
	"fmt"
	"runtime"
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

// Run runs every case as a subtest named "group/case" of t. newHarness is
// called once per case and must return a fresh, empty provider. Cases run
// sequentially.
func Run(t *testing.T, newHarness NewHarness) {
	t.Helper()
	for _, group := range registry {
		t.Run(group[0].Group, func(t *testing.T) {
			for _, c := range group {
				t.Run(c.Name, func(t *testing.T) { runIn(t, c, newHarness) })
			}
		})
	}
}

// RunConcurrently runs every case like [Run], but up to n cases at a time,
// each on its own fresh harness, through [RunCase]; it then reports each
// result as subtest "group/case" of t (failures with their messages, skips
// with their reasons). Use it for real-time runs, whose cases mostly sleep:
// the wall time approaches that of the slowest case. Only use it when the
// harnesses' providers are independent of each other. timeout bounds each
// case. It returns the results, in case order.
func RunConcurrently(t *testing.T, newHarness NewHarness, n int, timeout time.Duration) []Result {
	t.Helper()
	cases := Cases()
	results := RunCases(cases, newHarness, n, timeout, nil)
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
					switch r.Outcome {
					case Failed:
						t.Errorf("%s", strings.Join(r.Messages, "\n"))
					case Skipped:
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
// fresh harness, and returns their results in case order. started, when
// non-nil, is called from the calling goroutine as each case starts, with
// the number of cases started so far.
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

// runIn builds the case's harness and runs it on t.
func runIn(t T, c Case, newHarness NewHarness) {
	t.Helper()
	h := newHarness(t)
	if h == nil || h.Provider == nil {
		t.Errorf("harness function returned no provider")
		t.FailNow()
	}
	c.Run(t, h.withDefaults())
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
)

// Result is the outcome of one case run by [RunCase].
//
// A Result is plain data, not synchronized; RunCase returns a fresh one.
type Result struct {
	// Case is "group/case".
	Case string
	// Outcome is passed, failed or skipped.
	Outcome Outcome
	// Messages are the failure, skip and log messages, in order.
	Messages []string
	// Duration is the case's wall time.
	Duration time.Duration
}

// RunCase runs one case outside go test, with a recording T, and returns its
// result. It is what the conformance report command and mutation tests use.
// A case that does not finish within timeout fails (its goroutine is left
// running; the harness provider is then in an unknown state).
func RunCase(c Case, newHarness NewHarness, timeout time.Duration) Result {
	ctx, cancel := context.WithCancel(context.Background())
	rt := &recordingT{name: c.FullName(), ctx: ctx}
	start := time.Now()
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer rt.runCleanups()
		defer func() {
			if r := recover(); r != nil {
				rt.fail(fmt.Sprintf("panic: %v", r))
			}
		}()
		runIn(rt, c, newHarness)
	}()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case <-done:
	case <-timer.C:
		rt.fail(fmt.Sprintf("case did not finish within %v", timeout))
	}
	cancel()
	return rt.result(time.Since(start))
}

// recordingT implements T by recording. FailNow and Skipf end the case's
// goroutine with runtime.Goexit, as package testing does.
type recordingT struct {
	name string
	ctx  context.Context

	mu       sync.Mutex
	failed   bool
	skipped  bool
	messages []string
	cleanups []func()
}

func (r *recordingT) Helper()                  {}
func (r *recordingT) Name() string             { return r.name }
func (r *recordingT) Context() context.Context { return r.ctx }

func (r *recordingT) Errorf(format string, args ...any) {
	r.fail(strings.TrimSpace(fmt.Sprintf(format, args...)))
}

func (r *recordingT) fail(msg string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failed = true
	r.messages = append(r.messages, msg)
}

func (r *recordingT) FailNow() {
	r.mu.Lock()
	r.failed = true
	r.mu.Unlock()
	runtime.Goexit()
}

func (r *recordingT) Logf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.messages = append(r.messages, fmt.Sprintf(format, args...))
}

func (r *recordingT) Skipf(format string, args ...any) {
	r.mu.Lock()
	r.skipped = true
	r.messages = append(r.messages, "skipped: "+fmt.Sprintf(format, args...))
	r.mu.Unlock()
	runtime.Goexit()
}

func (r *recordingT) Cleanup(f func()) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.cleanups = append(r.cleanups, f)
}

func (r *recordingT) runCleanups() {
	for {
		r.mu.Lock()
		if len(r.cleanups) == 0 {
			r.mu.Unlock()
			return
		}
		f := r.cleanups[len(r.cleanups)-1]
		r.cleanups = r.cleanups[:len(r.cleanups)-1]
		r.mu.Unlock()
		f()
	}
}

func (r *recordingT) result(d time.Duration) Result {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := Passed
	switch {
	case r.failed:
		out = Failed
	case r.skipped:
		out = Skipped
	}
	return Result{Case: r.name, Outcome: out, Messages: slices.Clone(r.messages), Duration: d}
}
