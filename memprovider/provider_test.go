package memprovider_test

import (
	"context"
	"fmt"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/duroxide-go/duroxide"
	"github.com/duroxide-go/duroxide/fakeclock"
	"github.com/duroxide-go/duroxide/memprovider"
)

// These tests cover memprovider behaviour that the spec groups do not:
// ownership of values crossing the API, bad input, cancelled contexts,
// concurrency under -race, head-of-line blocking and long-poll timers.

var ptEpoch = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

const (
	ptLock    = time.Hour // lock and lease length of every fixture fetch
	ptOrch    = "Orch"
	ptVersion = "1.0.0"
	// ptGuard bounds real-time waits for goroutines that the fake clock
	// should release at once; it only elapses when a test fails.
	ptGuard = 10 * time.Second
)

func ptStr(s string) *string { return &s }

// ptNew returns a long-polling provider on a fake clock at ptEpoch.
func ptNew(t *testing.T) (*memprovider.Provider, *fakeclock.Fake) {
	t.Helper()
	clock := fakeclock.NewFake(ptEpoch)
	return memprovider.New(memprovider.WithClock(clock)), clock
}

func ptStart(instance string) duroxide.StartOrchestrationItem {
	return duroxide.StartOrchestrationItem{
		Instance:      instance,
		Orchestration: ptOrch,
		Input:         "{}",
		Version:       ptStr(ptVersion),
		ExecutionID:   duroxide.InitialExecutionID,
	}
}

func ptEvent(instance string, exec, id uint64, kind duroxide.EventKind) duroxide.Event {
	return duroxide.Event{EventID: id, InstanceID: instance, ExecutionID: exec, TimestampMs: 1_700_000_000_000, DuroxideVersion: "0.1.26", Kind: kind}
}

func ptStarted(instance string, exec uint64) duroxide.Event {
	return ptEvent(instance, exec, duroxide.InitialEventID, duroxide.OrchestrationStarted{Name: ptOrch, Version: ptVersion, Input: "{}"})
}

func ptActivity(instance string, exec, id uint64) duroxide.ActivityExecuteItem {
	return duroxide.ActivityExecuteItem{Instance: instance, ExecutionID: exec, ID: id, Name: "Act", Input: "{}"}
}

func ptMeta() duroxide.ExecutionMetadata {
	return duroxide.ExecutionMetadata{OrchestrationName: ptStr(ptOrch), OrchestrationVersion: ptStr(ptVersion)}
}

func ptEnqueue(t *testing.T, p *memprovider.Provider, item duroxide.WorkItem) {
	t.Helper()
	require.NoError(t, p.EnqueueForOrchestrator(t.Context(), item, 0), "enqueue %s", item.Variant())
}

// ptFetch fetches with a ptLock lock and no poll; nil means no work.
func ptFetch(t *testing.T, p *memprovider.Provider) *duroxide.LockedOrchestrationItem {
	t.Helper()
	item, err := p.FetchOrchestrationItem(t.Context(), ptLock, 0, nil)
	require.NoError(t, err)
	return item
}

// ptMustFetch fetches and requires an item of instance.
func ptMustFetch(t *testing.T, p *memprovider.Provider, instance string) *duroxide.LockedOrchestrationItem {
	t.Helper()
	item := ptFetch(t, p)
	require.NotNil(t, item, "expected a turn of %q, got no work", instance)
	require.Equal(t, instance, item.Instance)
	return item
}

func ptAck(t *testing.T, p *memprovider.Provider, token string, a duroxide.OrchestrationAck) {
	t.Helper()
	require.NoError(t, p.AckOrchestrationItem(t.Context(), token, a))
}

// ptCreate creates an instance with one OrchestrationStarted event and
// name/version metadata. The orchestrator queue must hold nothing else
// fetchable.
func ptCreate(t *testing.T, p *memprovider.Provider, instance string) {
	t.Helper()
	ptEnqueue(t, p, ptStart(instance))
	item := ptMustFetch(t, p, instance)
	ptAck(t, p, item.LockToken, duroxide.OrchestrationAck{
		ExecutionID:  duroxide.InitialExecutionID,
		HistoryDelta: []duroxide.Event{ptStarted(instance, 1)},
		Metadata:     ptMeta(),
	})
}

// requirePermanentIs requires err to be a permanent *ProviderError matching
// sentinel.
func requirePermanentIs(t *testing.T, err, sentinel error) {
	t.Helper()
	require.Error(t, err)
	require.ErrorIs(t, err, sentinel)
	var pe *duroxide.ProviderError
	require.ErrorAs(t, err, &pe, "errors must be *duroxide.ProviderError")
	require.False(t, pe.Retryable, "must be permanent: %v", err)
	require.False(t, duroxide.IsRetryable(err))
}

// ---------------------------------------------------------------------------
// Reflection helpers: fill populates every exported field (pointers
// allocated, slices of two), scribble mutates in place everything reachable,
// deepCopy copies everything reachable.

var ptFillVariants = map[reflect.Type]any{
	reflect.TypeFor[duroxide.EventKind]():         duroxide.OrchestrationStarted{},
	reflect.TypeFor[duroxide.ErrorDetails]():      duroxide.Configuration{},
	reflect.TypeFor[duroxide.AppErrorKind]():      duroxide.AppCancelled{},
	reflect.TypeFor[duroxide.PoisonMessageType](): duroxide.PoisonActivity{},
}

func ptFill(t *testing.T, v reflect.Value, n *uint64) {
	t.Helper()
	if v.Type() == reflect.TypeFor[duroxide.ConfigErrorKind]() {
		v.SetString(string(duroxide.Nondeterminism)) // the only valid kind
		return
	}
	switch v.Kind() {
	case reflect.String:
		*n++
		v.SetString(fmt.Sprintf("s%d", *n))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		*n++
		v.SetUint(*n)
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		ptFill(t, p.Elem(), n)
		v.Set(p)
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 2, 2)
		for i := range s.Len() {
			ptFill(t, s.Index(i), n)
		}
		v.Set(s)
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				ptFill(t, v.Field(i), n)
			}
		}
	case reflect.Interface:
		proto, ok := ptFillVariants[v.Type()]
		require.True(t, ok, "no fill variant for %v", v.Type())
		c := reflect.New(reflect.TypeOf(proto)).Elem()
		ptFill(t, c, n)
		v.Set(c)
	default:
		require.Failf(t, "cannot fill", "%v", v.Type())
	}
}

// ptFilled returns a fully populated value of proto's dynamic type.
func ptFilled[T any](t *testing.T, proto T) T {
	t.Helper()
	var n uint64
	c := reflect.New(reflect.TypeOf(proto)).Elem()
	ptFill(t, c, &n)
	var out T
	reflect.ValueOf(&out).Elem().Set(c)
	return out
}

func ptScribble(v reflect.Value) {
	switch v.Kind() {
	case reflect.String:
		if v.CanSet() {
			v.SetString(v.String() + "~")
		}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		if v.CanSet() {
			v.SetUint(v.Uint() + 1000)
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if v.CanSet() {
			v.SetInt(v.Int() + 1000)
		}
	case reflect.Bool:
		if v.CanSet() {
			v.SetBool(!v.Bool())
		}
	case reflect.Pointer:
		if !v.IsNil() {
			ptScribble(v.Elem())
		}
	case reflect.Slice:
		for i := range v.Len() {
			ptScribble(v.Index(i))
		}
	case reflect.Map:
		if v.IsNil() {
			return
		}
		for _, k := range v.MapKeys() {
			e := reflect.New(v.Type().Elem()).Elem()
			e.Set(v.MapIndex(k))
			ptScribble(e)
			v.SetMapIndex(k, e)
		}
		if v.Type().Key().Kind() == reflect.String {
			v.SetMapIndex(reflect.ValueOf("scribbled").Convert(v.Type().Key()), reflect.New(v.Type().Elem()).Elem())
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				ptScribble(v.Field(i))
			}
		}
	case reflect.Interface:
		if v.IsNil() {
			return
		}
		if v.CanSet() {
			c := reflect.New(v.Elem().Type()).Elem()
			c.Set(v.Elem())
			ptScribble(c)
			v.Set(c)
			return
		}
		ptScribble(v.Elem())
	}
}

// scribbleAt mutates *p and everything it reaches.
func scribbleAt[T any](p *T) { ptScribble(reflect.ValueOf(p).Elem()) }

func ptDeepCopyValue(v reflect.Value) reflect.Value {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return v
		}
		n := reflect.New(v.Type().Elem())
		n.Elem().Set(ptDeepCopyValue(v.Elem()))
		return n
	case reflect.Slice:
		if v.IsNil() {
			return v
		}
		n := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
		for i := range v.Len() {
			n.Index(i).Set(ptDeepCopyValue(v.Index(i)))
		}
		return n
	case reflect.Map:
		if v.IsNil() {
			return v
		}
		n := reflect.MakeMapWithSize(v.Type(), v.Len())
		for _, k := range v.MapKeys() {
			n.SetMapIndex(k, ptDeepCopyValue(v.MapIndex(k)))
		}
		return n
	case reflect.Interface:
		if v.IsNil() {
			return v
		}
		n := reflect.New(v.Type()).Elem()
		n.Set(ptDeepCopyValue(v.Elem()))
		return n
	case reflect.Struct:
		n := reflect.New(v.Type()).Elem()
		n.Set(v)
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				n.Field(i).Set(ptDeepCopyValue(v.Field(i)))
			}
		}
		return n
	}
	return v
}

// deepCopy returns a copy of v that shares no memory with it.
func deepCopy[T any](v T) T {
	var out T
	reflect.ValueOf(&out).Elem().Set(ptDeepCopyValue(reflect.ValueOf(&v).Elem()))
	return out
}

// ptRichHistory returns one fully populated event of every kind for
// (instance, exec), event ids 1..26, OrchestrationStarted first and
// KeyValueSet last (so the key it sets survives the clears before it).
func ptRichHistory(t *testing.T, instance string, exec uint64) []duroxide.Event {
	t.Helper()
	var kinds, last []duroxide.EventKind
	for _, k := range duroxide.EventKinds() {
		if _, ok := k.(duroxide.KeyValueSet); ok {
			last = append(last, k)
			continue
		}
		kinds = append(kinds, k)
	}
	kinds = append(kinds, last...)
	var out []duroxide.Event
	for i, k := range kinds {
		ev := ptFilled(t, duroxide.Event{})
		ev.EventID = uint64(i + 1)
		ev.InstanceID = instance
		ev.ExecutionID = exec
		ev.Kind = ptFilled(t, k)
		out = append(out, ev)
	}
	return out
}

// ptRichOrchItems returns every orchestrator-queue variant, fully populated
// and routed to instance.
func ptRichOrchItems(t *testing.T, instance string) []duroxide.WorkItem {
	t.Helper()
	var out []duroxide.WorkItem
	for _, proto := range duroxide.WorkItemVariants() {
		if _, ok := proto.(duroxide.ActivityExecuteItem); ok {
			continue
		}
		v := reflect.New(reflect.TypeOf(proto)).Elem()
		v.Set(reflect.ValueOf(ptFilled(t, proto)))
		field := "Instance"
		switch proto.(type) {
		case duroxide.SubOrchCompletedItem, duroxide.SubOrchFailedItem:
			field = "ParentInstance"
		}
		v.FieldByName(field).SetString(instance)
		w := v.Interface().(duroxide.WorkItem)
		got, ok := duroxide.OrchestratorInstance(w)
		require.True(t, ok)
		require.Equal(t, instance, got)
		out = append(out, w)
	}
	require.Len(t, out, 10)
	return out
}

// ptRichActivity returns a fully populated ActivityExecute for instance.
func ptRichActivity(t *testing.T, instance string) duroxide.ActivityExecuteItem {
	t.Helper()
	a := ptFilled(t, duroxide.ActivityExecuteItem{})
	a.Instance = instance
	require.NotNil(t, a.SessionID)
	require.NotNil(t, a.Tag)
	return a
}

// ---------------------------------------------------------------------------
// A fixture with varied state, and an observation of everything a caller can
// see, to show that a call changed nothing.

// ptFixture is a provider holding:
//   - "alpha": execution 1 ContinuedAsNew (key k1 merged, custom status set),
//     execution 2 running (key k2 in the delta), three activities in the
//     worker queue (one bound to session s1 and held by owner w1, one tagged
//     gpu, one plain), a timer due in 30 minutes and a visible completion;
//   - "beta": running, its turn held (batch e1; e2 arrived during the turn),
//     plus a worker item bound to session s1;
//   - "done": completed;
//   - "parked": an ExternalRaised without a start.
type ptFixture struct {
	p         *memprovider.Provider
	clock     *fakeclock.Fake
	orchToken string // held lock on beta
	workToken string // held worker lock on alpha activity 3 (session s1, owner w1)
}

func newPtFixture(t *testing.T) *ptFixture {
	t.Helper()
	ctx := t.Context()
	p, clock := ptNew(t)
	f := &ptFixture{p: p, clock: clock}

	ptEnqueue(t, p, ptStart("alpha"))
	item := ptMustFetch(t, p, "alpha")
	meta := ptMeta()
	meta.Status = duroxide.StatusContinuedAsNew
	meta.Output = ptStr("in-2")
	meta.PinnedDuroxideVersion = &duroxide.Semver{Minor: 1, Patch: 26}
	ptAck(t, p, item.LockToken, duroxide.OrchestrationAck{
		ExecutionID: 1,
		HistoryDelta: []duroxide.Event{
			ptStarted("alpha", 1),
			ptEvent("alpha", 1, 2, duroxide.KeyValueSet{Key: "k1", Value: "v1", LastUpdatedAtMs: 111}),
			ptEvent("alpha", 1, 3, duroxide.CustomStatusUpdated{Status: ptStr("step-1")}),
			ptEvent("alpha", 1, 4, duroxide.OrchestrationContinuedAsNew{Input: "in-2"}),
		},
		OrchestratorItems: []duroxide.WorkItem{duroxide.ContinueAsNewItem{Instance: "alpha", Orchestration: ptOrch, Input: "in-2", Version: ptStr(ptVersion)}},
		Metadata:          meta,
	})
	item = ptMustFetch(t, p, "alpha")
	gpu := ptActivity("alpha", 2, 4)
	gpu.Tag = ptStr("gpu")
	sess := ptActivity("alpha", 2, 3)
	sess.SessionID = ptStr("s1")
	meta = ptMeta()
	meta.PinnedDuroxideVersion = &duroxide.Semver{Minor: 1, Patch: 26}
	ptAck(t, p, item.LockToken, duroxide.OrchestrationAck{
		ExecutionID: 2,
		HistoryDelta: []duroxide.Event{
			ptStarted("alpha", 2),
			ptEvent("alpha", 2, 2, duroxide.KeyValueSet{Key: "k2", Value: "v2", LastUpdatedAtMs: 222}),
			ptEvent("alpha", 2, 3, duroxide.ActivityScheduled{Name: "Act", Input: "{}", SessionID: ptStr("s1")}),
			ptEvent("alpha", 2, 4, duroxide.ActivityScheduled{Name: "Act", Input: "{}", Tag: ptStr("gpu")}),
			ptEvent("alpha", 2, 5, duroxide.ActivityScheduled{Name: "Act", Input: "{}"}),
			ptEvent("alpha", 2, 6, duroxide.TimerCreated{FireAtMs: uint64(ptEpoch.Add(30 * time.Minute).UnixMilli())}),
		},
		WorkerItems:       []duroxide.WorkItem{sess, gpu, ptActivity("alpha", 2, 5)},
		OrchestratorItems: []duroxide.WorkItem{duroxide.TimerFiredItem{Instance: "alpha", ExecutionID: 2, ID: 6, FireAtMs: uint64(ptEpoch.Add(30 * time.Minute).UnixMilli())}},
		Metadata:          meta,
	})

	ptCreate(t, p, "beta")
	ptEnqueue(t, p, duroxide.ExternalRaisedItem{Instance: "beta", Name: "e1", Data: "1"})
	f.orchToken = ptMustFetch(t, p, "beta").LockToken
	ptEnqueue(t, p, duroxide.ExternalRaisedItem{Instance: "beta", Name: "e2", Data: "2"})

	ptEnqueue(t, p, ptStart("done"))
	item = ptMustFetch(t, p, "done")
	meta = ptMeta()
	meta.Status = duroxide.StatusCompleted
	meta.Output = ptStr("ok")
	ptAck(t, p, item.LockToken, duroxide.OrchestrationAck{
		ExecutionID:  1,
		HistoryDelta: []duroxide.Event{ptStarted("done", 1), ptEvent("done", 1, 2, duroxide.OrchestrationCompleted{Output: "ok"})},
		Metadata:     meta,
	})

	ptEnqueue(t, p, duroxide.ExternalRaisedItem{Instance: "parked", Name: "early", Data: "0"})
	ptEnqueue(t, p, duroxide.ActivityCompletedItem{Instance: "alpha", ExecutionID: 2, ID: 5, Result: "r5"})

	w, err := p.FetchWorkItem(ctx, ptLock, 0, &duroxide.SessionFetchConfig{OwnerID: "w1", LockTimeout: ptLock}, duroxide.FilterAny())
	require.NoError(t, err)
	require.NotNil(t, w)
	require.Equal(t, duroxide.WorkItem(sess), w.Item)
	f.workToken = w.LockToken
	beta9 := ptActivity("beta", 1, 9)
	beta9.SessionID = ptStr("s1")
	require.NoError(t, p.EnqueueForWorker(ctx, beta9))
	return f
}

// ptResult is a call's result with its error text.
type ptResult[T any] struct {
	V   T
	Err string
}

func ptRes[T any](v T, err error) ptResult[T] {
	r := ptResult[T]{V: v}
	if err != nil {
		r.Err = err.Error()
	}
	return r
}

type ptInstView struct {
	Read       ptResult[[]duroxide.Event]
	Exec1      ptResult[[]duroxide.Event]
	Exec2      ptResult[[]duroxide.Event]
	Executions ptResult[[]uint64]
	Latest     ptResult[uint64]
	Info       ptResult[duroxide.InstanceInfo]
	ExecInfo1  ptResult[duroxide.ExecutionInfo]
	ExecInfo2  ptResult[duroxide.ExecutionInfo]
	KV         ptResult[map[string]string]
	K1, K2     ptResult[string]
	Custom     ptResult[duroxide.CustomStatus]
	Children   ptResult[[]string]
	Parent     ptResult[*string]
	Tree       ptResult[duroxide.InstanceTree]
}

type ptOrchView struct {
	Item    duroxide.OrchestrationItem
	Attempt uint32
}

type ptWorkView struct {
	Item    duroxide.WorkItem
	Attempt uint32
}

// ptView is everything observable about a fixture's provider. Taking it
// drains the provider: it fetches everything fetchable now, then again after
// every lock, lease and delay of the fixture has passed.
type ptView struct {
	Depths    [3]ptResult[duroxide.QueueDepths]
	Metrics   ptResult[duroxide.SystemMetrics]
	Instances ptResult[[]string]
	ByStatus  map[duroxide.ExecutionStatus]ptResult[[]string]
	PerInst   map[string]ptInstView
	Orch      [2][]ptOrchView
	Work      [2][]ptWorkView
}

var ptObservedInstances = []string{"alpha", "beta", "done", "parked", "ghost"}

func ptObserve(t *testing.T, f *ptFixture) ptView {
	t.Helper()
	ctx := t.Context()
	p := f.p
	v := ptView{ByStatus: map[duroxide.ExecutionStatus]ptResult[[]string]{}, PerInst: map[string]ptInstView{}}
	v.Depths[0] = ptRes(p.GetQueueDepths(ctx))
	v.Metrics = ptRes(p.GetSystemMetrics(ctx))
	v.Instances = ptRes(p.ListInstances(ctx))
	for _, s := range []duroxide.ExecutionStatus{duroxide.StatusRunning, duroxide.StatusCompleted, duroxide.StatusContinuedAsNew} {
		v.ByStatus[s] = ptRes(p.ListInstancesByStatus(ctx, s))
	}
	for _, id := range ptObservedInstances {
		var iv ptInstView
		iv.Read = ptRes(p.Read(ctx, id))
		iv.Exec1 = ptRes(p.ReadWithExecution(ctx, id, 1))
		iv.Exec2 = ptRes(p.ReadWithExecution(ctx, id, 2))
		iv.Executions = ptRes(p.ListExecutions(ctx, id))
		iv.Latest = ptRes(p.LatestExecutionID(ctx, id))
		iv.Info = ptRes(p.GetInstanceInfo(ctx, id))
		iv.ExecInfo1 = ptRes(p.GetExecutionInfo(ctx, id, 1))
		iv.ExecInfo2 = ptRes(p.GetExecutionInfo(ctx, id, 2))
		iv.KV = ptRes(p.GetKVAllValues(ctx, id))
		k1, ok1, err := p.GetKVValue(ctx, id, "k1")
		iv.K1 = ptRes(fmt.Sprint(k1, ok1), err)
		k2, ok2, err := p.GetKVValue(ctx, id, "k2")
		iv.K2 = ptRes(fmt.Sprint(k2, ok2), err)
		cs, ok, err := p.GetCustomStatus(ctx, id, 0)
		if !ok {
			cs = duroxide.CustomStatus{Version: 1 << 63} // marks "not ok"
		}
		iv.Custom = ptRes(cs, err)
		iv.Children = ptRes(p.ListChildren(ctx, id))
		iv.Parent = ptRes(p.GetParentID(ctx, id))
		iv.Tree = ptRes(p.GetInstanceTree(ctx, id))
		v.PerInst[id] = iv
	}
	v.Orch[0], v.Work[0] = ptDrain(t, p)
	v.Depths[1] = ptRes(p.GetQueueDepths(ctx))
	require.NoError(t, f.clock.Advance(2*ptLock+time.Minute))
	v.Orch[1], v.Work[1] = ptDrain(t, p)
	v.Depths[2] = ptRes(p.GetQueueDepths(ctx))
	return v
}

// ptDrain fetches (and keeps locked) every orchestration turn and worker item
// available now.
func ptDrain(t *testing.T, p *memprovider.Provider) ([]ptOrchView, []ptWorkView) {
	t.Helper()
	ctx := t.Context()
	var orch []ptOrchView
	for range 100 {
		item, err := p.FetchOrchestrationItem(ctx, ptLock, 0, nil)
		require.NoError(t, err)
		if item == nil {
			break
		}
		orch = append(orch, ptOrchView{Item: item.OrchestrationItem, Attempt: item.AttemptCount})
	}
	require.Less(t, len(orch), 100, "drain does not end")
	var work []ptWorkView
	cfg := &duroxide.SessionFetchConfig{OwnerID: "drainer", LockTimeout: ptLock}
	for range 100 {
		w, err := p.FetchWorkItem(ctx, ptLock, 0, cfg, duroxide.FilterAny())
		require.NoError(t, err)
		if w == nil {
			break
		}
		work = append(work, ptWorkView{Item: w.Item, Attempt: w.AttemptCount})
	}
	require.Less(t, len(work), 100, "drain does not end")
	return orch, work
}

func TestFixtureObservationIsDeterministicAndSeesState(t *testing.T) {
	a := ptObserve(t, newPtFixture(t))
	b := ptObserve(t, newPtFixture(t))
	require.Equal(t, a, b, "two identical fixtures must observe identically")

	// The observation sees what the fixture holds.
	require.Len(t, a.Orch[0], 1, "now: alpha's completion only (beta locked, parked skipped)")
	assert.Equal(t, "alpha", a.Orch[0][0].Item.Instance)
	require.Len(t, a.Orch[1], 2, "later: alpha (completion + timer) and beta (e1 + e2)")
	assert.Len(t, a.Orch[1][0].Item.Messages, 2)
	assert.Len(t, a.Orch[1][1].Item.Messages, 2)
	assert.Len(t, a.Work[0], 2, "now: the gpu and plain activities")
	assert.Len(t, a.Work[1], 4, "later: every activity, session s1 claimable")
	assert.Equal(t, map[string]string{"k1": "v1", "k2": "v2"}, a.PerInst["alpha"].KV.V)
	assert.Equal(t, map[string]duroxide.KvEntry{"k1": {Value: "v1", LastUpdatedAtMs: 111}}, a.Orch[0][0].Item.KVSnapshot)
	assert.Equal(t, []string{"done", "beta", "alpha"}, a.Instances.V)
}

// ptRejectedCall is a call that must fail with sentinel and change nothing.
type ptRejectedCall struct {
	name     string
	sentinel error
	call     func(ctx context.Context, f *ptFixture) error
}

func ptBadInputCalls() []ptRejectedCall {
	bad := func(name string, call func(ctx context.Context, f *ptFixture) error) ptRejectedCall {
		return ptRejectedCall{name: name, sentinel: duroxide.ErrInvalidArgument, call: call}
	}
	neg := -time.Second
	okEvent := ptEvent("beta", 1, 2, duroxide.ExternalEvent{Name: "e1", Data: "1"})
	ackWith := func(mod func(a *duroxide.OrchestrationAck)) func(ctx context.Context, f *ptFixture) error {
		return func(ctx context.Context, f *ptFixture) error {
			a := duroxide.OrchestrationAck{
				ExecutionID:  1,
				HistoryDelta: []duroxide.Event{okEvent},
				WorkerItems:  []duroxide.WorkItem{ptActivity("beta", 1, 3)},
				OrchestratorItems: []duroxide.WorkItem{
					duroxide.ExternalRaisedItem{Instance: "alpha", Name: "x", Data: "y"},
				},
				Metadata:            ptMeta(),
				CancelledActivities: []duroxide.ScheduledActivityIdentifier{{Instance: "alpha", ExecutionID: 2, ActivityID: 4}},
			}
			mod(&a)
			return f.p.AckOrchestrationItem(ctx, f.orchToken, a)
		}
	}
	okSession := &duroxide.SessionFetchConfig{OwnerID: "w2", LockTimeout: ptLock}
	return []ptRejectedCall{
		bad("EnqueueForOrchestrator/nil item", func(ctx context.Context, f *ptFixture) error {
			return f.p.EnqueueForOrchestrator(ctx, nil, 0)
		}),
		bad("EnqueueForOrchestrator/ActivityExecute", func(ctx context.Context, f *ptFixture) error {
			return f.p.EnqueueForOrchestrator(ctx, ptActivity("alpha", 2, 7), 0)
		}),
		bad("EnqueueForOrchestrator/empty instance", func(ctx context.Context, f *ptFixture) error {
			return f.p.EnqueueForOrchestrator(ctx, ptStart(""), 0)
		}),
		bad("EnqueueForOrchestrator/ExternalRaised empty instance", func(ctx context.Context, f *ptFixture) error {
			return f.p.EnqueueForOrchestrator(ctx, duroxide.ExternalRaisedItem{Name: "n"}, 0)
		}),
		bad("EnqueueForOrchestrator/SubOrchCompleted empty parent", func(ctx context.Context, f *ptFixture) error {
			return f.p.EnqueueForOrchestrator(ctx, duroxide.SubOrchCompletedItem{ParentExecutionID: 1, ParentID: 2}, 0)
		}),
		bad("EnqueueForOrchestrator/SubOrchFailed empty parent", func(ctx context.Context, f *ptFixture) error {
			return f.p.EnqueueForOrchestrator(ctx, duroxide.SubOrchFailedItem{ParentExecutionID: 1, ParentID: 2, Details: duroxide.Application{Kind: duroxide.AppActivityFailed{}}}, 0)
		}),
		bad("EnqueueForOrchestrator/negative delay", func(ctx context.Context, f *ptFixture) error {
			return f.p.EnqueueForOrchestrator(ctx, duroxide.ExternalRaisedItem{Instance: "alpha", Name: "n"}, neg)
		}),
		bad("EnqueueForWorker/nil item", func(ctx context.Context, f *ptFixture) error {
			return f.p.EnqueueForWorker(ctx, nil)
		}),
		bad("EnqueueForWorker/StartOrchestration", func(ctx context.Context, f *ptFixture) error {
			return f.p.EnqueueForWorker(ctx, ptStart("alpha"))
		}),
		bad("EnqueueForWorker/ActivityCompleted", func(ctx context.Context, f *ptFixture) error {
			return f.p.EnqueueForWorker(ctx, duroxide.ActivityCompletedItem{Instance: "alpha", ExecutionID: 2, ID: 3})
		}),
		bad("EnqueueForWorker/empty instance", func(ctx context.Context, f *ptFixture) error {
			return f.p.EnqueueForWorker(ctx, ptActivity("", 1, 1))
		}),
		bad("EnqueueForWorker/empty session id", func(ctx context.Context, f *ptFixture) error {
			a := ptActivity("alpha", 2, 8)
			a.SessionID = ptStr("")
			return f.p.EnqueueForWorker(ctx, a)
		}),
		bad("FetchOrchestrationItem/negative lock timeout", func(ctx context.Context, f *ptFixture) error {
			_, err := f.p.FetchOrchestrationItem(ctx, neg, 0, nil)
			return err
		}),
		bad("FetchOrchestrationItem/negative poll timeout", func(ctx context.Context, f *ptFixture) error {
			_, err := f.p.FetchOrchestrationItem(ctx, ptLock, neg, nil)
			return err
		}),
		bad("AckOrchestrationItem/execution id 0", ackWith(func(a *duroxide.OrchestrationAck) { a.ExecutionID = 0 })),
		bad("AckOrchestrationItem/event id 0", ackWith(func(a *duroxide.OrchestrationAck) {
			a.HistoryDelta = []duroxide.Event{ptEvent("beta", 1, 0, duroxide.ExternalEvent{Name: "e1"})}
		})),
		bad("AckOrchestrationItem/event id 0 after a valid event", ackWith(func(a *duroxide.OrchestrationAck) {
			a.HistoryDelta = append(a.HistoryDelta, ptEvent("beta", 1, 0, duroxide.ExternalEvent{Name: "e1"}))
		})),
		bad("AckOrchestrationItem/nil event kind", ackWith(func(a *duroxide.OrchestrationAck) {
			a.HistoryDelta = append(a.HistoryDelta, duroxide.Event{EventID: 3, InstanceID: "beta", ExecutionID: 1})
		})),
		bad("AckOrchestrationItem/nil worker item", ackWith(func(a *duroxide.OrchestrationAck) {
			a.WorkerItems = append(a.WorkerItems, nil)
		})),
		bad("AckOrchestrationItem/StartOrchestration as worker item", ackWith(func(a *duroxide.OrchestrationAck) {
			a.WorkerItems = append(a.WorkerItems, ptStart("beta"))
		})),
		bad("AckOrchestrationItem/worker item with empty instance", ackWith(func(a *duroxide.OrchestrationAck) {
			a.WorkerItems = append(a.WorkerItems, ptActivity("", 1, 4))
		})),
		bad("AckOrchestrationItem/ActivityExecute as orchestrator item", ackWith(func(a *duroxide.OrchestrationAck) {
			a.OrchestratorItems = append(a.OrchestratorItems, ptActivity("beta", 1, 5))
		})),
		bad("AckOrchestrationItem/nil orchestrator item", ackWith(func(a *duroxide.OrchestrationAck) {
			a.OrchestratorItems = append(a.OrchestratorItems, nil)
		})),
		bad("AckOrchestrationItem/orchestrator item with empty instance", ackWith(func(a *duroxide.OrchestrationAck) {
			a.OrchestratorItems = append(a.OrchestratorItems, duroxide.CancelInstanceItem{Reason: "r"})
		})),
		bad("AckOrchestrationItem/cancelled activity with empty instance", ackWith(func(a *duroxide.OrchestrationAck) {
			a.CancelledActivities = append(a.CancelledActivities, duroxide.ScheduledActivityIdentifier{ExecutionID: 1, ActivityID: 1})
		})),
		bad("AbandonOrchestrationItem/negative delay", func(ctx context.Context, f *ptFixture) error {
			return f.p.AbandonOrchestrationItem(ctx, f.orchToken, neg, true)
		}),
		bad("RenewOrchestrationItemLock/negative extendFor", func(ctx context.Context, f *ptFixture) error {
			return f.p.RenewOrchestrationItemLock(ctx, f.orchToken, neg)
		}),
		bad("Read/empty instance", func(ctx context.Context, f *ptFixture) error {
			_, err := f.p.Read(ctx, "")
			return err
		}),
		bad("ReadWithExecution/empty instance", func(ctx context.Context, f *ptFixture) error {
			_, err := f.p.ReadWithExecution(ctx, "", 1)
			return err
		}),
		bad("AppendWithExecution/empty instance", func(ctx context.Context, f *ptFixture) error {
			return f.p.AppendWithExecution(ctx, "", 2, []duroxide.Event{ptEvent("", 2, 7, duroxide.TimerFired{})})
		}),
		bad("AppendWithExecution/execution id 0", func(ctx context.Context, f *ptFixture) error {
			return f.p.AppendWithExecution(ctx, "alpha", 0, []duroxide.Event{ptEvent("alpha", 0, 7, duroxide.TimerFired{})})
		}),
		bad("AppendWithExecution/event id 0", func(ctx context.Context, f *ptFixture) error {
			return f.p.AppendWithExecution(ctx, "alpha", 2, []duroxide.Event{ptEvent("alpha", 2, 7, duroxide.TimerFired{}), ptEvent("alpha", 2, 0, duroxide.TimerFired{})})
		}),
		bad("AppendWithExecution/nil kind", func(ctx context.Context, f *ptFixture) error {
			return f.p.AppendWithExecution(ctx, "alpha", 2, []duroxide.Event{ptEvent("alpha", 2, 7, duroxide.TimerFired{}), {EventID: 8}})
		}),
		bad("AppendWithExecution/new instance, event id 0", func(ctx context.Context, f *ptFixture) error {
			return f.p.AppendWithExecution(ctx, "ghost", 1, []duroxide.Event{ptEvent("ghost", 1, 0, duroxide.TimerFired{})})
		}),
		bad("GetCustomStatus/empty instance", func(ctx context.Context, f *ptFixture) error {
			_, _, err := f.p.GetCustomStatus(ctx, "", 0)
			return err
		}),
		bad("GetKVValue/empty instance", func(ctx context.Context, f *ptFixture) error {
			_, _, err := f.p.GetKVValue(ctx, "", "k1")
			return err
		}),
		bad("GetKVAllValues/empty instance", func(ctx context.Context, f *ptFixture) error {
			_, err := f.p.GetKVAllValues(ctx, "")
			return err
		}),
		bad("FetchWorkItem/zero lock timeout", func(ctx context.Context, f *ptFixture) error {
			_, err := f.p.FetchWorkItem(ctx, 0, 0, nil, duroxide.FilterAny())
			return err
		}),
		bad("FetchOrchestrationItem/zero lock timeout", func(ctx context.Context, f *ptFixture) error {
			_, err := f.p.FetchOrchestrationItem(ctx, 0, 0, nil)
			return err
		}),
		bad("FetchWorkItem/negative lock timeout", func(ctx context.Context, f *ptFixture) error {
			_, err := f.p.FetchWorkItem(ctx, neg, 0, nil, duroxide.FilterAny())
			return err
		}),
		bad("FetchWorkItem/negative poll timeout", func(ctx context.Context, f *ptFixture) error {
			_, err := f.p.FetchWorkItem(ctx, ptLock, neg, okSession, duroxide.FilterAny())
			return err
		}),
		bad("FetchWorkItem/empty session owner", func(ctx context.Context, f *ptFixture) error {
			_, err := f.p.FetchWorkItem(ctx, ptLock, 0, &duroxide.SessionFetchConfig{LockTimeout: ptLock}, duroxide.FilterAny())
			return err
		}),
		bad("FetchWorkItem/empty session owner with filter None", func(ctx context.Context, f *ptFixture) error {
			_, err := f.p.FetchWorkItem(ctx, ptLock, 0, &duroxide.SessionFetchConfig{LockTimeout: ptLock}, duroxide.FilterNone())
			return err
		}),
		bad("ReadWithExecution/execution 0", func(ctx context.Context, f *ptFixture) error {
			_, err := f.p.ReadWithExecution(ctx, "inst", 0)
			return err
		}),
		bad("ReadHistoryWithExecutionID/execution 0", func(ctx context.Context, f *ptFixture) error {
			_, err := f.p.ReadHistoryWithExecutionID(ctx, "inst", 0)
			return err
		}),
		bad("GetExecutionInfo/execution 0", func(ctx context.Context, f *ptFixture) error {
			_, err := f.p.GetExecutionInfo(ctx, "inst", 0)
			return err
		}),
		bad("FetchWorkItem/negative session lease", func(ctx context.Context, f *ptFixture) error {
			_, err := f.p.FetchWorkItem(ctx, ptLock, 0, &duroxide.SessionFetchConfig{OwnerID: "w2", LockTimeout: neg}, duroxide.FilterAny())
			return err
		}),
		bad("AckWorkItem/StartOrchestration completion", func(ctx context.Context, f *ptFixture) error {
			return f.p.AckWorkItem(ctx, f.workToken, ptStart("alpha"))
		}),
		bad("AckWorkItem/ActivityExecute completion", func(ctx context.Context, f *ptFixture) error {
			return f.p.AckWorkItem(ctx, f.workToken, ptActivity("alpha", 2, 3))
		}),
		bad("AckWorkItem/ActivityCompleted with empty instance", func(ctx context.Context, f *ptFixture) error {
			return f.p.AckWorkItem(ctx, f.workToken, duroxide.ActivityCompletedItem{ExecutionID: 2, ID: 3, Result: "r"})
		}),
		bad("AckWorkItem/ActivityFailed with empty instance", func(ctx context.Context, f *ptFixture) error {
			return f.p.AckWorkItem(ctx, f.workToken, duroxide.ActivityFailedItem{ExecutionID: 2, ID: 3, Details: duroxide.Application{Kind: duroxide.AppActivityFailed{}}})
		}),
		bad("RenewWorkItemLock/negative extendFor", func(ctx context.Context, f *ptFixture) error {
			return f.p.RenewWorkItemLock(ctx, f.workToken, neg)
		}),
		bad("AbandonWorkItem/negative delay", func(ctx context.Context, f *ptFixture) error {
			return f.p.AbandonWorkItem(ctx, f.workToken, neg, true)
		}),
		bad("RenewSessionLock/negative extendFor", func(ctx context.Context, f *ptFixture) error {
			_, err := f.p.RenewSessionLock(ctx, []string{"w1"}, neg, ptLock)
			return err
		}),
		bad("RenewSessionLock/negative idle timeout", func(ctx context.Context, f *ptFixture) error {
			_, err := f.p.RenewSessionLock(ctx, []string{"w1"}, 3*ptLock, neg)
			return err
		}),
		bad("CleanupOrphanedSessions/negative idle timeout", func(ctx context.Context, f *ptFixture) error {
			_, err := f.p.CleanupOrphanedSessions(ctx, neg)
			return err
		}),
		bad("ListExecutions/empty instance", func(ctx context.Context, f *ptFixture) error {
			_, err := f.p.ListExecutions(ctx, "")
			return err
		}),
		bad("ReadHistoryWithExecutionID/empty instance", func(ctx context.Context, f *ptFixture) error {
			_, err := f.p.ReadHistoryWithExecutionID(ctx, "", 1)
			return err
		}),
		bad("ReadHistory/empty instance", func(ctx context.Context, f *ptFixture) error {
			_, err := f.p.ReadHistory(ctx, "")
			return err
		}),
		bad("LatestExecutionID/empty instance", func(ctx context.Context, f *ptFixture) error {
			_, err := f.p.LatestExecutionID(ctx, "")
			return err
		}),
		bad("GetInstanceInfo/empty instance", func(ctx context.Context, f *ptFixture) error {
			_, err := f.p.GetInstanceInfo(ctx, "")
			return err
		}),
		bad("GetExecutionInfo/empty instance", func(ctx context.Context, f *ptFixture) error {
			_, err := f.p.GetExecutionInfo(ctx, "", 1)
			return err
		}),
		bad("ListChildren/empty instance", func(ctx context.Context, f *ptFixture) error {
			_, err := f.p.ListChildren(ctx, "")
			return err
		}),
		bad("GetParentID/empty instance", func(ctx context.Context, f *ptFixture) error {
			_, err := f.p.GetParentID(ctx, "")
			return err
		}),
		bad("GetInstanceTree/empty instance", func(ctx context.Context, f *ptFixture) error {
			_, err := f.p.GetInstanceTree(ctx, "")
			return err
		}),
		bad("DeleteInstance/empty instance", func(ctx context.Context, f *ptFixture) error {
			_, err := f.p.DeleteInstance(ctx, "", true)
			return err
		}),
		bad("DeleteInstancesAtomic/one empty id", func(ctx context.Context, f *ptFixture) error {
			_, err := f.p.DeleteInstancesAtomic(ctx, []string{"done", "", "alpha"}, true)
			return err
		}),
		bad("PruneExecutions/empty instance", func(ctx context.Context, f *ptFixture) error {
			_, err := f.p.PruneExecutions(ctx, "", duroxide.PruneOptions{})
			return err
		}),
	}
}

func ptRejectedOtherCalls() []ptRejectedCall {
	unknown := []struct{ name, token string }{
		{"never issued", "mp-0000000000000000-zz"},
		{"empty", ""},
	}
	var out []ptRejectedCall
	add := func(name string, sentinel error, call func(ctx context.Context, f *ptFixture) error) {
		out = append(out, ptRejectedCall{name: name, sentinel: sentinel, call: call})
	}
	for _, u := range unknown {
		tok := u.token
		add("AckOrchestrationItem/"+u.name, duroxide.ErrInvalidLockToken, func(ctx context.Context, f *ptFixture) error {
			return f.p.AckOrchestrationItem(ctx, tok, duroxide.OrchestrationAck{ExecutionID: 1, HistoryDelta: []duroxide.Event{ptEvent("beta", 1, 2, duroxide.ExternalEvent{Name: "e1"})}})
		})
		add("AbandonOrchestrationItem/"+u.name, duroxide.ErrInvalidLockToken, func(ctx context.Context, f *ptFixture) error {
			return f.p.AbandonOrchestrationItem(ctx, tok, 0, true)
		})
		add("RenewOrchestrationItemLock/"+u.name, duroxide.ErrInvalidLockToken, func(ctx context.Context, f *ptFixture) error {
			return f.p.RenewOrchestrationItemLock(ctx, tok, 3*ptLock)
		})
		add("AckWorkItem/"+u.name, duroxide.ErrInvalidLockToken, func(ctx context.Context, f *ptFixture) error {
			return f.p.AckWorkItem(ctx, tok, duroxide.ActivityCompletedItem{Instance: "alpha", ExecutionID: 2, ID: 3, Result: "r"})
		})
		add("RenewWorkItemLock/"+u.name, duroxide.ErrInvalidLockToken, func(ctx context.Context, f *ptFixture) error {
			return f.p.RenewWorkItemLock(ctx, tok, 3*ptLock)
		})
		add("AbandonWorkItem/"+u.name, duroxide.ErrInvalidLockToken, func(ctx context.Context, f *ptFixture) error {
			return f.p.AbandonWorkItem(ctx, tok, 0, true)
		})
	}
	// A token of one queue is unknown to the other.
	add("AckOrchestrationItem/worker token", duroxide.ErrInvalidLockToken, func(ctx context.Context, f *ptFixture) error {
		return f.p.AckOrchestrationItem(ctx, f.workToken, duroxide.OrchestrationAck{ExecutionID: 1})
	})
	add("AbandonOrchestrationItem/worker token", duroxide.ErrInvalidLockToken, func(ctx context.Context, f *ptFixture) error {
		return f.p.AbandonOrchestrationItem(ctx, f.workToken, 0, false)
	})
	add("RenewOrchestrationItemLock/worker token", duroxide.ErrInvalidLockToken, func(ctx context.Context, f *ptFixture) error {
		return f.p.RenewOrchestrationItemLock(ctx, f.workToken, 3*ptLock)
	})
	add("AckWorkItem/orchestration token", duroxide.ErrInvalidLockToken, func(ctx context.Context, f *ptFixture) error {
		return f.p.AckWorkItem(ctx, f.orchToken, nil)
	})
	add("RenewWorkItemLock/orchestration token", duroxide.ErrInvalidLockToken, func(ctx context.Context, f *ptFixture) error {
		return f.p.RenewWorkItemLock(ctx, f.orchToken, 3*ptLock)
	})
	add("AbandonWorkItem/orchestration token", duroxide.ErrInvalidLockToken, func(ctx context.Context, f *ptFixture) error {
		return f.p.AbandonWorkItem(ctx, f.orchToken, 0, false)
	})
	// Duplicate event ids fail the whole ack or append.
	add("AckOrchestrationItem/duplicate of stored event", duroxide.ErrDuplicateEvent, func(ctx context.Context, f *ptFixture) error {
		return f.p.AckOrchestrationItem(ctx, f.orchToken, duroxide.OrchestrationAck{
			ExecutionID:  1,
			HistoryDelta: []duroxide.Event{ptEvent("beta", 1, 2, duroxide.ExternalEvent{Name: "e1"}), ptEvent("beta", 1, 1, duroxide.ExternalEvent{Name: "dup"})},
			WorkerItems:  []duroxide.WorkItem{ptActivity("beta", 1, 3)},
		})
	})
	add("AckOrchestrationItem/duplicate within delta", duroxide.ErrDuplicateEvent, func(ctx context.Context, f *ptFixture) error {
		return f.p.AckOrchestrationItem(ctx, f.orchToken, duroxide.OrchestrationAck{
			ExecutionID:  1,
			HistoryDelta: []duroxide.Event{ptEvent("beta", 1, 2, duroxide.ExternalEvent{Name: "e1"}), ptEvent("beta", 1, 2, duroxide.ExternalEvent{Name: "dup"})},
		})
	})
	add("AckOrchestrationItem/duplicate within unordered delta", duroxide.ErrDuplicateEvent, func(ctx context.Context, f *ptFixture) error {
		return f.p.AckOrchestrationItem(ctx, f.orchToken, duroxide.OrchestrationAck{
			ExecutionID: 1,
			HistoryDelta: []duroxide.Event{
				ptEvent("beta", 1, 4, duroxide.ExternalEvent{Name: "e1"}),
				ptEvent("beta", 1, 3, duroxide.ExternalEvent{Name: "e2"}),
				ptEvent("beta", 1, 4, duroxide.ExternalEvent{Name: "dup"}),
			},
		})
	})
	add("AppendWithExecution/duplicate of stored event", duroxide.ErrDuplicateEvent, func(ctx context.Context, f *ptFixture) error {
		return f.p.AppendWithExecution(ctx, "alpha", 2, []duroxide.Event{ptEvent("alpha", 2, 7, duroxide.TimerFired{}), ptEvent("alpha", 2, 6, duroxide.TimerFired{})})
	})
	// Not-found errors of the management API.
	add("GetInstanceInfo/unknown", duroxide.ErrNotFound, func(ctx context.Context, f *ptFixture) error {
		_, err := f.p.GetInstanceInfo(ctx, "ghost")
		return err
	})
	add("DeleteInstance/unknown", duroxide.ErrNotFound, func(ctx context.Context, f *ptFixture) error {
		_, err := f.p.DeleteInstance(ctx, "parked", true)
		return err
	})
	add("PruneExecutions/unknown", duroxide.ErrNotFound, func(ctx context.Context, f *ptFixture) error {
		_, err := f.p.PruneExecutions(ctx, "ghost", duroxide.PruneOptions{})
		return err
	})
	add("DeleteInstancesAtomic/running without force", duroxide.ErrInstanceRunning, func(ctx context.Context, f *ptFixture) error {
		_, err := f.p.DeleteInstancesAtomic(ctx, []string{"done", "beta"}, false)
		return err
	})
	return out
}

func TestBadInputIsRejectedAndChangesNothing(t *testing.T) {
	want := ptObserve(t, newPtFixture(t))
	for _, tc := range ptBadInputCalls() {
		t.Run(tc.name, func(t *testing.T) {
			f := newPtFixture(t)
			var err error
			require.NotPanics(t, func() { err = tc.call(t.Context(), f) })
			requirePermanentIs(t, err, tc.sentinel)
			require.Equal(t, want, ptObserve(t, f), "a rejected call changed the provider's state")
		})
	}
}

func TestRejectedTokensAndConflictsChangeNothing(t *testing.T) {
	want := ptObserve(t, newPtFixture(t))
	for _, tc := range ptRejectedOtherCalls() {
		t.Run(tc.name, func(t *testing.T) {
			f := newPtFixture(t)
			err := tc.call(t.Context(), f)
			requirePermanentIs(t, err, tc.sentinel)
			require.Equal(t, want, ptObserve(t, f), "a rejected call changed the provider's state")
		})
	}
}

// TestUsedTokensAreInvalid: a token stops working once its ack or abandon
// succeeded, for every method that takes one.
func TestUsedTokensAreInvalid(t *testing.T) {
	ctx := t.Context()
	orchUses := map[string]func(*memprovider.Provider, string) error{
		"ack": func(p *memprovider.Provider, tok string) error {
			return p.AckOrchestrationItem(ctx, tok, duroxide.OrchestrationAck{ExecutionID: 1, HistoryDelta: []duroxide.Event{ptStarted("i", 1)}})
		},
		"abandon": func(p *memprovider.Provider, tok string) error { return p.AbandonOrchestrationItem(ctx, tok, 0, false) },
	}
	for first, use := range orchUses {
		for second, reuse := range orchUses {
			t.Run("orchestration/"+first+"/then/"+second, func(t *testing.T) {
				p, _ := ptNew(t)
				ptEnqueue(t, p, ptStart("i"))
				tok := ptMustFetch(t, p, "i").LockToken
				require.NoError(t, use(p, tok))
				requirePermanentIs(t, reuse(p, tok), duroxide.ErrInvalidLockToken)
				requirePermanentIs(t, p.RenewOrchestrationItemLock(ctx, tok, time.Minute), duroxide.ErrInvalidLockToken)
			})
		}
	}
	workUses := map[string]func(*memprovider.Provider, string) error{
		"ack":     func(p *memprovider.Provider, tok string) error { return p.AckWorkItem(ctx, tok, nil) },
		"abandon": func(p *memprovider.Provider, tok string) error { return p.AbandonWorkItem(ctx, tok, 0, false) },
	}
	for first, use := range workUses {
		for second, reuse := range workUses {
			t.Run("worker/"+first+"/then/"+second, func(t *testing.T) {
				p, _ := ptNew(t)
				require.NoError(t, p.EnqueueForWorker(ctx, ptActivity("i", 1, 1)))
				w, err := p.FetchWorkItem(ctx, ptLock, 0, nil, duroxide.FilterDefaultOnly())
				require.NoError(t, err)
				require.NotNil(t, w)
				require.NoError(t, use(p, w.LockToken))
				requirePermanentIs(t, reuse(p, w.LockToken), duroxide.ErrInvalidLockToken)
				requirePermanentIs(t, p.RenewWorkItemLock(ctx, w.LockToken, time.Minute), duroxide.ErrInvalidLockToken)
			})
		}
	}
}

// ---------------------------------------------------------------------------
// Cancelled contexts

type ptCtxCall struct {
	name string
	// mutates says the call changes observable state when its context is
	// live: the test checks that too, so a cancelled call that changed
	// nothing is meaningful.
	mutates bool
	call    func(ctx context.Context, f *ptFixture) error
}

func ptCtxCalls() []ptCtxCall {
	return []ptCtxCall{
		{"EnqueueForOrchestrator", true, func(ctx context.Context, f *ptFixture) error {
			return f.p.EnqueueForOrchestrator(ctx, duroxide.ExternalRaisedItem{Instance: "alpha", Name: "x"}, 0)
		}},
		{"EnqueueForWorker", true, func(ctx context.Context, f *ptFixture) error {
			return f.p.EnqueueForWorker(ctx, ptActivity("alpha", 2, 50))
		}},
		{"FetchOrchestrationItem", true, func(ctx context.Context, f *ptFixture) error {
			_, err := f.p.FetchOrchestrationItem(ctx, ptLock, 0, nil)
			return err
		}},
		{"FetchOrchestrationItem/long poll", true, func(ctx context.Context, f *ptFixture) error {
			_, err := f.p.FetchOrchestrationItem(ctx, ptLock, time.Minute, &duroxide.DispatcherCapabilityFilter{
				SupportedDuroxideVersions: []duroxide.SemverRange{{Max: duroxide.Semver{Major: 9}}},
			})
			return err
		}},
		{"AckOrchestrationItem", true, func(ctx context.Context, f *ptFixture) error {
			return f.p.AckOrchestrationItem(ctx, f.orchToken, duroxide.OrchestrationAck{
				ExecutionID:  1,
				HistoryDelta: []duroxide.Event{ptEvent("beta", 1, 2, duroxide.ExternalEvent{Name: "e1"})},
			})
		}},
		{"AbandonOrchestrationItem", true, func(ctx context.Context, f *ptFixture) error {
			return f.p.AbandonOrchestrationItem(ctx, f.orchToken, 0, false)
		}},
		{"RenewOrchestrationItemLock", true, func(ctx context.Context, f *ptFixture) error {
			return f.p.RenewOrchestrationItemLock(ctx, f.orchToken, 3*ptLock)
		}},
		{"Read", false, func(ctx context.Context, f *ptFixture) error {
			_, err := f.p.Read(ctx, "alpha")
			return err
		}},
		{"ReadWithExecution", false, func(ctx context.Context, f *ptFixture) error {
			_, err := f.p.ReadWithExecution(ctx, "alpha", 1)
			return err
		}},
		{"AppendWithExecution", true, func(ctx context.Context, f *ptFixture) error {
			return f.p.AppendWithExecution(ctx, "alpha", 2, []duroxide.Event{ptEvent("alpha", 2, 7, duroxide.TimerFired{})})
		}},
		{"FetchWorkItem", true, func(ctx context.Context, f *ptFixture) error {
			_, err := f.p.FetchWorkItem(ctx, ptLock, 0, nil, duroxide.FilterAny())
			return err
		}},
		{"FetchWorkItem/long poll with session", true, func(ctx context.Context, f *ptFixture) error {
			_, err := f.p.FetchWorkItem(ctx, ptLock, time.Minute, &duroxide.SessionFetchConfig{OwnerID: "w1", LockTimeout: ptLock}, duroxide.FilterDefaultOnly())
			return err
		}},
		{"AckWorkItem", true, func(ctx context.Context, f *ptFixture) error {
			return f.p.AckWorkItem(ctx, f.workToken, duroxide.ActivityCompletedItem{Instance: "alpha", ExecutionID: 2, ID: 3, Result: "r3"})
		}},
		{"RenewWorkItemLock", true, func(ctx context.Context, f *ptFixture) error {
			return f.p.RenewWorkItemLock(ctx, f.workToken, 3*ptLock)
		}},
		{"AbandonWorkItem", true, func(ctx context.Context, f *ptFixture) error {
			return f.p.AbandonWorkItem(ctx, f.workToken, 0, false)
		}},
		{"RenewSessionLock", true, func(ctx context.Context, f *ptFixture) error {
			_, err := f.p.RenewSessionLock(ctx, []string{"w1"}, 3*ptLock, ptLock)
			return err
		}},
		{"CleanupOrphanedSessions", false, func(ctx context.Context, f *ptFixture) error {
			_, err := f.p.CleanupOrphanedSessions(ctx, 0)
			return err
		}},
		{"GetCustomStatus", false, func(ctx context.Context, f *ptFixture) error {
			_, _, err := f.p.GetCustomStatus(ctx, "alpha", 0)
			return err
		}},
		{"GetKVValue", false, func(ctx context.Context, f *ptFixture) error {
			_, _, err := f.p.GetKVValue(ctx, "alpha", "k1")
			return err
		}},
		{"GetKVAllValues", false, func(ctx context.Context, f *ptFixture) error {
			_, err := f.p.GetKVAllValues(ctx, "alpha")
			return err
		}},
		{"ListInstances", false, func(ctx context.Context, f *ptFixture) error {
			_, err := f.p.ListInstances(ctx)
			return err
		}},
		{"ListInstancesByStatus", false, func(ctx context.Context, f *ptFixture) error {
			_, err := f.p.ListInstancesByStatus(ctx, duroxide.StatusRunning)
			return err
		}},
		{"ListExecutions", false, func(ctx context.Context, f *ptFixture) error {
			_, err := f.p.ListExecutions(ctx, "alpha")
			return err
		}},
		{"ReadHistoryWithExecutionID", false, func(ctx context.Context, f *ptFixture) error {
			_, err := f.p.ReadHistoryWithExecutionID(ctx, "alpha", 1)
			return err
		}},
		{"ReadHistory", false, func(ctx context.Context, f *ptFixture) error {
			_, err := f.p.ReadHistory(ctx, "alpha")
			return err
		}},
		{"LatestExecutionID", false, func(ctx context.Context, f *ptFixture) error {
			_, err := f.p.LatestExecutionID(ctx, "alpha")
			return err
		}},
		{"GetInstanceInfo", false, func(ctx context.Context, f *ptFixture) error {
			_, err := f.p.GetInstanceInfo(ctx, "alpha")
			return err
		}},
		{"GetExecutionInfo", false, func(ctx context.Context, f *ptFixture) error {
			_, err := f.p.GetExecutionInfo(ctx, "alpha", 1)
			return err
		}},
		{"GetSystemMetrics", false, func(ctx context.Context, f *ptFixture) error {
			_, err := f.p.GetSystemMetrics(ctx)
			return err
		}},
		{"GetQueueDepths", false, func(ctx context.Context, f *ptFixture) error {
			_, err := f.p.GetQueueDepths(ctx)
			return err
		}},
		{"ListChildren", false, func(ctx context.Context, f *ptFixture) error {
			_, err := f.p.ListChildren(ctx, "alpha")
			return err
		}},
		{"GetParentID", false, func(ctx context.Context, f *ptFixture) error {
			_, err := f.p.GetParentID(ctx, "alpha")
			return err
		}},
		{"GetInstanceTree", false, func(ctx context.Context, f *ptFixture) error {
			_, err := f.p.GetInstanceTree(ctx, "alpha")
			return err
		}},
		{"DeleteInstance", true, func(ctx context.Context, f *ptFixture) error {
			_, err := f.p.DeleteInstance(ctx, "done", false)
			return err
		}},
		{"DeleteInstancesAtomic", true, func(ctx context.Context, f *ptFixture) error {
			_, err := f.p.DeleteInstancesAtomic(ctx, []string{"beta"}, true)
			return err
		}},
		{"DeleteInstanceBulk", true, func(ctx context.Context, f *ptFixture) error {
			_, err := f.p.DeleteInstanceBulk(ctx, duroxide.InstanceFilter{})
			return err
		}},
		{"PruneExecutions", true, func(ctx context.Context, f *ptFixture) error {
			_, err := f.p.PruneExecutions(ctx, "alpha", duroxide.PruneOptions{})
			return err
		}},
		{"PruneExecutionsBulk", true, func(ctx context.Context, f *ptFixture) error {
			_, err := f.p.PruneExecutionsBulk(ctx, duroxide.InstanceFilter{}, duroxide.PruneOptions{})
			return err
		}},
	}
}

func TestEndedContextFailsEveryMethodAndChangesNothing(t *testing.T) {
	want := ptObserve(t, newPtFixture(t))
	cancelled, cancel := context.WithCancel(t.Context())
	cancel()
	expired, cancel2 := context.WithDeadline(t.Context(), time.Unix(0, 0))
	defer cancel2()
	contexts := []struct {
		name string
		ctx  context.Context
		err  error
	}{
		{"cancelled", cancelled, context.Canceled},
		{"deadline", expired, context.DeadlineExceeded},
	}
	for _, tc := range ptCtxCalls() {
		for _, c := range contexts {
			t.Run(tc.name+"/"+c.name, func(t *testing.T) {
				f := newPtFixture(t)
				done := make(chan error, 1)
				go func() { done <- tc.call(c.ctx, f) }()
				var err error
				select {
				case err = <-done:
				case <-time.After(ptGuard):
					require.FailNow(t, "call with an ended context blocked")
				}
				require.Error(t, err)
				require.ErrorIs(t, err, c.err)
				var pe *duroxide.ProviderError
				require.ErrorAs(t, err, &pe)
				require.Equal(t, want, ptObserve(t, f), "a call with an ended context changed the provider's state")
			})
		}
		if tc.mutates {
			t.Run(tc.name+"/live context changes state", func(t *testing.T) {
				f := newPtFixture(t)
				require.NoError(t, tc.call(t.Context(), f))
				require.NotEqual(t, want, ptObserve(t, f), "control: the live call should be observable")
			})
		}
	}
}

// ---------------------------------------------------------------------------
// No aliasing

// TestFetchedOrchestrationItemIsCallersOwn mutates everything a fetch
// returned (history events and their pointer fields, messages, the key/value
// snapshot) and checks that the next delivery of the same turn is intact.
func TestFetchedOrchestrationItemIsCallersOwn(t *testing.T) {
	ctx := t.Context()
	p, _ := ptNew(t)
	const inst = "alias"
	ptEnqueue(t, p, ptStart(inst))
	first := ptMustFetch(t, p, inst)
	meta := ptMeta()
	meta.Status = duroxide.StatusContinuedAsNew
	meta.Output = ptStr("next")
	meta.PinnedDuroxideVersion = &duroxide.Semver{Minor: 1, Patch: 26}
	ptAck(t, p, first.LockToken, duroxide.OrchestrationAck{ExecutionID: 1, HistoryDelta: ptRichHistory(t, inst, 1), Metadata: meta})
	for _, w := range ptRichOrchItems(t, inst) {
		ptEnqueue(t, p, w)
	}

	item := ptMustFetch(t, p, inst)
	require.Len(t, item.History, 26)
	require.Len(t, item.Messages, 10)
	require.NotEmpty(t, item.KVSnapshot)
	want := deepCopy(*item)
	token := item.LockToken

	scribbleAt(item)
	require.NotEqual(t, want, *item, "scribble must change the fetched item")

	require.NoError(t, p.AbandonOrchestrationItem(ctx, token, 0, true))
	again := ptMustFetch(t, p, inst)
	want.LockToken = again.LockToken
	require.Equal(t, want, *again, "mutating a fetched item changed the provider's state")

	history, err := p.ReadWithExecution(ctx, inst, 1)
	require.NoError(t, err)
	require.Equal(t, ptRichHistory(t, inst, 1), history)
}

func TestFetchedWorkItemIsCallersOwn(t *testing.T) {
	ctx := t.Context()
	p, _ := ptNew(t)
	require.NoError(t, p.EnqueueForWorker(ctx, ptRichActivity(t, "alias")))
	cfg := &duroxide.SessionFetchConfig{OwnerID: "w1", LockTimeout: ptLock}
	w, err := p.FetchWorkItem(ctx, ptLock, 0, cfg, duroxide.FilterAny())
	require.NoError(t, err)
	require.NotNil(t, w)
	want := deepCopy(*w)
	token := w.LockToken
	scribbleAt(w)
	require.NotEqual(t, want, *w)

	require.NoError(t, p.AbandonWorkItem(ctx, token, 0, true))
	again, err := p.FetchWorkItem(ctx, ptLock, 0, cfg, duroxide.FilterAny())
	require.NoError(t, err)
	require.NotNil(t, again)
	want.LockToken = again.LockToken
	require.Equal(t, want, *again, "mutating a fetched work item changed the provider's state")
	require.Equal(t, duroxide.WorkItem(ptRichActivity(t, "alias")), again.Item)
}

// TestReadResultsAreCallersOwn mutates every slice, map and pointer returned
// by the read and management methods and reads again.
func TestReadResultsAreCallersOwn(t *testing.T) {
	ctx := t.Context()
	p, _ := ptNew(t)
	const inst, child = "alias", "alias-child"

	ptEnqueue(t, p, ptStart(inst))
	item := ptMustFetch(t, p, inst)
	meta := ptMeta()
	meta.Status = duroxide.StatusContinuedAsNew
	meta.Output = ptStr("next")
	ptAck(t, p, item.LockToken, duroxide.OrchestrationAck{
		ExecutionID:       1,
		HistoryDelta:      ptRichHistory(t, inst, 1),
		Metadata:          meta,
		OrchestratorItems: []duroxide.WorkItem{duroxide.ContinueAsNewItem{Instance: inst, Orchestration: ptOrch, Input: "next"}},
	})
	item = ptMustFetch(t, p, inst)
	ptAck(t, p, item.LockToken, duroxide.OrchestrationAck{
		ExecutionID: 2,
		HistoryDelta: []duroxide.Event{
			ptStarted(inst, 2),
			ptEvent(inst, 2, 2, duroxide.KeyValueSet{Key: "live", Value: "v", LastUpdatedAtMs: 5}),
			ptEvent(inst, 2, 3, duroxide.CustomStatusUpdated{Status: ptStr("busy")}),
		},
		Metadata: ptMeta(),
	})

	ptEnqueue(t, p, ptStart(child))
	item = ptMustFetch(t, p, child)
	childMeta := ptMeta()
	childMeta.ParentInstanceID = ptStr(inst)
	childMeta.Status = duroxide.StatusCompleted
	childMeta.Output = ptStr("child-out")
	ptAck(t, p, item.LockToken, duroxide.OrchestrationAck{ExecutionID: 1, HistoryDelta: []duroxide.Event{ptStarted(child, 1)}, Metadata: childMeta})

	reads := []struct {
		name string
		read func() (any, error)
	}{
		{"Read", func() (any, error) { return p.Read(ctx, inst) }},
		{"ReadWithExecution", func() (any, error) { return p.ReadWithExecution(ctx, inst, 1) }},
		{"ReadHistory", func() (any, error) { return p.ReadHistory(ctx, inst) }},
		{"ReadHistoryWithExecutionID", func() (any, error) { return p.ReadHistoryWithExecutionID(ctx, inst, 1) }},
		{"GetKVAllValues", func() (any, error) { return p.GetKVAllValues(ctx, inst) }},
		{"GetCustomStatus", func() (any, error) {
			cs, ok, err := p.GetCustomStatus(ctx, inst, 0)
			if err == nil && !ok {
				err = fmt.Errorf("no custom status")
			}
			return cs, err
		}},
		{"GetInstanceInfo", func() (any, error) { return p.GetInstanceInfo(ctx, child) }},
		{"GetExecutionInfo", func() (any, error) { return p.GetExecutionInfo(ctx, inst, 1) }},
		{"ListInstances", func() (any, error) { return p.ListInstances(ctx) }},
		{"ListInstancesByStatus", func() (any, error) { return p.ListInstancesByStatus(ctx, duroxide.StatusRunning) }},
		{"ListExecutions", func() (any, error) { return p.ListExecutions(ctx, inst) }},
		{"ListChildren", func() (any, error) { return p.ListChildren(ctx, inst) }},
		{"GetParentID", func() (any, error) { return p.GetParentID(ctx, child) }},
		{"GetInstanceTree", func() (any, error) { return p.GetInstanceTree(ctx, inst) }},
	}
	for _, r := range reads {
		t.Run(r.name, func(t *testing.T) {
			got, err := r.read()
			require.NoError(t, err)
			want := deepCopy(got)
			scribbleAt(&got)
			require.NotEqual(t, want, got, "scribble must change the result (is it empty?)")
			again, err := r.read()
			require.NoError(t, err)
			require.Equal(t, want, again, "mutating a result changed the provider's state")
		})
	}
}

// TestInputsAreNotRetained mutates everything passed into the provider after
// each call returned and checks what the provider stored.
func TestInputsAreNotRetained(t *testing.T) {
	ctx := t.Context()
	p, _ := ptNew(t)
	const inst, next, sink = "in", "in-next", "in-sink"

	// EnqueueForOrchestrator: every orchestrator variant.
	items := ptRichOrchItems(t, inst)
	for _, w := range items {
		require.NoError(t, p.EnqueueForOrchestrator(ctx, w, 0))
	}
	scribbleAt(&items)
	item := ptMustFetch(t, p, inst)
	require.Equal(t, ptRichOrchItems(t, inst), item.Messages)

	// AckOrchestrationItem: history delta, worker and orchestrator items,
	// metadata pointers, cancelled activities.
	newAck := func() duroxide.OrchestrationAck {
		return duroxide.OrchestrationAck{
			ExecutionID:       1,
			HistoryDelta:      ptRichHistory(t, inst, 1),
			WorkerItems:       []duroxide.WorkItem{ptRichActivity(t, inst)},
			OrchestratorItems: ptRichOrchItems(t, next),
			Metadata: duroxide.ExecutionMetadata{
				Status:                duroxide.StatusRunning,
				Output:                ptStr("out"),
				OrchestrationName:     ptStr(ptOrch),
				OrchestrationVersion:  ptStr("2.0.0"),
				ParentInstanceID:      ptStr("the-parent"),
				PinnedDuroxideVersion: &duroxide.Semver{Minor: 1, Patch: 26},
			},
			CancelledActivities: []duroxide.ScheduledActivityIdentifier{{Instance: "nobody", ExecutionID: 1, ActivityID: 1}},
		}
	}
	a := newAck()
	ptAck(t, p, item.LockToken, a)
	scribbleAt(&a)
	want := newAck()

	history, err := p.Read(ctx, inst)
	require.NoError(t, err)
	require.Equal(t, want.HistoryDelta, history)
	info, err := p.GetInstanceInfo(ctx, inst)
	require.NoError(t, err)
	assert.Equal(t, ptOrch, info.OrchestrationName)
	assert.Equal(t, "2.0.0", info.OrchestrationVersion)
	assert.Equal(t, ptStr("the-parent"), info.ParentInstanceID)
	assert.Equal(t, ptStr("out"), info.Output)
	assert.Equal(t, duroxide.StatusRunning, info.Status)

	// The ack's orchestrator items form the next instance's batch.
	nextItem := ptMustFetch(t, p, next)
	require.Equal(t, want.OrchestratorItems, nextItem.Messages)

	// The ack's worker item, then AckWorkItem's completion.
	cfg := &duroxide.SessionFetchConfig{OwnerID: "w1", LockTimeout: ptLock}
	w, err := p.FetchWorkItem(ctx, ptLock, 0, cfg, duroxide.FilterAny())
	require.NoError(t, err)
	require.NotNil(t, w)
	require.Equal(t, want.WorkerItems[0], w.Item)
	newCompletion := func() duroxide.WorkItem {
		c := ptFilled(t, duroxide.ActivityFailedItem{})
		c.Instance = inst
		return c
	}
	completion := newCompletion()
	require.NoError(t, p.AckWorkItem(ctx, w.LockToken, completion))
	scribbleAt(&completion)

	// The pinned version survived: a filter admitting only 0.1.26 still
	// fetches the instance, whose batch is the completion.
	only := duroxide.Semver{Minor: 1, Patch: 26}
	filter := &duroxide.DispatcherCapabilityFilter{SupportedDuroxideVersions: []duroxide.SemverRange{{Min: only, Max: only}}}
	got, err := p.FetchOrchestrationItem(ctx, ptLock, 0, filter)
	require.NoError(t, err)
	require.NotNil(t, got, "the pinned version was changed through the caller's pointer")
	require.Equal(t, inst, got.Instance)
	require.Equal(t, []duroxide.WorkItem{newCompletion()}, got.Messages)

	// AppendWithExecution.
	events := ptRichHistory(t, inst, 2)
	require.NoError(t, p.AppendWithExecution(ctx, inst, 2, events))
	scribbleAt(&events)
	stored, err := p.ReadWithExecution(ctx, inst, 2)
	require.NoError(t, err)
	require.Equal(t, ptRichHistory(t, inst, 2), stored)

	// EnqueueForWorker and the session config of FetchWorkItem.
	sessItem := func(id uint64) duroxide.ActivityExecuteItem {
		a := ptActivity(sink, 1, id)
		a.SessionID = ptStr("s-in")
		a.Tag = ptStr("t-in")
		return a
	}
	in1, in2 := sessItem(1), sessItem(2)
	require.NoError(t, p.EnqueueForWorker(ctx, in1))
	require.NoError(t, p.EnqueueForWorker(ctx, in2))
	scribbleAt(&in1)
	scribbleAt(&in2)
	owner := &duroxide.SessionFetchConfig{OwnerID: "owner-1", LockTimeout: ptLock}
	tags, err := duroxide.FilterTags("t-in")
	require.NoError(t, err)
	w1, err := p.FetchWorkItem(ctx, ptLock, 0, owner, tags)
	require.NoError(t, err)
	require.NotNil(t, w1)
	require.Equal(t, duroxide.WorkItem(sessItem(1)), w1.Item)
	scribbleAt(owner) // the session stays owned by "owner-1"
	w2, err := p.FetchWorkItem(ctx, ptLock, 0, &duroxide.SessionFetchConfig{OwnerID: "owner-1~"}, tags)
	require.NoError(t, err)
	require.Nil(t, w2, "the session's owner changed through the caller's config")
	w2, err = p.FetchWorkItem(ctx, ptLock, 0, &duroxide.SessionFetchConfig{OwnerID: "owner-1", LockTimeout: ptLock}, tags)
	require.NoError(t, err)
	require.NotNil(t, w2)
	require.Equal(t, duroxide.WorkItem(sessItem(2)), w2.Item)
}

// ---------------------------------------------------------------------------
// Concurrency (real clock, run with -race)

func TestConcurrentEnqueueFetchAckProcessesEachItemOnce(t *testing.T) {
	const (
		instances   = 8
		producers   = 4
		perProducer = 100
		orchFetch   = 4
		workFetch   = 4
		raised      = producers * perProducer
	)
	p := memprovider.New() // real clock
	for i := range instances {
		ptCreate(t, p, fmt.Sprintf("c%d", i))
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()

	var (
		mu             sync.Mutex
		held           = map[string]int{} // instance -> fetcher holding its lock
		seenRaised     = map[string]int{}
		seenCompletion = map[string]int{}
		seenWork       = map[string]int{}
		orchDone       atomic.Int64 // messages acked
		workDone       atomic.Int64 // work items acked
		allDone        = make(chan struct{})
		once           sync.Once
	)
	checkDone := func() {
		if orchDone.Load() == 2*raised && workDone.Load() == raised {
			once.Do(func() { close(allDone) })
		}
	}
	var wg sync.WaitGroup
	for i := range producers {
		wg.Go(func() {
			for j := range perProducer {
				name := fmt.Sprintf("p%d-%d", i, j)
				inst := fmt.Sprintf("c%d", (i*perProducer+j)%instances)
				if err := p.EnqueueForOrchestrator(ctx, duroxide.ExternalRaisedItem{Instance: inst, Name: name, Data: name}, 0); err != nil {
					t.Errorf("enqueue %s: %v", name, err)
					return
				}
			}
		})
	}
	for id := range orchFetch {
		wg.Go(func() {
			for turn := 0; ctx.Err() == nil; turn++ {
				item, err := p.FetchOrchestrationItem(ctx, time.Minute, 20*time.Millisecond, nil)
				if ctx.Err() != nil {
					return
				}
				if err != nil {
					t.Errorf("fetch orchestration: %v", err)
					return
				}
				if item == nil {
					continue
				}
				inst := item.Instance
				mu.Lock()
				if other, ok := held[inst]; ok {
					t.Errorf("instance %s fetched by %d while %d holds its unexpired lock", inst, id, other)
				}
				held[inst] = id
				mu.Unlock()

				// Every fifth turn is abandoned (and renewed first): its
				// messages must come back, not be lost or duplicated.
				if turn%5 == 4 {
					if err := p.RenewOrchestrationItemLock(ctx, item.LockToken, time.Minute); err != nil && ctx.Err() == nil {
						t.Errorf("renew %s: %v", inst, err)
					}
					mu.Lock()
					delete(held, inst)
					mu.Unlock()
					if err := p.AbandonOrchestrationItem(ctx, item.LockToken, 0, true); err != nil && ctx.Err() == nil {
						t.Errorf("abandon %s: %v", inst, err)
					}
					continue
				}

				next := uint64(len(item.History)) + 1
				var delta []duroxide.Event
				var work []duroxide.WorkItem
				var raisedNames, completions []string
				for _, m := range item.Messages {
					switch m := m.(type) {
					case duroxide.ExternalRaisedItem:
						raisedNames = append(raisedNames, m.Name)
						delta = append(delta, ptEvent(inst, 1, next, duroxide.ExternalEvent{Name: m.Name, Data: m.Data}))
						delta = append(delta, ptEvent(inst, 1, next+1, duroxide.ActivityScheduled{Name: "Act", Input: m.Name}))
						work = append(work, duroxide.ActivityExecuteItem{Instance: inst, ExecutionID: 1, ID: next + 1, Name: "Act", Input: m.Name})
						next += 2
					case duroxide.ActivityCompletedItem:
						completions = append(completions, fmt.Sprintf("%s#%d", m.Instance, m.ID))
						ev := ptEvent(inst, 1, next, duroxide.ActivityCompleted{Result: m.Result})
						ev.SourceEventID = &m.ID
						delta = append(delta, ev)
						next++
					default:
						t.Errorf("unexpected message %s", m.Variant())
					}
				}
				mu.Lock()
				delete(held, inst)
				mu.Unlock()
				if err := p.AckOrchestrationItem(ctx, item.LockToken, duroxide.OrchestrationAck{ExecutionID: 1, HistoryDelta: delta, WorkerItems: work}); err != nil {
					if ctx.Err() == nil {
						t.Errorf("ack %s: %v", inst, err)
					}
					return
				}
				mu.Lock()
				for _, n := range raisedNames {
					seenRaised[n]++
				}
				for _, c := range completions {
					seenCompletion[c]++
				}
				mu.Unlock()
				orchDone.Add(int64(len(item.Messages)))
				checkDone()
			}
		})
	}
	for range workFetch {
		wg.Go(func() {
			for turn := 0; ctx.Err() == nil; turn++ {
				w, err := p.FetchWorkItem(ctx, time.Minute, 20*time.Millisecond, nil, duroxide.FilterDefaultOnly())
				if ctx.Err() != nil {
					return
				}
				if err != nil {
					t.Errorf("fetch work: %v", err)
					return
				}
				if w == nil {
					continue
				}
				act := w.Item.(duroxide.ActivityExecuteItem)
				key := fmt.Sprintf("%s#%d", act.Instance, act.ID)
				if turn%7 == 6 {
					if err := p.AbandonWorkItem(ctx, w.LockToken, 0, true); err != nil && ctx.Err() == nil {
						t.Errorf("abandon work %s: %v", key, err)
					}
					continue
				}
				completion := duroxide.ActivityCompletedItem{Instance: act.Instance, ExecutionID: act.ExecutionID, ID: act.ID, Result: act.Input}
				if err := p.AckWorkItem(ctx, w.LockToken, completion); err != nil {
					if ctx.Err() == nil {
						t.Errorf("ack work %s: %v", key, err)
					}
					return
				}
				mu.Lock()
				seenWork[key]++
				mu.Unlock()
				workDone.Add(1)
				checkDone()
			}
		})
	}

	timeout := time.NewTimer(60 * time.Second)
	defer timeout.Stop()
	select {
	case <-allDone:
	case <-timeout.C:
		t.Errorf("timed out: %d/%d messages and %d/%d work items processed", orchDone.Load(), 2*raised, workDone.Load(), raised)
	}
	cancel()
	wg.Wait()
	if t.Failed() {
		return
	}

	// Every item was processed exactly once.
	require.Len(t, seenRaised, raised)
	require.Len(t, seenWork, raised)
	require.Len(t, seenCompletion, raised)
	for _, m := range []map[string]int{seenRaised, seenWork, seenCompletion} {
		for k, n := range m {
			require.Equal(t, 1, n, "%s processed %d times", k, n)
		}
	}
	for k := range seenWork {
		require.Contains(t, seenCompletion, k)
	}
	depths, err := p.GetQueueDepths(t.Context())
	require.NoError(t, err)
	require.Equal(t, duroxide.QueueDepths{}, depths)
	require.Nil(t, ptFetch(t, p))

	// Each instance's history is gap-free and every scheduled activity
	// completed exactly once.
	events := 0
	for i := range instances {
		inst := fmt.Sprintf("c%d", i)
		history, err := p.Read(t.Context(), inst)
		require.NoError(t, err)
		scheduled := map[uint64]bool{}
		completed := map[uint64]int{}
		for j, ev := range history {
			require.Equal(t, uint64(j+1), ev.EventID, "%s: history has a gap or is out of order", inst)
			switch ev.Kind.(type) {
			case duroxide.ActivityScheduled:
				scheduled[ev.EventID] = true
			case duroxide.ActivityCompleted:
				require.NotNil(t, ev.SourceEventID)
				completed[*ev.SourceEventID]++
			}
		}
		require.Len(t, completed, len(scheduled), inst)
		for id := range scheduled {
			require.Equal(t, 1, completed[id], "%s: activity %d", inst, id)
		}
		events += len(history)
	}
	require.Equal(t, instances+3*raised, events)
}

// ---------------------------------------------------------------------------
// Head-of-line blocking

func TestEarlyMessageDoesNotBlockOtherInstances(t *testing.T) {
	ctx := t.Context()
	p, clock := ptNew(t)
	raised := duroxide.ExternalRaisedItem{Instance: "blocked", Name: "approval", Data: "yes"}
	ptEnqueue(t, p, raised) // never started, no metadata, no history
	ptEnqueue(t, p, ptStart("other"))

	item := ptMustFetch(t, p, "other")
	require.Equal(t, []duroxide.WorkItem{ptStart("other")}, item.Messages)
	ptAck(t, p, item.LockToken, duroxide.OrchestrationAck{ExecutionID: 1, HistoryDelta: []duroxide.Event{ptStarted("other", 1)}, Metadata: ptMeta()})

	// The blocked instance is skipped again and again, without being locked.
	for range 3 {
		require.Nil(t, ptFetch(t, p))
	}
	depths, err := p.GetQueueDepths(ctx)
	require.NoError(t, err)
	require.Equal(t, uint64(1), depths.OrchestratorQueue, "the early message is kept and not part of any batch")

	// A later instance is not blocked either, also for a long poll.
	fetched := make(chan *duroxide.LockedOrchestrationItem, 1)
	go func() {
		it, err := p.FetchOrchestrationItem(ctx, ptLock, time.Minute, nil)
		assert.NoError(t, err)
		fetched <- it
	}()
	waitCtx, cancel := context.WithTimeout(ctx, ptGuard)
	defer cancel()
	require.NoError(t, clock.BlockUntilWaiters(waitCtx, 1), "the long poll should wait, not spin on the blocked instance")
	ptEnqueue(t, p, ptStart("third"))
	select {
	case it := <-fetched:
		require.NotNil(t, it)
		require.Equal(t, "third", it.Instance)
		ptAck(t, p, it.LockToken, duroxide.OrchestrationAck{ExecutionID: 1, HistoryDelta: []duroxide.Event{ptStarted("third", 1)}, Metadata: ptMeta()})
	case <-time.After(ptGuard):
		require.FailNow(t, "the long poll was not woken by the enqueue")
	}

	// Its start arrives: both messages, in enqueue order, first delivery.
	ptEnqueue(t, p, ptStart("blocked"))
	blocked := ptMustFetch(t, p, "blocked")
	require.Equal(t, []duroxide.WorkItem{raised, ptStart("blocked")}, blocked.Messages)
	assert.Equal(t, uint32(1), blocked.AttemptCount, "skipping must not count attempts")
	assert.Equal(t, ptOrch, blocked.OrchestrationName)
	assert.Equal(t, ptVersion, blocked.Version)
	assert.Equal(t, uint64(1), blocked.ExecutionID)
	assert.Empty(t, blocked.History)
}

// ---------------------------------------------------------------------------
// Long polls on the fake clock release their timers

func TestLongPollsReleaseTheirTimers(t *testing.T) {
	type fetchFn func(ctx context.Context, p *memprovider.Provider, poll time.Duration) (bool, error)
	orch := func(ctx context.Context, p *memprovider.Provider, poll time.Duration) (bool, error) {
		item, err := p.FetchOrchestrationItem(ctx, ptLock, poll, nil)
		return item != nil, err
	}
	work := func(ctx context.Context, p *memprovider.Provider, poll time.Duration) (bool, error) {
		w, err := p.FetchWorkItem(ctx, ptLock, poll, &duroxide.SessionFetchConfig{OwnerID: "w2", LockTimeout: ptLock}, duroxide.FilterAny())
		return w != nil, err
	}
	const poll = time.Minute
	cases := []struct {
		name  string
		fetch fetchFn
		// setup prepares the provider before the poll starts; release
		// wakes the poll; found and advanced are the expected outcome.
		setup    func(t *testing.T, p *memprovider.Provider)
		release  func(t *testing.T, p *memprovider.Provider, clock *fakeclock.Fake, cancel context.CancelFunc)
		found    bool
		wantErr  error
		advanced time.Duration
	}{
		{
			name: "orchestration/timeout", fetch: orch,
			release: func(t *testing.T, _ *memprovider.Provider, clock *fakeclock.Fake, _ context.CancelFunc) {
				require.NoError(t, clock.Advance(poll))
			},
			advanced: poll,
		},
		{
			name: "orchestration/enqueue", fetch: orch,
			release: func(t *testing.T, p *memprovider.Provider, _ *fakeclock.Fake, _ context.CancelFunc) {
				ptEnqueue(t, p, ptStart("late"))
			},
			found: true,
		},
		{
			name: "orchestration/delayed message becomes visible", fetch: orch,
			setup: func(t *testing.T, p *memprovider.Provider) {
				require.NoError(t, p.EnqueueForOrchestrator(t.Context(), ptStart("delayed"), 10*time.Second))
			},
			release: func(t *testing.T, _ *memprovider.Provider, clock *fakeclock.Fake, _ context.CancelFunc) {
				require.NoError(t, clock.Advance(10*time.Second))
			},
			found: true, advanced: 10 * time.Second,
		},
		{
			name: "orchestration/lock expires", fetch: orch,
			setup: func(t *testing.T, p *memprovider.Provider) {
				ptEnqueue(t, p, ptStart("held"))
				item, err := p.FetchOrchestrationItem(t.Context(), 10*time.Second, 0, nil)
				require.NoError(t, err)
				require.NotNil(t, item)
			},
			release: func(t *testing.T, _ *memprovider.Provider, clock *fakeclock.Fake, _ context.CancelFunc) {
				require.NoError(t, clock.Advance(10*time.Second))
			},
			found: true, advanced: 10 * time.Second,
		},
		{
			name: "orchestration/context cancelled", fetch: orch,
			release: func(_ *testing.T, _ *memprovider.Provider, _ *fakeclock.Fake, cancel context.CancelFunc) {
				cancel()
			},
			wantErr: context.Canceled,
		},
		{
			name: "worker/timeout", fetch: work,
			release: func(t *testing.T, _ *memprovider.Provider, clock *fakeclock.Fake, _ context.CancelFunc) {
				require.NoError(t, clock.Advance(poll))
			},
			advanced: poll,
		},
		{
			name: "worker/enqueue", fetch: work,
			release: func(t *testing.T, p *memprovider.Provider, _ *fakeclock.Fake, _ context.CancelFunc) {
				require.NoError(t, p.EnqueueForWorker(t.Context(), ptActivity("i", 1, 1)))
			},
			found: true,
		},
		{
			name: "worker/lock expires", fetch: work,
			setup: func(t *testing.T, p *memprovider.Provider) {
				require.NoError(t, p.EnqueueForWorker(t.Context(), ptActivity("i", 1, 1)))
				w, err := p.FetchWorkItem(t.Context(), 10*time.Second, 0, nil, duroxide.FilterDefaultOnly())
				require.NoError(t, err)
				require.NotNil(t, w)
			},
			release: func(t *testing.T, _ *memprovider.Provider, clock *fakeclock.Fake, _ context.CancelFunc) {
				require.NoError(t, clock.Advance(10*time.Second))
			},
			found: true, advanced: 10 * time.Second,
		},
		{
			name: "worker/another owner's session lease lapses", fetch: work,
			setup: func(t *testing.T, p *memprovider.Provider) {
				for id := uint64(1); id <= 2; id++ {
					a := ptActivity("i", 1, id)
					a.SessionID = ptStr("s")
					require.NoError(t, p.EnqueueForWorker(t.Context(), a))
				}
				w, err := p.FetchWorkItem(t.Context(), ptLock, 0, &duroxide.SessionFetchConfig{OwnerID: "w1", LockTimeout: 10 * time.Second}, duroxide.FilterAny())
				require.NoError(t, err)
				require.NotNil(t, w)
			},
			release: func(t *testing.T, _ *memprovider.Provider, clock *fakeclock.Fake, _ context.CancelFunc) {
				require.NoError(t, clock.Advance(10*time.Second))
			},
			found: true, advanced: 10 * time.Second,
		},
		{
			name: "worker/context cancelled", fetch: work,
			release: func(_ *testing.T, _ *memprovider.Provider, _ *fakeclock.Fake, cancel context.CancelFunc) {
				cancel()
			},
			wantErr: context.Canceled,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, clock := ptNew(t)
			if tc.setup != nil {
				tc.setup(t, p)
			}
			baseline := clock.Waiters()
			start := clock.Now()
			// Three polls in a row: timers must not accumulate.
			for round := range 3 {
				ctx, cancel := context.WithCancel(t.Context())
				type result struct {
					found bool
					err   error
				}
				done := make(chan result, 1)
				go func() {
					found, err := tc.fetch(ctx, p, poll)
					done <- result{found, err}
				}()
				waitCtx, waitCancel := context.WithTimeout(t.Context(), ptGuard)
				require.NoError(t, clock.BlockUntilWaiters(waitCtx, baseline+1), "round %d: the poll never waited on the clock", round)
				waitCancel()
				tc.release(t, p, clock, cancel)
				var r result
				select {
				case r = <-done:
				case <-time.After(ptGuard):
					cancel()
					require.FailNow(t, "the poll was not released", "round %d", round)
				}
				cancel()
				if tc.wantErr != nil {
					require.ErrorIs(t, r.err, tc.wantErr)
				} else {
					require.NoError(t, r.err)
				}
				require.Equal(t, tc.found, r.found, "round %d", round)
				require.Equal(t, baseline, clock.Waiters(), "round %d: the poll left a timer behind", round)
				if round == 0 {
					require.Equal(t, tc.advanced, clock.Now().Sub(start))
				}
				if tc.found {
					break // the released work is now held; later rounds would differ
				}
			}
		})
	}
}

// TestBlockedInstanceBecomesFetchable covers the other ways a skipped
// (never started) instance becomes a candidate again: a delayed start
// becoming visible, and history appended to it, which also wakes a waiting
// long poll.
func TestBlockedInstanceBecomesFetchable(t *testing.T) {
	t.Run("delayed start becomes visible", func(t *testing.T) {
		p, clock := ptNew(t)
		raised := duroxide.ExternalRaisedItem{Instance: "b", Name: "early"}
		ptEnqueue(t, p, raised)
		require.NoError(t, p.EnqueueForOrchestrator(t.Context(), ptStart("b"), 10*time.Second))
		require.Nil(t, ptFetch(t, p), "only the early message is visible: skipped")
		require.NoError(t, clock.Advance(10*time.Second))
		item := ptMustFetch(t, p, "b")
		require.Equal(t, []duroxide.WorkItem{raised, ptStart("b")}, item.Messages)
		assert.Equal(t, uint32(1), item.AttemptCount)
	})
	t.Run("history appended wakes a long poll", func(t *testing.T) {
		ctx := t.Context()
		p, clock := ptNew(t)
		raised := duroxide.ExternalRaisedItem{Instance: "b", Name: "early"}
		ptEnqueue(t, p, raised)
		require.Nil(t, ptFetch(t, p))
		fetched := make(chan *duroxide.LockedOrchestrationItem, 1)
		go func() {
			it, err := p.FetchOrchestrationItem(ctx, ptLock, time.Minute, nil)
			assert.NoError(t, err)
			fetched <- it
		}()
		waitCtx, cancel := context.WithTimeout(ctx, ptGuard)
		defer cancel()
		require.NoError(t, clock.BlockUntilWaiters(waitCtx, 1))
		require.NoError(t, p.AppendWithExecution(ctx, "b", 1, []duroxide.Event{
			ptEvent("b", 1, 1, duroxide.OrchestrationStarted{Name: "FromHistory", Version: "3.0.0", Input: "{}"}),
		}))
		var item *duroxide.LockedOrchestrationItem
		select {
		case item = <-fetched:
		case <-time.After(ptGuard):
			require.FailNow(t, "the long poll was not woken by the append")
		}
		require.NotNil(t, item)
		assert.Equal(t, "b", item.Instance)
		assert.Equal(t, "FromHistory", item.OrchestrationName)
		assert.Equal(t, "3.0.0", item.Version)
		assert.Equal(t, []duroxide.WorkItem{raised}, item.Messages)
		assert.Len(t, item.History, 1)
		assert.Equal(t, uint32(1), item.AttemptCount)
		assert.Zero(t, clock.Now().Sub(ptEpoch), "no fake time passed")
		assert.Equal(t, 0, clock.Waiters())
	})
	t.Run("another early message does not unblock it", func(t *testing.T) {
		p, _ := ptNew(t)
		ptEnqueue(t, p, duroxide.ExternalRaisedItem{Instance: "b", Name: "one"})
		require.Nil(t, ptFetch(t, p))
		ptEnqueue(t, p, duroxide.CancelInstanceItem{Instance: "b", Reason: "r"})
		require.Nil(t, ptFetch(t, p))
		ptEnqueue(t, p, duroxide.QueueMessageItem{Instance: "b", Name: "q"})
		require.Nil(t, ptFetch(t, p), "a batch that is not all QueueMessage is kept, not dropped")
		depths, err := p.GetQueueDepths(t.Context())
		require.NoError(t, err)
		assert.Equal(t, uint64(3), depths.OrchestratorQueue)
		ptEnqueue(t, p, ptStart("b"))
		item := ptMustFetch(t, p, "b")
		require.Len(t, item.Messages, 4)
		assert.Equal(t, uint32(1), item.AttemptCount)
	})
}
