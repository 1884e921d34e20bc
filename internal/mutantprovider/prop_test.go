package mutantprovider_test

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/duroxide-go/duroxide/proptest"
)

// recordingTB implements rapid.TB by recording, so a property can fail
// against a mutant without failing the test. FailNow, Fatal and Skip end the
// calling goroutine with runtime.Goexit, as package testing does; run the
// check in its own goroutine (see checkRecorded).
type recordingTB struct {
	name string

	mu       sync.Mutex
	failed   bool
	skipped  bool
	messages []string
}

var _ rapid.TB = (*recordingTB)(nil)

func (r *recordingTB) Helper()      {}
func (r *recordingTB) Name() string { return r.name }

func (r *recordingTB) record(failed bool, msg string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if failed {
		r.failed = true
	}
	if msg != "" {
		r.messages = append(r.messages, msg)
	}
}

func (r *recordingTB) Logf(format string, args ...any) { r.record(false, fmt.Sprintf(format, args...)) }
func (r *recordingTB) Log(args ...any)                 { r.record(false, fmt.Sprint(args...)) }
func (r *recordingTB) Errorf(format string, args ...any) {
	r.record(true, fmt.Sprintf(format, args...))
}
func (r *recordingTB) Error(args ...any) { r.record(true, fmt.Sprint(args...)) }
func (r *recordingTB) Fail()             { r.record(true, "") }

func (r *recordingTB) Fatalf(format string, args ...any) {
	r.record(true, fmt.Sprintf(format, args...))
	runtime.Goexit()
}

func (r *recordingTB) Fatal(args ...any) {
	r.record(true, fmt.Sprint(args...))
	runtime.Goexit()
}

func (r *recordingTB) FailNow() {
	r.record(true, "")
	runtime.Goexit()
}

func (r *recordingTB) Skipf(format string, args ...any) { r.skip(fmt.Sprintf(format, args...)) }
func (r *recordingTB) Skip(args ...any)                 { r.skip(fmt.Sprint(args...)) }
func (r *recordingTB) SkipNow()                         { r.skip("") }

func (r *recordingTB) skip(msg string) {
	r.mu.Lock()
	r.skipped = true
	if msg != "" {
		r.messages = append(r.messages, "skipped: "+msg)
	}
	r.mu.Unlock()
	runtime.Goexit()
}

func (r *recordingTB) Failed() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.failed
}

// summary returns the first failure line, for reports.
func (r *recordingTB) summary() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, m := range r.messages {
		if strings.HasPrefix(m, "[rapid] failed") || strings.HasPrefix(m, "[rapid] panic") {
			return firstLine(m)
		}
	}
	if len(r.messages) > 0 {
		return firstLine(r.messages[0])
	}
	return ""
}

// checkRecorded runs rapid.Check(prop) on a recording TB in its own
// goroutine and reports whether the property failed. A check that does not
// end within timeout counts as failed.
func checkRecorded(name string, prop func(*rapid.T), timeout time.Duration) (failed bool, tb *recordingTB) {
	tb = &recordingTB{name: name}
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer func() {
			if r := recover(); r != nil {
				tb.record(true, fmt.Sprintf("panic: %v", r))
			}
		}()
		rapid.Check(tb, prop)
	}()
	select {
	case <-done:
	case <-time.After(timeout):
		tb.record(true, fmt.Sprintf("property check did not finish within %v", timeout))
	}
	return tb.Failed(), tb
}

// propTimeout bounds one property check against a mutant.
const propTimeout = 60 * time.Second

// linHistories is how many concurrent histories are checked for
// linearizability against each mutant (fewer with -short).
func linHistories() int {
	if testing.Short() {
		return 3
	}
	return 8
}

// propKill runs the state-machine property of package proptest against a
// mutant, with rapid.Check on a recording TB. It returns the verdict
// ("killed" or "survived") and the failure's first line.
func propKill(t *testing.T, mutation string) (verdict, msg string) {
	t.Helper()
	if failed, tb := checkRecorded(t.Name(), proptest.Property(harness(mutation)), propTimeout); failed {
		return "killed", tb.summary()
	}
	return "survived", ""
}

// linKill runs linHistories() concurrent histories against a mutant and
// checks each for linearizability. It returns "killed" at the first
// violation, else "inconclusive" when a search ran out of time, else
// "survived".
func linKill(t *testing.T, mutation string) (verdict, msg string) {
	t.Helper()
	verdict = "survived"
	for seed := range int64(linHistories()) {
		ok, info, err := proptest.CheckLinearizable(harness(mutation), seed+1, proptest.WithCheckTimeout(10*time.Second))
		switch {
		case errors.Is(err, proptest.ErrInconclusive):
			verdict = "inconclusive"
		case err != nil:
			t.Fatalf("linearizability check (seed %d): %v", seed+1, err)
		case !ok:
			return "killed", firstLine(info)
		}
	}
	return verdict, ""
}

// TestUnmutatedProptest runs the property tests against the generated
// package with no mutation active: a mutant's property failure must be the
// mutation's.
func TestUnmutatedProptest(t *testing.T) {
	proptest.Run(t, harness())
}

// TestUnmutatedLinearizability checks concurrent histories against the
// generated package with no mutation active: a mutant's linearizability
// violation must be the mutation's.
func TestUnmutatedLinearizability(t *testing.T) {
	proptest.RunLinearizability(t, harness())
}
