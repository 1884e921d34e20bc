package duroxidetest

import (
	"context"
	"fmt"
	"time"

	"github.com/duroxide-go/duroxide"
	"github.com/duroxide-go/duroxide/host"
	"github.com/duroxide-go/duroxide/orchestration"
)

// Mock replaces an activity's handler in an [Env]. Build one with
// [Env.OnActivity]; its methods return the Mock for chaining.
//
// Several mocks of one name serve in the order they were made: a mock with
// [Mock.Times] serves that many calls, then the next takes over; a mock
// without serves every call. When every mock of a name is used up, calls
// go to the registered handler, or fail the activity if there is none.
//
// Confined to the Env's goroutine.
type Mock struct {
	env   *Env
	name  string
	fn    host.ActivityHandler
	times int // 0: unlimited
	calls int
	after time.Duration
}

// ActivityCall records one call of an activity (mocked or not).
type ActivityCall struct {
	Instance    string
	ExecutionID uint64
	ActivityID  uint64
	// Input is the activity's JSON input.
	Input string
	// At is the fake time the call started.
	At time.Time
}

// OnActivity adds a mock for the activity name. Until Return, ReturnError
// or Do says otherwise it returns JSON null.
func (e *Env) OnActivity(name string) *Mock {
	m := &Mock{env: e, name: name, fn: func(*host.ActivityContext, string) (string, error) { return "null", nil }}
	if e.mocks == nil {
		e.mocks = map[string][]*Mock{}
	}
	e.mocks[name] = append(e.mocks[name], m)
	e.rt = nil
	return m
}

// Return makes the mock return v, encoded as JSON. An encoding error fails
// the test.
func (m *Mock) Return(v any) *Mock {
	s, err := orchestration.Marshal(v)
	if err != nil {
		m.env.t.Helper()
		m.env.t.Fatalf("duroxidetest: mock %s: encoding the result: %v", m.name, err)
	}
	return m.ReturnJSON(s)
}

// ReturnJSON makes the mock return the JSON text s as is.
func (m *Mock) ReturnJSON(s string) *Mock {
	m.fn = func(*host.ActivityContext, string) (string, error) { return s, nil }
	return m
}

// ReturnError makes the mock fail with err: the orchestration sees an
// activity failure carrying err.Error().
func (m *Mock) ReturnError(err error) *Mock {
	m.fn = func(*host.ActivityContext, string) (string, error) { return "", err }
	return m
}

// Do makes the mock run fn, which receives the activity's context and JSON
// input.
func (m *Mock) Do(fn host.ActivityHandler) *Mock {
	m.fn = fn
	return m
}

// Times makes the mock serve exactly n calls (n ≥ 1): fewer by the end of
// the test fail it; later calls go to the next mock or the handler.
func (m *Mock) Times(n int) *Mock {
	if n < 1 {
		m.env.t.Helper()
		m.env.t.Fatalf("duroxidetest: mock %s: Times(%d): want at least 1", m.name, n)
	}
	m.times = n
	if !m.env.verifying {
		m.env.verifying = true
		m.env.t.Cleanup(m.env.verifyMocks)
	}
	return m
}

// Once is Times(1).
func (m *Mock) Once() *Mock { return m.Times(1) }

// After makes each call take d of fake time: the orchestration receives
// the result d after the activity started, while other work proceeds.
func (m *Mock) After(d time.Duration) *Mock {
	m.after = d
	return m
}

// Calls returns how many calls the mock served.
func (m *Mock) Calls() int { return m.calls }

// ActivityCalls returns the calls of the activity name so far, in order.
func (e *Env) ActivityCalls(name string) []ActivityCall {
	var out []ActivityCall
	for _, c := range e.calls {
		if c.name == name {
			out = append(out, c.call)
		}
	}
	return out
}

// activity returns the handler the runtime runs for name: the first mock
// with calls left, else the registered handler.
func (e *Env) activity(name string) host.ActivityHandler {
	return func(ctx *host.ActivityContext, input string) (string, error) {
		e.calls = append(e.calls, namedCall{name, ActivityCall{Instance: ctx.InstanceID(), ExecutionID: ctx.ExecutionID(),
			ActivityID: ctx.ActivityID(), Input: input, At: e.clock.Now()}})
		for _, m := range e.mocks[name] {
			if m.times > 0 && m.calls >= m.times {
				continue
			}
			m.calls++
			if m.after > 0 {
				if e.prov.delays == nil {
					e.prov.delays = map[duroxide.ScheduledActivityIdentifier]time.Duration{}
				}
				e.prov.delays[duroxide.ScheduledActivityIdentifier{Instance: ctx.InstanceID(),
					ExecutionID: ctx.ExecutionID(), ActivityID: ctx.ActivityID()}] = m.after
			}
			return m.fn(ctx, input)
		}
		if h := e.registered(name); h != nil {
			return h(ctx, input)
		}
		return "", fmt.Errorf("duroxidetest: activity %s: every mock is used up and no handler is registered", name)
	}
}

func (e *Env) verifyMocks() {
	for name, ms := range e.mocks {
		for i, m := range ms {
			if m.times > 0 && m.calls != m.times {
				e.t.Errorf("duroxidetest: mock %d of activity %s: want %d calls, got %d", i+1, name, m.times, m.calls)
			}
		}
	}
}

// provider delays the completions of mocks that take time: instead of
// acking the completion at once, it removes the item and enqueues the
// completion with the mock's delay.
type provider struct {
	duroxide.Provider
	delays map[duroxide.ScheduledActivityIdentifier]time.Duration
}

func (p *provider) AckWorkItem(ctx context.Context, token string, completion duroxide.WorkItem) error {
	if len(p.delays) > 0 {
		var id duroxide.ScheduledActivityIdentifier
		switch c := completion.(type) {
		case duroxide.ActivityCompletedItem:
			id = duroxide.ScheduledActivityIdentifier{Instance: c.Instance, ExecutionID: c.ExecutionID, ActivityID: c.ID}
		case duroxide.ActivityFailedItem:
			id = duroxide.ScheduledActivityIdentifier{Instance: c.Instance, ExecutionID: c.ExecutionID, ActivityID: c.ID}
		}
		if d, ok := p.delays[id]; ok {
			delete(p.delays, id)
			if err := p.Provider.AckWorkItem(ctx, token, nil); err != nil {
				return err
			}
			return p.Provider.EnqueueForOrchestrator(ctx, completion, d)
		}
	}
	return p.Provider.AckWorkItem(ctx, token, completion)
}
