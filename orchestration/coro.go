package orchestration

import (
	"fmt"
	"iter"
	"time"
)

type msgKind uint8

const (
	msgBlocked msgKind = iota
	msgDone
	msgPanic
	msgExited
	msgStuck
)

type coMsg struct {
	kind     msgKind
	out      string
	err      error
	panicMsg string
}

// coro runs one orchestration function on its own goroutine with strict
// hand-off: the engine and the orchestration never run at the same time.
// run resumes it until it blocks or ends; teardown ends a blocked one with
// runtime.Goexit (which user code cannot swallow) and waits for its exit.
// yield has room for one message so that a goroutine abandoned as stuck
// can still post its last message and exit.
type coro struct {
	c           *Context
	h           Handler
	input       string
	resume      chan bool
	yield       chan coMsg
	started     bool
	done        bool
	stuck       bool
	stepTimeout time.Duration

	// Inline mode (EngineOptions.Inline without a step timeout): the
	// function runs as an iter.Pull coroutine, whose switches are direct
	// hand-offs instead of goroutine wake-ups through the scheduler.
	inline   bool
	next     func() (coMsg, bool)
	stopPull func()
	yieldFn  func(coMsg) bool

	// Branches ([Go]) only.
	body     func() (string, error) // runs on the coroutine instead of h
	cond     waiter                 // what it waits for while blocked
	killed   bool                   // abandoned: its view is closed
	err      error                  // its function's error once done
	owner    *coro                  // the coroutine that started it
	observed bool                   // its result was taken
}

// newCoro returns c's main coroutine, which runs h with input; it lives in
// c's state.
func newCoro(c *Context, h Handler, input string) *coro {
	co := &c.main
	*co = coro{c: c, h: h, input: input} // channels: made by start, in goroutine mode
	c.co = co
	return co
}

// errTornDown unwinds an inline coroutine's stack when its turn ends
// while it is blocked (the goroutine form uses runtime.Goexit, which an
// iter.Pull coroutine would pass on to its caller).
var errTornDown = &struct{ string }{"orchestration: turn ended"}

// seq is the inline coroutine's body.
func (co *coro) seq(yield func(coMsg) bool) {
	co.yieldFn = yield
	returned := false
	var out string
	var err error
	defer func() {
		r := recover()
		switch {
		case returned:
			yield(coMsg{kind: msgDone, out: out, err: err})
		case r == errTornDown:
		case r != nil:
			yield(coMsg{kind: msgPanic, panicMsg: panicMessage(r)})
		}
	}()
	if co.body != nil {
		out, err = co.body()
	} else {
		out, err = co.h(co.c, co.input)
	}
	returned = true
}

func (co *coro) start() {
	if co.inline {
		co.next, co.stopPull = iter.Pull(co.seq)
		return
	}
	co.resume, co.yield = make(chan bool), make(chan coMsg, 1)
	go func() {
		returned := false
		var out string
		var err error
		defer func() {
			r := recover()
			switch {
			case returned:
				co.yield <- coMsg{kind: msgDone, out: out, err: err}
			case r != nil:
				co.yield <- coMsg{kind: msgPanic, panicMsg: panicMessage(r)}
			default:
				co.yield <- coMsg{kind: msgExited}
			}
		}()
		if co.body != nil {
			out, err = co.body()
		} else {
			out, err = co.h(co.c, co.input)
		}
		returned = true
	}()
}

// run resumes the orchestration and waits until it blocks or ends.
func (co *coro) run() coMsg {
	if !co.started {
		co.started = true
		co.start()
	} else if !co.inline {
		co.resume <- true
	}
	var m coMsg
	if co.inline {
		var ok bool
		if m, ok = co.next(); !ok {
			m = coMsg{kind: msgExited}
		}
	} else if co.stepTimeout > 0 {
		t := time.NewTimer(co.stepTimeout)
		select {
		case m = <-co.yield:
			t.Stop()
		case <-t.C:
			co.stuck, co.done = true, true
			return coMsg{kind: msgStuck}
		}
	} else {
		m = <-co.yield
	}
	switch m.kind {
	case msgDone, msgPanic:
		co.done = true
	case msgExited:
		co.done = true
		m = coMsg{kind: msgPanic, panicMsg: errExited.Error()}
	}
	return m
}

// teardown ends a blocked orchestration goroutine and waits for it.
func (co *coro) teardown() {
	co.c.sealed = true
	if co.inline {
		if co.stopPull != nil {
			co.stopPull() // unwinds a blocked function; ends a finished one
		}
		co.done = true
		return
	}
	if !co.started || co.done {
		return // finished, or stuck (abandoned)
	}
	co.resume <- false
	<-co.yield
	co.done = true
}

func panicMessage(r any) string {
	switch v := r.(type) {
	case string:
		return v
	case error:
		return v.Error()
	}
	return fmt.Sprint(r)
}
