package orchestration

// Go starts fn as a branch of the orchestration and returns its result as a
// future, the counterpart of a Rust async block in duroxide: fn does not run
// until the future is first waited on (by Get, [Select] or [All]), then runs
// until it blocks, and advances only when it is waited on again, so the
// decisions it makes land in history exactly where duroxide's would. fn gets
// its own view of the context; branches never run at the same time as each
// other or as the orchestration.
//
// A branch that loses a [Select], or that nobody observed when the
// orchestration returns, is abandoned: the durable work it scheduled and
// did not observe is cancelled, and it never resumes. A panic in fn fails
// the orchestration like a panic in its main function.
func Go[T any](c *Context, fn func(ctx *Context) (T, error)) *Future[T] {
	if c.closed() {
		return &Future[T]{c: c}
	}
	var val T
	view := &Context{ctxState: c.ctxState}
	co := &coro{c: view, owner: c.co}
	if c.co != nil {
		co.stepTimeout, co.inline = c.co.stepTimeout, c.co.inline
	}
	view.co = co
	co.body = func() (string, error) {
		v, err := fn(view)
		val = v
		return "", err
	}
	c.branches = append(c.branches, co)
	return &Future[T]{c: c, br: co, decode: func(string) (T, error) { return val, co.err }}
}

// pollBranch advances the branch if what it waits for is ready and reports
// whether it finished. It runs on the goroutine of whoever waits on the
// branch, which is parked meanwhile.
func (c *Context) pollBranch(co *coro) bool {
	if co.done {
		return !co.killed
	}
	if co.killed || c.closed() {
		return false
	}
	if co.started && co.cond != nil && !co.cond.wait() {
		return false
	}
	m := co.run()
	switch m.kind {
	case msgBlocked:
		return false
	case msgDone:
		co.err = m.err
		c.finishBranch(co)
		return true
	case msgStuck:
		panic("orchestration branch ran past the step timeout without reaching a durable wait")
	default:
		panic(m.panicMsg) // a branch's panic fails the orchestration
	}
}

// finishBranch abandons what a finished branch left unobserved, as the end
// of a Rust async block drops its futures.
func (c *Context) finishBranch(co *coro) {
	for _, s := range c.slots {
		if s.owner == co && !s.completed {
			c.cancelSlot(s)
		}
	}
	for _, b := range c.branches {
		if b.owner == co {
			c.abandonBranch(b)
		}
	}
}

// abandonBranch stops a branch for good and cancels its unobserved work.
func (c *Context) abandonBranch(co *coro) {
	if co.done || co.killed {
		return
	}
	co.killed = true
	c.finishBranch(co)
}
