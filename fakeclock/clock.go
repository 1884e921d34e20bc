package fakeclock

import "time"

// Clock is the source of time. Implementations must be safe for concurrent
// use by multiple goroutines.
type Clock interface {
	// Now returns the clock's current time.
	Now() time.Time
	// NewTimer returns a timer that delivers the clock's time on C() once d
	// has passed. If d <= 0 the timer fires at once.
	NewTimer(d time.Duration) Timer
	// NewTimerAt returns a timer that delivers the clock's time on C() once
	// the clock reaches deadline; a deadline not after Now fires at once.
	// Waiters that compute a deadline under their own lock should use it:
	// it cannot fire late when the clock moves between computing the
	// deadline and arming the timer.
	NewTimerAt(deadline time.Time) Timer
}

// Timer is a single-shot timer created by a [Clock]. Its methods are safe
// for concurrent use by multiple goroutines.
type Timer interface {
	// C returns the channel on which the fire time is delivered. It
	// receives at most one value, and the value is kept until received, so
	// no receiver needs to be waiting when the timer fires. A Fake's
	// channels are buffered with capacity 1; Real uses the channel of the
	// underlying time.Timer.
	C() <-chan time.Time
	// Stop prevents the timer from firing. It returns true if the call
	// stopped the timer, and false if the timer had already fired or been
	// stopped. Stop does not drain the channel.
	Stop() bool
}

// Real returns a [Clock] that reads the system's monotonic clock: its
// time is the wall-clock time when the process first used the package (read
// once, at package initialization) plus the monotonic time elapsed since, so
// it never steps backwards, whatever NTP, an administrator or a VM migration
// does to the wall clock. It drifts from the wall clock by every step and
// slew applied since the anchor, and (as Go's monotonic clock on Linux) does
// not count time the machine spent suspended. NewTimer and NewTimerAt wrap
// [time.NewTimer], so channel and Stop semantics are those of the time
// package; NewTimerAt measures the wait against this clock's Now, so a
// deadline computed from an earlier Now (even one without a monotonic
// reading, such as time.Unix of its UnixNano) is honoured exactly. The
// returned Clock is stateless and safe for concurrent use.
func Real() Clock { return realClock{} }

// realAnchor is Real's anchor: a wall-clock reading with its monotonic one.
var realAnchor = time.Now()

type realClock struct{}

func (realClock) Now() time.Time { return realAnchor.Add(time.Since(realAnchor)) }

func (realClock) NewTimer(d time.Duration) Timer { return realTimer{time.NewTimer(d)} }

func (c realClock) NewTimerAt(deadline time.Time) Timer {
	return realTimer{time.NewTimer(deadline.Sub(c.Now()))}
}

type realTimer struct{ t *time.Timer }

func (r realTimer) C() <-chan time.Time { return r.t.C }

func (r realTimer) Stop() bool { return r.t.Stop() }
