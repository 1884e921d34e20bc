package client_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/duroxide-go/duroxide"
	"github.com/duroxide-go/duroxide/client"
	"github.com/duroxide-go/duroxide/fakeclock"
	"github.com/duroxide-go/duroxide/memprovider"
)

// epoch is where every test's fake clock starts.
var epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// lockTimeout is the lock the simulated runtime takes on each turn.
const lockTimeout = 30 * time.Second

// runtimeVersion is the duroxide version the simulated runtime stamps.
const runtimeVersion = "0.1.26"

// harness is a client on memprovider and a fake clock, plus a stand-in for
// the runtime: with no runtime package yet, tests play the runtime's part by
// fetching orchestration items and acking them with the events a runtime
// would write.
type harness struct {
	t     testing.TB
	ctx   context.Context
	clock *fakeclock.Fake
	p     *memprovider.Provider
	c     *client.Client
}

func newHarness(t testing.TB, opts ...client.Option) *harness {
	t.Helper()
	clock := fakeclock.NewFake(epoch)
	p := memprovider.New(memprovider.WithClock(clock))
	c, err := client.New(p, append([]client.Option{client.WithClock(clock)}, opts...)...)
	require.NoError(t, err)
	return &harness{t: t, ctx: context.Background(), clock: clock, p: p, c: c}
}

// fetch fetches the next orchestration item, which must exist and belong to
// instance.
func (h *harness) fetch(instance string) *duroxide.LockedOrchestrationItem {
	h.t.Helper()
	item, err := h.p.FetchOrchestrationItem(h.ctx, lockTimeout, 0, nil)
	require.NoError(h.t, err)
	require.NotNil(h.t, item, "no orchestration item to fetch")
	require.Equal(h.t, instance, item.Instance)
	return item
}

// turn is one simulated runtime turn of instance: it fetches the instance's
// batch, asks decide for the turn's outcome, and acks it. decide gets the
// fetched item and an event factory that numbers events after the fetched
// history (or from 1 in a new execution).
func (h *harness) turn(instance string, decide func(item *duroxide.LockedOrchestrationItem, ev *events) duroxide.OrchestrationAck) {
	h.t.Helper()
	item := h.fetch(instance)
	ev := &events{instance: instance, execution: max(item.ExecutionID, 1), next: uint64(len(item.History)) + 1, now: h.clock.Now()}
	ack := decide(item, ev)
	if ack.ExecutionID == 0 {
		ack.ExecutionID = ev.execution
	}
	ack.HistoryDelta = append(ack.HistoryDelta, ev.delta...)
	require.NoError(h.t, h.p.AckOrchestrationItem(h.ctx, item.LockToken, ack))
}

// events builds the history delta of one simulated turn.
type events struct {
	instance  string
	execution uint64
	next      uint64
	now       time.Time
	delta     []duroxide.Event
}

// add appends an event of kind with the next event id.
func (e *events) add(kind duroxide.EventKind) {
	e.delta = append(e.delta, duroxide.Event{
		EventID: e.next, InstanceID: e.instance, ExecutionID: e.execution,
		TimestampMs: uint64(e.now.UnixMilli()), DuroxideVersion: runtimeVersion, Kind: kind,
	})
	e.next++
}

// newExecution restarts numbering in execution id (for continue-as-new).
func (e *events) newExecution(id uint64) {
	e.execution, e.next = id, 1
}

// startFrom adds the OrchestrationStarted event for the start (or
// continue-as-new) item in the batch and returns the metadata that creates
// the instance record, as the runtime's first turn of an execution does.
func (e *events) startFrom(t testing.TB, item *duroxide.LockedOrchestrationItem) duroxide.ExecutionMetadata {
	t.Helper()
	var name, input string
	var parent *string
	var parentID *uint64
	version := "1.0.0"
	for _, m := range item.Messages {
		switch s := m.(type) {
		case duroxide.StartOrchestrationItem:
			name, input, parent, parentID = s.Orchestration, s.Input, s.ParentInstance, s.ParentID
			if s.Version != nil {
				version = *s.Version
			}
		case duroxide.ContinueAsNewItem:
			name, input = s.Orchestration, s.Input
			if s.Version != nil {
				version = *s.Version
			}
		default:
			continue
		}
		break
	}
	require.NotEmpty(t, name, "batch has no start item: %v", item.Messages)
	e.add(duroxide.OrchestrationStarted{Name: name, Version: version, Input: input, ParentInstance: parent, ParentID: parentID})
	return duroxide.ExecutionMetadata{
		Status: duroxide.StatusRunning, OrchestrationName: &name, OrchestrationVersion: &version, ParentInstanceID: parent,
	}
}

// start plays the runtime's first turn of a queued start: the instance is
// Running afterwards.
func (h *harness) start(instance string) {
	h.t.Helper()
	h.turn(instance, func(item *duroxide.LockedOrchestrationItem, ev *events) duroxide.OrchestrationAck {
		return duroxide.OrchestrationAck{Metadata: ev.startFrom(h.t, item)}
	})
}

// startChild plays a turn of a started parent that schedules a
// sub-orchestration, and the child's first turn.
func (h *harness) startChild(parent, child, name string) {
	h.t.Helper()
	h.poke(parent)
	h.turn(parent, func(_ *duroxide.LockedOrchestrationItem, ev *events) duroxide.OrchestrationAck {
		id := ev.next
		ev.add(duroxide.SubOrchestrationScheduled{Name: name, Instance: child})
		return duroxide.OrchestrationAck{OrchestratorItems: []duroxide.WorkItem{duroxide.StartOrchestrationItem{
			Instance: child, Orchestration: name, ParentInstance: &parent, ParentID: &id, ExecutionID: 1,
		}}}
	})
	h.start(child)
}

// poke enqueues a message so that the instance has a turn to fetch, as a
// completion arriving would.
func (h *harness) poke(instance string) {
	h.t.Helper()
	require.NoError(h.t, h.p.EnqueueForOrchestrator(h.ctx, duroxide.ExternalRaisedItem{Instance: instance, Name: "poke"}, 0))
}

// complete plays a turn of a started instance that completes it with output.
func (h *harness) complete(instance, output string) {
	h.t.Helper()
	h.poke(instance)
	h.turn(instance, func(_ *duroxide.LockedOrchestrationItem, ev *events) duroxide.OrchestrationAck {
		ev.add(duroxide.OrchestrationCompleted{Output: output})
		return duroxide.OrchestrationAck{Metadata: duroxide.ExecutionMetadata{Status: duroxide.StatusCompleted, Output: &output}}
	})
}

// fail plays a turn of a started instance that fails it with details.
func (h *harness) fail(instance string, details duroxide.ErrorDetails) {
	h.t.Helper()
	h.poke(instance)
	h.turn(instance, func(_ *duroxide.LockedOrchestrationItem, ev *events) duroxide.OrchestrationAck {
		ev.add(duroxide.OrchestrationFailed{Details: details})
		out := details.DisplayMessage()
		return duroxide.OrchestrationAck{Metadata: duroxide.ExecutionMetadata{Status: duroxide.StatusFailed, Output: &out}}
	})
}

// setCustomStatus plays a turn of a started instance that sets its custom
// status (nil clears it).
func (h *harness) setCustomStatus(instance string, status *string) {
	h.t.Helper()
	h.poke(instance)
	h.turn(instance, func(_ *duroxide.LockedOrchestrationItem, ev *events) duroxide.OrchestrationAck {
		ev.add(duroxide.CustomStatusUpdated{Status: status})
		return duroxide.OrchestrationAck{}
	})
}

// setKV plays a turn of a started instance that sets key to value.
func (h *harness) setKV(instance, key, value string) {
	h.t.Helper()
	h.poke(instance)
	h.turn(instance, func(_ *duroxide.LockedOrchestrationItem, ev *events) duroxide.OrchestrationAck {
		ev.add(duroxide.KeyValueSet{Key: key, Value: value, LastUpdatedAtMs: uint64(ev.now.UnixMilli())})
		return duroxide.OrchestrationAck{}
	})
}

// continueAsNew plays a turn of a started instance that ends its execution
// with a continue-as-new; the next execution starts only when startNext
// plays the turn of the ContinueAsNew item.
func (h *harness) continueAsNew(instance, name, input string) {
	h.t.Helper()
	h.poke(instance)
	h.turn(instance, func(_ *duroxide.LockedOrchestrationItem, ev *events) duroxide.OrchestrationAck {
		ev.add(duroxide.OrchestrationContinuedAsNew{Input: input})
		return duroxide.OrchestrationAck{
			Metadata:          duroxide.ExecutionMetadata{Status: duroxide.StatusContinuedAsNew},
			OrchestratorItems: []duroxide.WorkItem{duroxide.ContinueAsNewItem{Instance: instance, Orchestration: name, Input: input}},
		}
	})
}

// startNext plays the turn that starts the execution after a continue-as-new.
func (h *harness) startNext(instance string) {
	h.t.Helper()
	h.turn(instance, func(item *duroxide.LockedOrchestrationItem, ev *events) duroxide.OrchestrationAck {
		ev.newExecution(item.ExecutionID + 1)
		return duroxide.OrchestrationAck{Metadata: ev.startFrom(h.t, item)}
	})
}

// queued returns the orchestrator-queue messages of the next fetchable
// instance (locking it), or nil when there is none.
func (h *harness) queued() []duroxide.WorkItem {
	h.t.Helper()
	item, err := h.p.FetchOrchestrationItem(h.ctx, lockTimeout, 0, nil)
	require.NoError(h.t, err)
	if item == nil {
		return nil
	}
	return item.Messages
}

// requireQueuesEmpty checks that nothing is queued on either queue.
func (h *harness) requireQueuesEmpty() {
	h.t.Helper()
	d, err := h.p.GetQueueDepths(h.ctx)
	require.NoError(h.t, err)
	require.Zero(h.t, d.OrchestratorQueue, "orchestrator queue")
	require.Zero(h.t, d.WorkerQueue, "worker queue")
}

// watchdog bounds how long a test waits for a call that should have
// returned: a wrong poll schedule must fail the test, not hang it.
const watchdog = 10 * time.Second

// async runs f in a goroutine and returns a function that waits for it,
// failing the test if it has not returned within the watchdog.
func async[T any](t testing.TB, f func() (T, error)) func() (T, error) {
	p := start(f)
	return func() (T, error) {
		t.Helper()
		select {
		case <-p.ch:
		case <-time.After(watchdog):
			t.Fatalf("call still blocked after %v of real time", watchdog)
		}
		return p.v, p.err
	}
}

// pending is a call running in a goroutine.
type pending[T any] struct {
	ch  chan struct{}
	v   T
	err error
}

// start runs f in a goroutine.
func start[T any](f func() (T, error)) *pending[T] {
	p := &pending[T]{ch: make(chan struct{})}
	go func() {
		defer close(p.ch)
		p.v, p.err = f()
	}()
	return p
}

// done reports whether the call has returned.
func (p *pending[T]) done() bool {
	select {
	case <-p.ch:
		return true
	default:
		return false
	}
}

// wait waits for the call and returns its results.
func (p *pending[T]) wait() (T, error) {
	<-p.ch
	return p.v, p.err
}

// waitForPoller blocks until the client has armed its next poll timer.
func (h *harness) waitForPoller() {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(h.ctx, watchdog)
	defer cancel()
	require.NoError(h.t, h.clock.BlockUntilWaiters(ctx, 1))
}

// faultyProvider wraps a provider and makes chosen methods fail.
type faultyProvider struct {
	duroxide.Provider
	noAdmin bool
	errs    map[string]error // by method name
}

func (f *faultyProvider) fault(method string) error { return f.errs[method] }

func (f *faultyProvider) EnqueueForOrchestrator(ctx context.Context, item duroxide.WorkItem, delay time.Duration) error {
	if err := f.fault("EnqueueForOrchestrator"); err != nil {
		return err
	}
	return f.Provider.EnqueueForOrchestrator(ctx, item, delay)
}

func (f *faultyProvider) Read(ctx context.Context, instance string) ([]duroxide.Event, error) {
	if err := f.fault("Read"); err != nil {
		return nil, err
	}
	return f.Provider.Read(ctx, instance)
}

func (f *faultyProvider) GetCustomStatus(ctx context.Context, instance string, last uint64) (duroxide.CustomStatus, bool, error) {
	if err := f.fault("GetCustomStatus"); err != nil {
		return duroxide.CustomStatus{}, false, err
	}
	return f.Provider.GetCustomStatus(ctx, instance, last)
}

func (f *faultyProvider) GetKVValue(ctx context.Context, instance, key string) (string, bool, error) {
	if err := f.fault("GetKVValue"); err != nil {
		return "", false, err
	}
	return f.Provider.GetKVValue(ctx, instance, key)
}

func (f *faultyProvider) GetKVAllValues(ctx context.Context, instance string) (map[string]string, error) {
	if err := f.fault("GetKVAllValues"); err != nil {
		return nil, err
	}
	return f.Provider.GetKVAllValues(ctx, instance)
}

func (f *faultyProvider) AsManagementCapability() duroxide.ProviderAdmin {
	if f.noAdmin {
		return nil
	}
	return f.Provider.AsManagementCapability()
}

// readTimes wraps a provider and records the clock's time at every Read.
type readTimes struct {
	duroxide.Provider
	clock fakeclock.Clock
	mu    sync.Mutex
	at    []time.Duration // since epoch
}

func (r *readTimes) Read(ctx context.Context, instance string) ([]duroxide.Event, error) {
	r.mu.Lock()
	r.at = append(r.at, r.clock.Now().Sub(epoch))
	r.mu.Unlock()
	return r.Provider.Read(ctx, instance)
}

func (r *readTimes) times() []time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]time.Duration(nil), r.at...)
}
