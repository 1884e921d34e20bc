package fakeclock

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// ErrBackwards is returned (wrapped) by [Fake.Advance] and [Fake.AdvanceTo]
// when asked to move time backwards. Match it with [errors.Is].
var ErrBackwards = errors.New("fakeclock: time cannot move backwards")

// Fake is a manually driven [Clock] for tests. Its time only changes when
// Advance, AdvanceTo or AdvanceToNextTimer is called; see the package
// documentation for the exact semantics.
//
// A Fake is safe for concurrent use by multiple goroutines. The zero value
// is a Fake at the Unix epoch (1970-01-01 00:00:00 UTC), ready to use, not at
// time.Time's zero (year 1, which code that keeps time in Unix nanoseconds
// cannot represent); a Fake must not be copied after first use. Use
// [NewFake] to start at a specific time.
type Fake struct {
	mu      sync.Mutex
	started bool // now is set: false only for a zero Fake not yet used
	now     time.Time
	seq     uint64        // creation counter, breaks deadline ties
	pending timerHeap     // pending timers, ordered by (deadline, seq)
	added   chan struct{} // closed and replaced whenever a timer becomes pending
}

var _ Clock = (*Fake)(nil)

// NewFake returns a Fake whose current time is start. Any monotonic clock
// reading in start is discarded, so fake times compare by wall time only.
func NewFake(start time.Time) *Fake {
	return &Fake{started: true, now: start.Round(0)}
}

// zeroStart is the time of a zero Fake.
var zeroStart = time.Unix(0, 0).UTC()

// lock takes f.mu and gives a zero Fake its start time.
func (f *Fake) lock() {
	f.mu.Lock()
	if !f.started {
		f.now, f.started = zeroStart, true
	}
}

// Now returns the Fake's current time.
func (f *Fake) Now() time.Time {
	f.lock()
	defer f.mu.Unlock()
	return f.now
}

// NewTimer returns a [Timer] that fires once the Fake's time reaches
// Now()+d, delivering that deadline on its channel. If d <= 0 the timer
// fires at once, delivering Now(), and is never counted by Waiters.
func (f *Fake) NewTimer(d time.Duration) Timer {
	t := &fakeTimer{f: f, c: make(chan time.Time, 1)}
	f.schedule(t, d)
	return t
}

// AfterFunc returns a [Timer] that calls fn once the Fake's time reaches
// Now()+d; if d <= 0, fn is called before AfterFunc returns. Unlike
// [time.AfterFunc], fn runs synchronously in the goroutine that advances the
// clock (after the Fake's lock has been released), so once the advancing call
// returns every due callback has completed. fn may call methods of the Fake,
// but must not block waiting for the advancing call to return. The returned
// Timer's C method returns nil; use Stop to cancel the call.
func (f *Fake) AfterFunc(d time.Duration, fn func()) Timer {
	t := &fakeTimer{f: f, fn: fn}
	f.schedule(t, d)
	return t
}

// schedule gives t the deadline Now()+d (see scheduleAtLocked).
func (f *Fake) schedule(t *fakeTimer, d time.Duration) {
	f.lock()
	f.scheduleAtLocked(t, f.now.Add(d))
}

// NewTimerAt returns a [Timer] that fires once the Fake's time reaches
// deadline; a deadline at or before Now fires at once. Unlike NewTimer it has
// no compute-then-arm race: a caller that computed deadline from an earlier
// Now still gets a timer at exactly that instant even if the clock moved in
// between.
func (f *Fake) NewTimerAt(deadline time.Time) Timer {
	t := &fakeTimer{f: f, c: make(chan time.Time, 1)}
	f.lock()
	f.scheduleAtLocked(t, deadline)
	return t
}

// scheduleAtLocked, called with f.mu held (and releasing it), assigns t its
// deadline and either makes it pending or, when the deadline is not after
// Now, fires it immediately.
func (f *Fake) scheduleAtLocked(t *fakeTimer, deadline time.Time) {
	t.seq = f.seq
	f.seq++
	if !deadline.After(f.now) {
		t.deadline = f.now
		t.index = -1
		f.mu.Unlock()
		t.fire()
		return
	}
	t.deadline = deadline
	heap.Push(&f.pending, t)
	if f.added != nil {
		close(f.added)
		f.added = nil
	}
	f.mu.Unlock()
}

// StepBack moves the Fake's time back by d, as NTP or a VM migration steps a
// wall clock back: pending timers keep their deadlines (they fire once time
// reaches them again) and nothing fires. It exists to test code that must
// survive a clock that is not monotonic; [Fake.Advance] never moves time
// backwards. A negative d returns an error wrapping [ErrBackwards] and
// changes nothing.
func (f *Fake) StepBack(d time.Duration) error {
	if d < 0 {
		return fmt.Errorf("fakeclock: StepBack(%v): %w", d, ErrBackwards)
	}
	f.lock()
	f.now = f.now.Add(-d)
	f.mu.Unlock()
	return nil
}

// Advance moves the Fake's time forward by d, firing every timer whose
// deadline is reached, in deadline order. When Advance returns, Now reports
// the old time plus d. A negative d returns an error wrapping
// [ErrBackwards] and changes nothing; d == 0 fires nothing that has not
// already fired.
func (f *Fake) Advance(d time.Duration) error {
	if d < 0 {
		return fmt.Errorf("fakeclock: Advance(%v): %w", d, ErrBackwards)
	}
	f.lock()
	target := f.now.Add(d)
	f.mu.Unlock()
	f.runUntil(target)
	return nil
}

// AdvanceTo moves the Fake's time forward to t, firing every timer whose
// deadline is at or before t, in deadline order. When AdvanceTo returns, Now
// reports t (or a later time, if another goroutine advanced the clock
// further meanwhile). If t is before Now, AdvanceTo returns an error wrapping
// [ErrBackwards] and changes nothing.
func (f *Fake) AdvanceTo(t time.Time) error {
	t = t.Round(0)
	f.lock()
	now := f.now
	f.mu.Unlock()
	if t.Before(now) {
		return fmt.Errorf("fakeclock: AdvanceTo(%v) before Now (%v): %w", t, now, ErrBackwards)
	}
	f.runUntil(t)
	return nil
}

// AdvanceToNextTimer moves the Fake's time to the deadline of the earliest
// pending timer and fires it together with every other timer due at that
// instant. It returns how far time moved and true, or 0 and false, without
// changing anything, if no timer is pending.
func (f *Fake) AdvanceToNextTimer() (time.Duration, bool) {
	f.lock()
	if len(f.pending) == 0 {
		f.mu.Unlock()
		return 0, false
	}
	before := f.now
	due := f.popDue(f.pending[0].deadline)
	moved := f.now.Sub(before)
	f.mu.Unlock()
	fireAll(due)
	return moved, true
}

// runUntil fires due timers one deadline at a time, releasing the lock
// before each delivery, and finally sets the time to target unless the
// clock has already moved past it.
func (f *Fake) runUntil(target time.Time) {
	for {
		f.lock()
		if len(f.pending) == 0 || f.pending[0].deadline.After(target) {
			if f.now.Before(target) {
				f.now = target
			}
			f.mu.Unlock()
			return
		}
		due := f.popDue(f.pending[0].deadline)
		f.mu.Unlock()
		fireAll(due)
	}
}

// popDue removes every pending timer whose deadline is at or before at,
// in (deadline, seq) order, and moves the time to at if it is later than
// the current time. f.mu must be held.
func (f *Fake) popDue(at time.Time) []*fakeTimer {
	var due []*fakeTimer
	for len(f.pending) > 0 && !f.pending[0].deadline.After(at) {
		due = append(due, heap.Pop(&f.pending).(*fakeTimer))
	}
	if f.now.Before(at) {
		f.now = at
	}
	return due
}

func fireAll(due []*fakeTimer) {
	for _, t := range due {
		t.fire()
	}
}

// TB is the part of testing.TB that [Fake.MustAdvance] uses, so that this
// package need not import testing: *testing.T, *testing.B and *testing.F
// implement it. Implementations must allow Helper and Fatalf from the
// goroutine that calls MustAdvance.
type TB interface {
	Helper()
	Fatalf(format string, args ...any)
}

// MustAdvance is [Fake.Advance] for tests: instead of returning an error for
// a negative d, it calls tb.Fatalf (so, with a *testing.T, it must be called
// from the test's goroutine), and changes nothing.
func (f *Fake) MustAdvance(tb TB, d time.Duration) {
	tb.Helper()
	if err := f.Advance(d); err != nil {
		tb.Fatalf("%v", err)
	}
}

// String describes the Fake for a test's failure message: its time, how
// many timers are pending and when the earliest fires. A test blocked on
// code that waits on the clock (a long poll, say) that sees no pending
// timer knows the code is not waiting on this clock; one that sees a timer
// knows how far to advance.
func (f *Fake) String() string {
	f.lock()
	defer f.mu.Unlock()
	now := f.now.Format(time.RFC3339Nano)
	switch len(f.pending) {
	case 0:
		return "fake clock at " + now + ", no pending timer"
	case 1:
		return fmt.Sprintf("fake clock at %s, 1 pending timer, due in %v", now, f.pending[0].deadline.Sub(f.now))
	}
	return fmt.Sprintf("fake clock at %s, %d pending timers, the first due in %v", now, len(f.pending), f.pending[0].deadline.Sub(f.now))
}

// Waiters returns the number of pending timers: created with a positive
// duration, not yet fired and not stopped.
func (f *Fake) Waiters() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.pending)
}

// BlockUntilWaiters blocks until at least n timers are pending (see
// [Fake.Waiters]) or ctx ends, in which case it returns an error wrapping
// ctx.Err(). It does not poll: it is woken whenever a timer becomes pending.
// A non-positive n returns nil at once.
func (f *Fake) BlockUntilWaiters(ctx context.Context, n int) error {
	for {
		f.mu.Lock()
		have := len(f.pending)
		if have >= n {
			f.mu.Unlock()
			return nil
		}
		if f.added == nil {
			f.added = make(chan struct{})
		}
		added := f.added
		f.mu.Unlock()

		select {
		case <-added:
		case <-ctx.Done():
			return fmt.Errorf("fakeclock: waiting for %d pending timers (have %d): %w", n, have, ctx.Err())
		}
	}
}

// fakeTimer is a Timer of a Fake. Its scheduling fields are guarded by
// f.mu; c and fn are immutable after creation.
type fakeTimer struct {
	f        *Fake
	c        chan time.Time // nil for AfterFunc timers
	fn       func()         // nil for channel timers
	deadline time.Time
	seq      uint64
	index    int // position in f.pending, or -1 when not pending
}

func (t *fakeTimer) C() <-chan time.Time { return t.c }

func (t *fakeTimer) Stop() bool {
	t.f.mu.Lock()
	defer t.f.mu.Unlock()
	if t.index < 0 {
		return false
	}
	heap.Remove(&t.f.pending, t.index)
	return true
}

// fire delivers the timer's deadline or runs its callback. It must be
// called without holding f.mu, exactly once per timer.
func (t *fakeTimer) fire() {
	if t.fn != nil {
		t.fn()
		return
	}
	select {
	case t.c <- t.deadline:
	default:
	}
}

// timerHeap is a min-heap of pending timers ordered by (deadline, seq).
// It implements heap.Interface and keeps each timer's index up to date.
type timerHeap []*fakeTimer

func (h timerHeap) Len() int { return len(h) }

func (h timerHeap) Less(i, j int) bool {
	if !h[i].deadline.Equal(h[j].deadline) {
		return h[i].deadline.Before(h[j].deadline)
	}
	return h[i].seq < h[j].seq
}

func (h timerHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index = i
	h[j].index = j
}

func (h *timerHeap) Push(x any) {
	t := x.(*fakeTimer)
	t.index = len(*h)
	*h = append(*h, t)
}

func (h *timerHeap) Pop() any {
	old := *h
	n := len(old)
	t := old[n-1]
	old[n-1] = nil
	t.index = -1
	*h = old[:n-1]
	return t
}
