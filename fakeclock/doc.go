// Package fakeclock provides an injectable source of time and a
// deterministic, manually driven implementation of it for tests.
//
// Code that must be testable without real waiting (lock expiry, visibility
// delays, long polls that wait until work arrives or a timeout passes) reads
// all time from a [Clock] instead of calling the time package directly.
// Production code uses [Real], a thin wrapper over the monotonic reading of
// [time.Now] (anchored once to the wall clock, so it never steps back) and
// [time.NewTimer]. Tests use a [Fake], whose time only moves when the test
// calls [Fake.Advance], [Fake.AdvanceTo] or [Fake.AdvanceToNextTimer], so
// that hours of simulated time cost no wall-clock time at all.
//
// # What this package is not
//
// It is not a general mocking framework and it does not patch, hook or
// otherwise alter the time package: code that calls [time.Now], [time.Sleep]
// or [time.After] directly keeps using the wall clock. Only code written
// against [Clock] is affected. The [Clock] interface is deliberately minimal
// (Now, NewTimer and NewTimerAt) so that other implementations are easy to
// write.
//
// # Fake semantics
//
//   - Time is monotonic. Advance with a negative duration, or AdvanceTo with
//     a time before Now, fails with an error matching [ErrBackwards] and
//     changes nothing.
//   - A timer created with duration d has the deadline Now()+d. A timer with
//     d <= 0 fires at once, as with [time.NewTimer]; it is never pending.
//     [Fake.NewTimerAt] takes the deadline itself; one not after Now fires
//     at once, likewise. A timer that fires at once delivers Now.
//   - When time is advanced, pending timers whose deadline is at or before
//     the target fire in deadline order; timers with equal deadlines fire in
//     creation order. Time advances step by step: while a timer fires, Now
//     reports that timer's deadline, and the value delivered on the timer's
//     channel is its deadline, just as a real timer delivers its fire time.
//     When the call returns, Now reports the target. (If several goroutines
//     advance the same Fake concurrently, each firing step is still atomic
//     and time never moves backwards, but deliveries made by different
//     calls may interleave.)
//   - Timer channels have capacity 1 and sends are non-blocking, so a slow
//     or absent receiver never stalls the clock. A timer fires at most once.
//   - Stop reports whether it prevented the timer from firing; it returns
//     false for a timer that has already fired or was already stopped.
//   - No channel send and no callback happens while the Fake's internal lock
//     is held, so a receiver or callback may freely call back into the Fake.
//   - [Fake.Waiters] counts pending timers (created, not yet fired, not
//     stopped), and [Fake.BlockUntilWaiters] lets a test wait, without
//     polling, until the code under test has started waiting on the clock.
//
// A typical test starts the code under test in a goroutine, calls
// BlockUntilWaiters to know it is blocked on a timer, and then advances the
// clock to release it ([Fake.MustAdvance] fails the test instead of
// returning an error). A Fake prints as its time and pending timers, for a
// failure message when code under test has not returned: code that waits
// on the clock with no one to advance it waits forever.
package fakeclock
