package orchestration

import (
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/duroxide-go/duroxide"
	"github.com/stretchr/testify/require"
)

const (
	testInstance = "test-instance"
	testExec     = uint64(1)
	testOrch     = "TestOrch"
	testVersion  = "1.0.0"
)

var testNow = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func fixedNow() time.Time { return testNow }

func u64(v uint64) *uint64 { return &v }

func ev(id uint64, src *uint64, k duroxide.EventKind) duroxide.Event {
	return duroxide.Event{EventID: id, SourceEventID: src, InstanceID: testInstance, ExecutionID: testExec,
		DuroxideVersion: DuroxideVersion, Kind: k}
}

func started(id uint64) duroxide.Event {
	return ev(id, nil, duroxide.OrchestrationStarted{Name: testOrch, Version: testVersion, Input: "test-input"})
}
func actSched(id uint64, name, input string) duroxide.Event {
	return ev(id, nil, duroxide.ActivityScheduled{Name: name, Input: input})
}
func actDone(id, src uint64, result string) duroxide.Event {
	return ev(id, u64(src), duroxide.ActivityCompleted{Result: result})
}
func appErr(kind duroxide.AppErrorKind, msg string) duroxide.ErrorDetails {
	return duroxide.Application{Kind: kind, Message: msg}
}
func actFail(id, src uint64, msg string) duroxide.Event {
	return ev(id, u64(src), duroxide.ActivityFailed{Details: appErr(duroxide.AppActivityFailed{}, msg)})
}
func timerCreated(id, at uint64) duroxide.Event {
	return ev(id, nil, duroxide.TimerCreated{FireAtMs: at})
}
func timerFired(id, src, at uint64) duroxide.Event {
	return ev(id, u64(src), duroxide.TimerFired{FireAtMs: at})
}
func extSub(id uint64, name string) duroxide.Event {
	return ev(id, nil, duroxide.ExternalSubscribed{Name: name})
}
func extEvent(id uint64, name, data string) duroxide.Event {
	return ev(id, nil, duroxide.ExternalEvent{Name: name, Data: data})
}
func subSched(id uint64, name, inst, input string) duroxide.Event {
	return ev(id, nil, duroxide.SubOrchestrationScheduled{Name: name, Instance: inst, Input: input})
}
func subDone(id, src uint64, result string) duroxide.Event {
	return ev(id, u64(src), duroxide.SubOrchestrationCompleted{Result: result})
}
func orchDone(id uint64, out string) duroxide.Event {
	return ev(id, nil, duroxide.OrchestrationCompleted{Output: out})
}
func orchFailed(id uint64, msg string) duroxide.Event {
	return ev(id, nil, duroxide.OrchestrationFailed{Details: appErr(duroxide.AppOrchestrationFailed{}, msg)})
}
func orchCAN(id uint64, input string) duroxide.Event {
	return ev(id, nil, duroxide.OrchestrationContinuedAsNew{Input: input})
}
func cancelReq(id uint64, reason string) duroxide.Event {
	return ev(id, nil, duroxide.OrchestrationCancelRequested{Reason: reason})
}

func msgActDone(id uint64, result string) duroxide.WorkItem {
	return duroxide.ActivityCompletedItem{Instance: testInstance, ExecutionID: testExec, ID: id, Result: result}
}
func msgActFail(id uint64, d duroxide.ErrorDetails) duroxide.WorkItem {
	return duroxide.ActivityFailedItem{Instance: testInstance, ExecutionID: testExec, ID: id, Details: d}
}
func msgTimer(id, at uint64) duroxide.WorkItem {
	return duroxide.TimerFiredItem{Instance: testInstance, ExecutionID: testExec, ID: id, FireAtMs: at}
}
func msgRaise(name, data string) duroxide.WorkItem {
	return duroxide.ExternalRaisedItem{Instance: testInstance, Name: name, Data: data}
}
func msgQueue(name, data string) duroxide.WorkItem {
	return duroxide.QueueMessageItem{Instance: testInstance, Name: name, Data: data}
}
func msgSubDone(parentID uint64, result string) duroxide.WorkItem {
	return duroxide.SubOrchCompletedItem{ParentInstance: testInstance, ParentExecutionID: testExec, ParentID: parentID, Result: result}
}
func msgSubFail(parentID uint64, d duroxide.ErrorDetails) duroxide.WorkItem {
	return duroxide.SubOrchFailedItem{ParentInstance: testInstance, ParentExecutionID: testExec, ParentID: parentID, Details: d}
}
func msgCancel(reason string) duroxide.WorkItem {
	return duroxide.CancelInstanceItem{Instance: testInstance, Reason: reason}
}

// ---- handlers (the Go forms of duroxide's mock handlers) ----

func immediateOK(out string) Handler {
	return func(*Context, string) (string, error) { return out, nil }
}
func immediateErr(msg string) Handler {
	return func(*Context, string) (string, error) { return "", errors.New(msg) }
}
func singleActivity(name, input string) Handler {
	return func(ctx *Context, _ string) (string, error) { return ctx.ScheduleActivity(name, input).Get() }
}
func singleTimer(d time.Duration) Handler {
	return func(ctx *Context, _ string) (string, error) {
		if _, err := ctx.ScheduleTimer(d).Get(); err != nil {
			return "", err
		}
		return "timer_done", nil
	}
}
func waitExternal(name string) Handler {
	return func(ctx *Context, _ string) (string, error) { return ctx.WaitEvent(name).Get() }
}
func subOrch(name, input string) Handler {
	return func(ctx *Context, _ string) (string, error) { return ctx.SubOrchestration(name, input).Get() }
}
func continueAsNew(input string) Handler {
	return func(ctx *Context, _ string) (string, error) { return "", ctx.ContinueAsNew(input) }
}
func multiNoAwait(pairs ...string) Handler {
	return func(ctx *Context, _ string) (string, error) {
		for i := 0; i < len(pairs); i += 2 {
			ctx.ScheduleActivity(pairs[i], pairs[i+1]).Cancel()
		}
		return "done", nil
	}
}
func twoActivities(n1, i1, n2, i2 string) Handler {
	return func(ctx *Context, _ string) (string, error) {
		r1, err := ctx.ScheduleActivity(n1, i1).Get()
		if err != nil {
			return "", err
		}
		r2, err := ctx.ScheduleActivity(n2, i2).Get()
		if err != nil {
			return "", err
		}
		return r1 + "," + r2, nil
	}
}
func activityThenTimer(name, input string, d time.Duration) Handler {
	return func(ctx *Context, _ string) (string, error) {
		r, err := ctx.ScheduleActivity(name, input).Get()
		if err != nil {
			return "", err
		}
		_, err = ctx.ScheduleTimer(d).Get()
		return r, err
	}
}
func timerThenActivity(d time.Duration, name, input string) Handler {
	return func(ctx *Context, _ string) (string, error) {
		if _, err := ctx.ScheduleTimer(d).Get(); err != nil {
			return "", err
		}
		return ctx.ScheduleActivity(name, input).Get()
	}
}
func select2(name, input string, d time.Duration) Handler {
	return func(ctx *Context, _ string) (string, error) {
		act := ctx.ScheduleActivity(name, input)
		timer := ctx.ScheduleTimer(d)
		if Select(act, timer) == 0 {
			r, err := act.Get()
			if err != nil {
				return "", fmt.Errorf("activity_err:%w", err)
			}
			return "activity:" + r, nil
		}
		return "timeout", nil
	}
}
func joinActivities(pairs ...string) Handler {
	return func(ctx *Context, _ string) (string, error) {
		var futs []*Future[string]
		for i := 0; i < len(pairs); i += 2 {
			futs = append(futs, ctx.ScheduleActivity(pairs[i], pairs[i+1]))
		}
		res, err := AllOf(futs)
		if err != nil {
			return "", err
		}
		return strings.Join(res, ","), nil
	}
}
func panicking(v any) Handler {
	return func(*Context, string) (string, error) { panic(v) }
}

// ---- running ----

type run struct {
	e *Engine
	r TurnResult
}

func runEngine(t *testing.T, history []duroxide.Event, msgs []duroxide.WorkItem, h Handler) run {
	t.Helper()
	return runEngineOpts(t, history, msgs, h, EngineOptions{PersistedLen: -1})
}

func runEngineOpts(t *testing.T, history []duroxide.Event, msgs []duroxide.WorkItem, h Handler, o EngineOptions) run {
	t.Helper()
	if o.Now == nil {
		o.Now = fixedNow
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	before := runtime.NumGoroutine()
	e := NewEngine(testInstance, testExec, history, o)
	if len(msgs) > 0 {
		e.PrepCompletions(msgs)
	}
	r := e.Execute(h, "test-input", testOrch, testVersion)
	requireNoLeak(t, before)
	return run{e: e, r: r}
}

// requireNoLeak checks that the turn left no goroutine behind. The engine
// waits for its orchestration goroutine's last message; the goroutine then
// finishes exiting on its own, so the count is polled for a short while.
func requireNoLeak(t *testing.T, before int) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		runtime.Gosched()
		time.Sleep(100 * time.Microsecond)
	}
	require.LessOrEqual(t, runtime.NumGoroutine(), before, "goroutine leaked by the engine")
}

func (r run) completed(t *testing.T, out string) {
	t.Helper()
	require.Equal(t, TurnCompleted, r.r.Kind, "result: %+v", r.r)
	require.Equal(t, out, r.r.Output)
}
func (r run) cont(t *testing.T) {
	t.Helper()
	require.Equal(t, TurnContinue, r.r.Kind, "result: %+v", r.r)
}
func (r run) failed(t *testing.T) duroxide.ErrorDetails {
	t.Helper()
	require.Equal(t, TurnFailed, r.r.Kind, "result: %+v", r.r)
	return r.r.Details
}
func (r run) failedWith(t *testing.T, substr string) {
	t.Helper()
	d := r.failed(t)
	require.Contains(t, d.DisplayMessage(), substr)
}
func (r run) nondeterminism(t *testing.T) {
	t.Helper()
	d := r.failed(t)
	c, ok := d.(duroxide.Configuration)
	require.True(t, ok, "want Configuration, got %#v", d)
	require.Equal(t, duroxide.Nondeterminism, c.Kind)
}
func (r run) panicked(t *testing.T, substr string) {
	t.Helper()
	d := r.failed(t)
	a, ok := d.(duroxide.Application)
	require.True(t, ok, "want Application, got %#v", d)
	require.Equal(t, duroxide.AppPanicked{}, a.Kind)
	require.Contains(t, d.DisplayMessage(), substr)
}
func (r run) can(t *testing.T, input string) {
	t.Helper()
	require.Equal(t, TurnContinueAsNew, r.r.Kind, "result: %+v", r.r)
	require.Equal(t, input, r.r.Input)
}
func (r run) cancelled(t *testing.T, reason string) {
	t.Helper()
	require.Equal(t, TurnCancelled, r.r.Kind, "result: %+v", r.r)
	if reason != "" {
		require.Equal(t, reason, r.r.Reason)
	}
}

// kinds returns the delta's event types.
func (r run) kinds() []string {
	var out []string
	for _, e := range r.e.HistoryDelta() {
		out = append(out, e.Kind.EventType())
	}
	return out
}

func (r run) ids() []uint64 {
	var out []uint64
	for _, e := range r.e.HistoryDelta() {
		out = append(out, e.EventID)
	}
	return out
}

func (r run) actionTypes() []string {
	var out []string
	for _, a := range r.e.PendingActions() {
		out = append(out, strings.TrimSuffix(strings.TrimPrefix(fmt.Sprintf("%T", a), "orchestration."), "Action"))
	}
	return out
}

type engineCase struct {
	name    string
	history []duroxide.Event
	msgs    []duroxide.WorkItem
	h       Handler
	check   func(t *testing.T, r run)
}

func runCases(t *testing.T, cases []engineCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := tc.h
			if h == nil {
				h = immediateOK("done")
			}
			tc.check(t, runEngine(t, tc.history, tc.msgs, h))
		})
	}
}

func h(events ...duroxide.Event) []duroxide.Event      { return events }
func m(items ...duroxide.WorkItem) []duroxide.WorkItem { return items }
