package orchestration

import (
	"errors"

	"github.com/duroxide-go/duroxide"
)

// ErrTurnEnded is returned by blocking calls made after the engine ended the
// turn (for example from a deferred function while the orchestration
// goroutine is being torn down). The work is not lost: the next turn replays
// the orchestration and the call blocks or resolves there. Not retryable
// within the turn.
var ErrTurnEnded = errors.New("orchestration: turn ended")

// TaskFailedError is the error a future of an activity or sub-orchestration
// returns when the work failed. Error() is the failure's DisplayMessage, the
// same text duroxide hands to orchestration code. Plain data.
type TaskFailedError struct {
	// Details is the failure recorded in history.
	Details duroxide.ErrorDetails
}

// Error implements error.
func (e *TaskFailedError) Error() string { return e.Details.DisplayMessage() }

type slotKind uint8

const (
	kindActivity slotKind = iota
	kindTimer
	kindExternal
	kindQueue
	kindSubOrch
	kindDetached
	kindOther
)

// slot is the state behind one durable future: its binding to a scheduling
// event, its result, and whether code observed or abandoned it.
type slot struct {
	token      uint64
	kind       slotKind
	scheduleID uint64
	bound      bool
	open       bool   // bound to a stored schedule, completion not yet replayed (turnState.open)
	name       string // external/queue name
	subIndex   int    // external: raw subscription index per name
	child      string // sub-orchestration: history instance id once bound

	has     bool // activity/timer/sub-orchestration result delivered
	failed  bool
	value   string
	details duroxide.ErrorDetails

	owner *coro // the coroutine that scheduled it

	queueDone bool // queue: value taken
	completed bool // code observed the future ready
	cancelled bool // code abandoned the future before it completed
}

// Awaitable is a durable future of any result type, for [Select] and [All].
// It is implemented only by *[Future], and shares its goroutine
// confinement.
type Awaitable interface {
	ready(c *Context) bool
	observe()
	abandon(c *Context)
	context() *Context
}

// Future is the pending result of a durable operation (activity, timer,
// external event, queue message, sub-orchestration, system call). Get blocks
// the orchestration until the result is known; a future that is never
// observed is cancelled when the orchestration returns, and the losers of a
// [Select] are cancelled at once (activities and sub-orchestrations are then
// cancelled for real; timers and subscriptions only stop waiting).
//
// A Future belongs to its orchestration's goroutine: use it only from the
// orchestration function that created it, never from other goroutines.
type Future[T any] struct {
	c      *Context
	s      *slot
	decode func(raw string) (T, error) // nil: JSON (decodeJSON)
	// never is set for futures that can never resolve within this engine.
	never bool
	// err, when set, is returned by Get at once (the call was refused).
	err error
	// br is set for a branch's future ([Go]).
	br *coro
}

func (f *Future[T]) context() *Context { return f.c }

func (f *Future[T]) ready(c *Context) bool {
	if f.err != nil {
		return true
	}
	if f.br != nil {
		return c.pollBranch(f.br)
	}
	if f.never || f.s == nil {
		return false
	}
	return c.slotReady(f.s)
}

func (f *Future[T]) observe() {
	if f.br != nil {
		f.br.observed = true
	}
	if f.s != nil {
		f.s.completed = true
	}
}

func (f *Future[T]) abandon(c *Context) {
	if f.br != nil {
		c.abandonBranch(f.br)
	}
	if f.s != nil {
		c.cancelSlot(f.s)
	}
}

// decodeRaw decodes a raw result with decode, or from JSON when decode is
// nil (most futures: no function value to allocate per future).
func (f *Future[T]) decodeRaw(raw string) (T, error) {
	if f.decode == nil {
		return decodeJSON[T](raw)
	}
	return f.decode(raw)
}

// wait makes f a waiter: ready in its own context.
func (f *Future[T]) wait() bool { return f.ready(f.c) }

// Get blocks until the result is known and returns it. An activity or
// sub-orchestration failure is a *[TaskFailedError]; a result that does not
// decode into T is a decoding error; after the turn ended it returns
// [ErrTurnEnded].
func (f *Future[T]) Get() (T, error) {
	var zero T
	if f.err != nil {
		return zero, f.err
	}
	if f.br != nil {
		if !f.c.block(f) {
			return zero, ErrTurnEnded
		}
		f.br.observed = true
		return f.decodeRaw("")
	}
	if f.s == nil || f.c.closed() {
		return zero, ErrTurnEnded
	}
	if !f.c.block(f) {
		return zero, ErrTurnEnded
	}
	f.s.completed = true
	raw, err := f.c.slotResult(f.s)
	if err != nil {
		return zero, err
	}
	return f.decodeRaw(raw)
}

// Cancel abandons the future: a scheduled activity or sub-orchestration is
// cancelled, a subscription stops waiting. Cancelling a future that already
// completed does nothing.
func (f *Future[T]) Cancel() {
	if f.br != nil {
		if !f.c.closed() && !f.br.observed {
			f.c.abandonBranch(f.br)
		}
		return
	}
	if f.s == nil || f.c.closed() || f.s.completed {
		return
	}
	f.c.cancelSlot(f.s)
}

// Select blocks until at least one of futs is ready and returns the index of
// the first ready one in argument order (so the choice is deterministic). The
// other futures are cancelled, as duroxide cancels the losers of a select;
// read the winner with its Get. It returns -1 for no futures or after the
// turn ended.
func Select(futs ...Awaitable) int {
	if len(futs) == 0 {
		return -1
	}
	c := futs[0].context()
	winner := -1
	ok := c.block(waitFunc(func() bool {
		for i, f := range futs {
			if f.ready(c) {
				winner = i
				return true
			}
		}
		return false
	}))
	if !ok {
		return -1
	}
	futs[winner].observe()
	for i, f := range futs {
		if i != winner {
			f.abandon(c)
		}
	}
	return winner
}

// All blocks until every one of futs is ready; read the results with each
// future's Get. It returns false only when the turn ended first.
func All(futs ...Awaitable) bool {
	if len(futs) == 0 {
		return true
	}
	c := futs[0].context()
	ok := c.block(waitFunc(func() bool {
		// Every future is polled, as a join polls all its children: a
		// branch ([Go]) advances even when an earlier one is not ready.
		all := true
		for _, f := range futs {
			if !f.ready(c) {
				all = false
			}
		}
		return all
	}))
	if ok {
		for _, f := range futs {
			f.observe()
		}
	}
	return ok
}

// AllOf waits for every future of a slice and returns their results in order.
// The first error (in slice order) is returned with the results gathered so
// far left in place.
func AllOf[T any](futs []*Future[T]) ([]T, error) {
	out := make([]T, len(futs))
	if len(futs) == 0 {
		return out, nil
	}
	aw := make([]Awaitable, len(futs))
	for i, f := range futs {
		aw[i] = f
	}
	if !All(aw...) {
		return out, ErrTurnEnded
	}
	var first error
	for i, f := range futs {
		v, err := f.Get()
		out[i] = v
		if err != nil && first == nil {
			first = err
		}
	}
	return out, first
}

func rawString(s string) (string, error) { return s, nil }

// Map returns a future of fn applied to f's result, with f's identity: it
// resolves, is selected and is cancelled exactly as f (duroxide's
// DurableFuture::map). fn runs in the orchestration and must be
// deterministic; an error from f skips fn.
func Map[T, U any](f *Future[T], fn func(T) (U, error)) *Future[U] {
	return &Future[U]{c: f.c, s: f.s, never: f.never, err: f.err, decode: func(raw string) (U, error) {
		v, err := f.decodeRaw(raw)
		if err != nil {
			var zero U
			return zero, err
		}
		return fn(v)
	}}
}
