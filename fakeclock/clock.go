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

// Real returns a [Clock] backed by the wall clock: Now calls [time.Now] and
// NewTimer wraps [time.NewTimer], so channel and Stop semantics are those of
// the time package. The returned Clock is stateless and safe for concurrent
// use.
func Real() Clock { return realClock{} }

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

func (realClock) NewTimer(d time.Duration) Timer { return realTimer{time.NewTimer(d)} }

func (realClock) NewTimerAt(deadline time.Time) Timer {
	return realTimer{time.NewTimer(time.Until(deadline))}
}

type realTimer struct{ t *time.Timer }

func (r realTimer) C() <-chan time.Time { return r.t.C }

func (r realTimer) Stop() bool { return r.t.Stop() }
