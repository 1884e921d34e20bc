package spec

import (
	"bytes"
	"context"
	"fmt"
	"reflect"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// caseT is a T the supervisor can give up on.
type caseT interface {
	T
	// abandon records msg as the case's failure and drops everything the
	// case's goroutine reports afterwards: the runner has moved on.
	abandon(msg string)
	// failRaw records msg as a failure as it is (a stack trace, which
	// readable would garble).
	failRaw(msg string)
}

// supervise runs c on a fresh harness in a goroutine of its own and waits
// until it ends or its deadline passes; it reports whether it ended. after,
// when non-nil, runs in the case's goroutine once the case ends (recordingT
// runs its cleanups there). On the deadline the case is abandoned with a
// message naming the deadline and the stack the case was stuck in.
func supervise(t caseT, c Case, newHarness NewHarness, timeout time.Duration, after func()) bool {
	done := make(chan struct{})
	fake := make(chan bool, 1)
	go func() {
		defer close(done)
		if after != nil {
			defer after()
		}
		defer func() {
			if r := recover(); r != nil {
				t.failRaw(fmt.Sprintf("panic: %v\n%s", r, debug.Stack()))
			}
		}()
		h := newHarness(t)
		if h == nil || h.Provider == nil {
			t.Errorf("harness function returned no provider")
			t.FailNow()
		}
		fake <- h.Clock != nil
		c.Run(t, h.withDefaults())
	}()

	start := time.Now()
	limit, why := timeout, "spec.CaseTimeout"
	if limit <= 0 {
		limit, why = DefaultRealTimeCaseTimeout, "the default for a real-time harness; spec.CaseTimeout changes it"
	}
	timer := time.NewTimer(limit)
	defer timer.Stop()
	for {
		select {
		case <-done:
			return true
		case f := <-fake:
			if timeout <= 0 && f {
				limit, why = DefaultFakeClockCaseTimeout, "the default on a fake clock; spec.CaseTimeout changes it"
				timer.Reset(limit - time.Since(start))
			}
		case <-timer.C:
			msg := fmt.Sprintf("case did not finish within %v (%s): a provider call or a wait never returned.", limit, why)
			if stack := caseStack(c); stack != "" {
				msg += " It was stuck here:\n" + stack
			}
			t.abandon(msg + "\nIts goroutine is abandoned; the provider is in an unknown state.")
			return false
		}
	}
}

// funcName is the name of the case's function, "" when it has none.
func funcName(c Case) string {
	if c.Run == nil {
		return ""
	}
	f := runtime.FuncForPC(reflect.ValueOf(c.Run).Pointer())
	if f == nil {
		return ""
	}
	return f.Name()
}

// caseStack returns the stacks of the goroutines running c's function, ""
// when none is found.
func caseStack(c Case) string {
	name := funcName(c)
	if name == "" {
		return ""
	}
	buf := make([]byte, 1<<16)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) || len(buf) >= 8<<20 {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	var out []string
	for g := range bytes.SplitSeq(buf, []byte("\n\n")) {
		if bytes.Contains(g, []byte(name+"(")) {
			out = append(out, string(g))
		}
	}
	return strings.Join(out, "\n\n")
}

// testT is the T of a case run by [Run]: it forwards to the subtest's
// *testing.T (embedded, so that Helper marks the right frames), runs FailNow
// and Skipf in the case's own goroutine, gives the case a context that ends
// with the case, and drops what an abandoned case reports after its subtest
// ended (testing panics on those).
type testT struct {
	*testing.T
	ctx context.Context

	mu      sync.Mutex
	closed  bool
	skipped bool
}

func (w *testT) Context() context.Context { return w.ctx }

func (w *testT) Errorf(format string, args ...any) {
	w.T.Helper()
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.closed {
		w.T.Errorf("%s", readable(fmt.Sprintf(format, args...)))
	}
}

func (w *testT) Logf(format string, args ...any) {
	w.T.Helper()
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.closed {
		w.T.Logf("%s", readable(fmt.Sprintf(format, args...)))
	}
}

func (w *testT) FailNow() {
	w.mu.Lock()
	if !w.closed {
		w.T.Fail()
	}
	w.mu.Unlock()
	runtime.Goexit()
}

func (w *testT) Skipf(format string, args ...any) {
	w.T.Helper()
	w.mu.Lock()
	if !w.closed {
		w.skipped = true
		w.T.Logf("skipped: %s", fmt.Sprintf(format, args...))
	}
	w.mu.Unlock()
	runtime.Goexit()
}

func (w *testT) Cleanup(f func()) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.closed {
		w.T.Cleanup(f)
	}
}

func (w *testT) failRaw(msg string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.closed {
		w.T.Errorf("%s", msg)
	}
}

func (w *testT) abandon(msg string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.closed = true
	w.T.Errorf("%s", msg)
}

// runTest runs c as the body of subtest t.
func runTest(t *testing.T, c Case, newHarness NewHarness, timeout time.Duration) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	w := &testT{T: t, ctx: ctx}
	t.Logf("level %s", c.Level)
	supervise(w, c, newHarness, timeout, nil)
	cancel()
	w.mu.Lock()
	skipped := w.skipped
	w.closed = true
	w.mu.Unlock()
	switch {
	case t.Failed():
		t.Log(ruleNote(c))
	case skipped:
		t.SkipNow()
	}
}

// recordingT implements T by recording, for [RunCase]. FailNow and Skipf
// end the case's goroutine with runtime.Goexit, as package testing does.
type recordingT struct {
	name string
	ctx  context.Context

	mu       sync.Mutex
	closed   bool
	failed   bool
	skipped  bool
	na       bool // the skip says the case does not apply
	skip     string
	messages []string
	cleanups []func()
}

func (r *recordingT) Helper()                  {}
func (r *recordingT) Name() string             { return r.name }
func (r *recordingT) Context() context.Context { return r.ctx }

func (r *recordingT) Errorf(format string, args ...any) {
	r.fail(readable(strings.TrimSpace(fmt.Sprintf(format, args...))))
}

func (r *recordingT) fail(msg string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.closed {
		r.failed = true
		r.messages = append(r.messages, msg)
	}
}

func (r *recordingT) failRaw(msg string) { r.fail(msg) }

func (r *recordingT) abandon(msg string) {
	r.fail(msg)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closed = true
}

// record appends msg whatever the state: the runner's own notes.
func (r *recordingT) record(msg string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.messages = append(r.messages, msg)
}

func (r *recordingT) FailNow() {
	r.mu.Lock()
	if !r.closed {
		r.failed = true
	}
	r.mu.Unlock()
	runtime.Goexit()
}

func (r *recordingT) Logf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.closed {
		r.messages = append(r.messages, readable(fmt.Sprintf(format, args...)))
	}
}

func (r *recordingT) Skipf(format string, args ...any) {
	r.mu.Lock()
	if !r.closed {
		r.skipped = true
		r.skip = fmt.Sprintf(format, args...)
		r.messages = append(r.messages, "skipped: "+r.skip)
	}
	r.mu.Unlock()
	runtime.Goexit()
}

// markNotApplicable makes the case's coming skip a [NotApplicable] outcome.
func (r *recordingT) markNotApplicable() {
	r.mu.Lock()
	r.na = true
	r.mu.Unlock()
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

func (r *recordingT) failedNow() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.failed
}

func (r *recordingT) result(level Level, d time.Duration) Result {
	r.mu.Lock()
	defer r.mu.Unlock()
	res := Result{Case: r.name, Level: level, Outcome: Passed, Messages: slices.Clone(r.messages), Duration: d}
	switch {
	case r.failed:
		res.Outcome = Failed
	case r.skipped && r.na:
		res.Outcome, res.SkipReason = NotApplicable, r.skip
	case r.skipped:
		res.Outcome, res.SkipReason = Skipped, r.skip
	}
	return res
}
