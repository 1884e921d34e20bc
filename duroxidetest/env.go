package duroxidetest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/duroxide-go/duroxide"
	"github.com/duroxide-go/duroxide/client"
	"github.com/duroxide-go/duroxide/fakeclock"
	"github.com/duroxide-go/duroxide/host"
	"github.com/duroxide-go/duroxide/memprovider"
	"github.com/duroxide-go/duroxide/orchestration"
)

// DefaultStart is the fake clock's start unless [WithStartTime] says
// otherwise.
var DefaultStart = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// DefaultMaxSteps bounds the dispatcher steps of one Run (see
// [WithMaxSteps]).
const DefaultMaxSteps = 1_000_000

// Option configures an [Env].
type Option func(*Env)

// WithStartTime starts the fake clock at t.
func WithStartTime(t time.Time) Option { return func(e *Env) { e.start = t } }

// WithRuntimeOptions sets the runtime's options (worker tags, max attempts,
// backoffs, versions...). Clock is always the Env's fake clock; Logger
// defaults to discarding (see [WithLogger]).
func WithRuntimeOptions(o host.Options) Option { return func(e *Env) { e.opts = o } }

// WithLogger sends the runtime's and the orchestrations' logs to l.
func WithLogger(l *slog.Logger) Option { return func(e *Env) { e.logger = l } }

// WithMaxSteps bounds how many dispatcher steps one Run may take before it
// gives up with an error (an orchestration that never ends, such as an
// eternal loop of timers). Default [DefaultMaxSteps].
func WithMaxSteps(n int) Option { return func(e *Env) { e.maxSteps = n } }

// Env is a unit-test environment for orchestrations. Build one per test
// with [New].
//
// An Env is confined to one goroutine (see the package doc).
type Env struct {
	t        testing.TB
	start    time.Time
	opts     host.Options
	logger   *slog.Logger
	maxSteps int

	clock  *fakeclock.Fake
	store  *memprovider.Provider
	prov   *provider
	client *client.Client

	// Registrations in order; a test registers few, so lists searched
	// linearly beat maps.
	handlers  []orchReg
	acts      []actReg
	mocks     map[string][]*Mock // nil until a mock is made
	calls     []namedCall        // every activity call, in order
	rt        *host.Runtime      // nil when registrations changed since it was built
	nextID    int                // the last generated instance number (Start)
	nextSeq   int                // the last scheduled event's number (orders ties at one instant)
	verifying bool               // the mock check is registered with t

	scheduled []scheduledEvent // by time, then order of scheduling
}

type orchReg struct {
	name, version string
	h             orchestration.Handler
}

type actReg struct {
	name string
	h    host.ActivityHandler
}

type namedCall struct {
	name string
	call ActivityCall
}

// handler returns the registered handler of name at version, or nil.
func (e *Env) handler(name, version string) orchestration.Handler {
	for _, r := range e.handlers {
		if r.name == name && r.version == version {
			return r.h
		}
	}
	return nil
}

// registered returns the registered handler of the activity name, or nil.
func (e *Env) registered(name string) host.ActivityHandler {
	for _, r := range e.acts {
		if r.name == name {
			return r.h
		}
	}
	return nil
}

type scheduledEvent struct {
	at   time.Time
	seq  int
	fire func() error
	what string
}

// New returns an environment on a fresh memprovider and fake clock. The
// first mock with an expected call count registers a cleanup with t that
// reports unmet expectations.
func New(t testing.TB, opts ...Option) *Env {
	e := &Env{t: t, start: DefaultStart, maxSteps: DefaultMaxSteps}
	for _, o := range opts {
		o(e)
	}
	e.clock = fakeclock.NewFake(e.start)
	e.store = memprovider.New(memprovider.WithClock(e.clock), memprovider.WithShortPolling())
	e.prov = &provider{Provider: e.store}
	c, err := client.New(e.store, client.WithClock(e.clock))
	if err != nil {
		t.Fatalf("duroxidetest: client: %v", err)
	}
	e.client = c
	return e
}

// Clock returns the Env's fake clock. Advancing it by hand is allowed
// between runs.
func (e *Env) Clock() *fakeclock.Fake { return e.clock }

// Now returns the fake clock's time.
func (e *Env) Now() time.Time { return e.clock.Now() }

// Client returns a client on the Env's provider, for anything the Env does
// not wrap (management, KV reads, custom status).
func (e *Env) Client() *client.Client { return e.client }

// Provider returns the Env's provider.
func (e *Env) Provider() *memprovider.Provider { return e.store }

// RegisterOrchestration registers h as version [host.DefaultVersion] of
// name. A registration error fails the test.
func (e *Env) RegisterOrchestration(name string, h orchestration.Handler) {
	e.RegisterOrchestrationVersion(name, host.DefaultVersion, h)
}

// RegisterOrchestrationVersion registers h as the given version of name.
// Registering again (the same name and version) replaces the handler: that
// is how a test simulates a code change before [Env.RequireNoNondeterminism].
func (e *Env) RegisterOrchestrationVersion(name, version string, h orchestration.Handler) {
	if _, err := duroxide.ParseSemver(version); err != nil || name == "" || h == nil {
		e.t.Helper()
		e.t.Fatalf("duroxidetest: registering orchestration %q version %q: want a name, a handler and MAJOR.MINOR.PATCH (%v)", name, version, err)
	}
	e.rt = nil
	for i := range e.handlers {
		if e.handlers[i].name == name && e.handlers[i].version == version {
			e.handlers[i].h = h
			return
		}
	}
	e.handlers = append(e.handlers, orchReg{name, version, h})
}

// RegisterActivity registers h as the activity name (replacing an earlier
// registration). Mocks ([Env.OnActivity]) take precedence.
func (e *Env) RegisterActivity(name string, h host.ActivityHandler) {
	if name == "" || h == nil {
		e.t.Helper()
		e.t.Fatalf("duroxidetest: registering activity %q: want a name and a handler", name)
	}
	e.rt = nil
	for i := range e.acts {
		if e.acts[i].name == name {
			e.acts[i].h = h
			return
		}
	}
	e.acts = append(e.acts, actReg{name, h})
}

// runtime returns the runtime, rebuilding it after registrations changed.
func (e *Env) runtime() *host.Runtime {
	if e.rt != nil {
		return e.rt
	}
	reg := host.NewRegistry()
	for _, r := range e.handlers {
		if err := reg.RegisterOrchestrationVersion(r.name, r.version, r.h); err != nil {
			e.t.Helper()
			e.t.Fatalf("duroxidetest: %v", err)
		}
	}
	for _, r := range e.acts {
		if err := reg.RegisterActivity(r.name, e.activity(r.name)); err != nil {
			e.t.Helper()
			e.t.Fatalf("duroxidetest: %v", err)
		}
	}
	for n := range e.mocks {
		if e.registered(n) != nil {
			continue // registered above
		}
		if err := reg.RegisterActivity(n, e.activity(n)); err != nil {
			e.t.Helper()
			e.t.Fatalf("duroxidetest: %v", err)
		}
	}
	o := e.opts
	o.Clock = e.clock
	o.InlineOrchestrations = true
	o.Logger = e.discard()
	rt, err := host.New(e.prov, reg, o)
	if err != nil {
		e.t.Helper()
		e.t.Fatalf("duroxidetest: runtime: %v", err)
	}
	e.rt = rt
	return rt
}

// Start starts an instance of name with input encoded as JSON, under a
// fresh instance id, and returns the id. It does not run it: see
// [Env.RunInstance], or use [Env.Run].
func (e *Env) Start(name string, input any) string {
	e.nextID++
	id := "test-" + strconv.Itoa(e.nextID)
	e.StartInstance(id, name, "", input)
	return id
}

// StartInstance starts instance as name at version ("" for the highest
// registered), with input encoded as JSON. Errors fail the test.
func (e *Env) StartInstance(instance, name, version string, input any) {
	var err error
	if version == "" {
		err = e.client.StartTyped(context.Background(), instance, name, input)
	} else {
		err = e.client.StartVersionedTyped(context.Background(), instance, name, version, input)
	}
	if err != nil {
		e.t.Helper()
		e.t.Fatalf("duroxidetest: start %s: %v", instance, err)
	}
}

// Run starts an instance of name with input (encoded as JSON), runs it to
// its end, and returns its JSON output. The error is the orchestration's
// failure (a *client.FailedError), a [*StuckError], or an error of the
// environment.
func (e *Env) Run(name string, input any) (string, error) {
	st, err := e.RunInstance(e.Start(name, input))
	if err != nil {
		return "", err
	}
	return st.Output, st.Err()
}

// RunAs is [Env.Run] with the output decoded from JSON into O.
func RunAs[O any](e *Env, name string, input any) (O, error) {
	st, err := e.RunInstance(e.Start(name, input))
	return client.Output[O](st, err)
}

// RunInstance runs until instance ended (completed or failed) and returns
// its status. A continue-as-new does not end it.
func (e *Env) RunInstance(instance string) (client.Status, error) {
	var st client.Status
	err := e.drive(instance, func() (bool, error) {
		var err error
		st, err = e.client.GetStatus(context.Background(), instance)
		return err == nil && (st.State == client.StateCompleted || st.State == client.StateFailed), err
	})
	return st, err
}

// RunUntil runs until cond reports true (checked whenever the application
// is idle, before the clock moves). Use it for an orchestration that waits
// for the test, or that never ends. instance names whose waits a
// [*StuckError] reports ("" for none).
func (e *Env) RunUntil(instance string, cond func() bool) error {
	return e.drive(instance, func() (bool, error) { return cond(), nil })
}

// drive steps the dispatchers; when they are idle it checks done, fires
// scheduled events and moves the clock to the next due instant.
func (e *Env) drive(instance string, done func() (bool, error)) error {
	rt := e.runtime()
	ctx := context.Background()
	stale := 0
	for steps := 0; steps < e.maxSteps; {
		o, err := rt.StepOrchestration(ctx)
		if err != nil {
			return fmt.Errorf("duroxidetest: orchestration step: %w", err)
		}
		w, err := rt.StepWorker(ctx)
		if err != nil {
			return fmt.Errorf("duroxidetest: worker step: %w", err)
		}
		steps++
		if o || w {
			stale = 0
			continue
		}
		if ok, err := done(); err != nil || ok {
			return err
		}
		now := e.clock.Now()
		if fired, err := e.fireScheduled(now); err != nil {
			return err
		} else if fired {
			continue
		}
		next, ok := e.store.NextDue()
		if len(e.scheduled) > 0 && (!ok || e.scheduled[0].at.Before(next)) {
			next, ok = e.scheduled[0].at, true
		}
		if !ok {
			return e.stuck(instance)
		}
		if !next.After(now) {
			// Due now but not fetched: an expiry the next fetch handles.
			// Never loop on it: after one more round, move on by a tick.
			if stale++; stale > 1 {
				next = now.Add(time.Millisecond)
			} else {
				continue
			}
		}
		if err := e.clock.AdvanceTo(next.In(now.Location())); err != nil {
			return fmt.Errorf("duroxidetest: advancing the clock: %w", err)
		}
	}
	return fmt.Errorf("%w after %d steps (fake time %v): an orchestration that never ends needs RunUntil",
		ErrTooManySteps, e.maxSteps, e.clock.Now().Sub(e.start))
}

// ErrTooManySteps is wrapped by a run that exceeded its step bound
// ([WithMaxSteps]).
var ErrTooManySteps = errors.New("duroxidetest: still running")

func (e *Env) schedule(d time.Duration, what string, fire func() error) {
	e.nextSeq++
	ev := scheduledEvent{at: e.clock.Now().Add(d), seq: e.nextSeq, fire: fire, what: what}
	i, _ := slices.BinarySearchFunc(e.scheduled, ev, func(a, b scheduledEvent) int {
		if c := a.at.Compare(b.at); c != 0 {
			return c
		}
		return a.seq - b.seq
	})
	e.scheduled = slices.Insert(e.scheduled, i, ev)
}

// fireScheduled fires the scheduled events due at now.
func (e *Env) fireScheduled(now time.Time) (bool, error) {
	fired := false
	for len(e.scheduled) > 0 && !e.scheduled[0].at.After(now) {
		ev := e.scheduled[0]
		e.scheduled = e.scheduled[1:]
		if err := ev.fire(); err != nil {
			return fired, fmt.Errorf("duroxidetest: %s: %w", ev.what, err)
		}
		fired = true
	}
	return fired, nil
}

// RaiseEvent raises the external event name with data (JSON-encoded) on
// instance now. Errors fail the test.
func (e *Env) RaiseEvent(instance, name string, data any) {
	if err := e.client.RaiseEventTyped(context.Background(), instance, name, data); err != nil {
		e.t.Helper()
		e.t.Fatalf("duroxidetest: raise %s on %s: %v", name, instance, err)
	}
}

// RaiseEventAfter raises the external event name with data on instance
// once the fake clock has moved d past now, during a later run.
func (e *Env) RaiseEventAfter(d time.Duration, instance, name string, data any) {
	e.schedule(d, "raise "+name+" on "+instance, func() error {
		return e.client.RaiseEventTyped(context.Background(), instance, name, data)
	})
}

// EnqueueEvent adds data (JSON-encoded) to instance's persistent event
// queue. Errors fail the test.
func (e *Env) EnqueueEvent(instance, queue string, data any) {
	if err := e.client.EnqueueEventTyped(context.Background(), instance, queue, data); err != nil {
		e.t.Helper()
		e.t.Fatalf("duroxidetest: enqueue on %s/%s: %v", instance, queue, err)
	}
}

// EnqueueEventAfter is [Env.EnqueueEvent] once the fake clock has moved d
// past now, during a later run.
func (e *Env) EnqueueEventAfter(d time.Duration, instance, queue string, data any) {
	e.schedule(d, "enqueue on "+instance+"/"+queue, func() error {
		return e.client.EnqueueEventTyped(context.Background(), instance, queue, data)
	})
}

// CancelAfter cancels instance once the fake clock has moved d past now.
func (e *Env) CancelAfter(d time.Duration, instance, reason string) {
	e.schedule(d, "cancel "+instance, func() error {
		return e.client.Cancel(context.Background(), instance, reason)
	})
}

// Status returns instance's status. Errors fail the test.
func (e *Env) Status(instance string) client.Status {
	st, err := e.client.GetStatus(context.Background(), instance)
	if err != nil {
		e.t.Helper()
		e.t.Fatalf("duroxidetest: status of %s: %v", instance, err)
	}
	return st
}

// History returns the history of instance's latest execution. Errors fail
// the test.
func (e *Env) History(instance string) []duroxide.Event {
	h, err := e.client.ReadHistory(context.Background(), instance)
	if err != nil {
		e.t.Helper()
		e.t.Fatalf("duroxidetest: history of %s: %v", instance, err)
	}
	return h
}

// discardLogger drops everything; a slog.Logger is immutable and safe to
// share.
var discardLogger = slog.New(slog.DiscardHandler)

func (e *Env) discard() *slog.Logger {
	if e.logger != nil {
		return e.logger
	}
	return discardLogger
}
