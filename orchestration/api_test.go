package orchestration

import (
	"bytes"
	"errors"
	"log/slog"
	"runtime"
	"testing"
	"time"

	"github.com/duroxide-go/duroxide"
	"github.com/stretchr/testify/require"
)

type order struct {
	ID    string  `json:"id"`
	Note  string  `json:"note"`
	Price float64 `json:"price"`
}

func TestMarshalSerdeCompatible(t *testing.T) {
	cases := []struct {
		name string
		in   any
		want string
	}{
		{"no_html_escaping", "<a&b>", `"<a&b>"`},
		{"field_order", order{ID: "o1", Note: "x", Price: 1.5}, `{"id":"o1","note":"x","price":1.5}`},
		{"nil", nil, `null`},
		{"unicode", "é→", `"é→"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Marshal(tc.in)
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
	_, err := Marshal(func() {})
	require.Error(t, err)
}

func TestTypedOrchestration(t *testing.T) {
	fn := Typed(func(ctx *Context, in order) (order, error) {
		charged, err := CallActivity[float64](ctx, "Charge", in).Get()
		if err != nil {
			return order{}, err
		}
		in.Price = charged
		in.Note = "<paid>"
		return in, nil
	})
	r := runEngine(t, h(started(1), actSched(2, "Charge", `{"id":"o1","note":"","price":2}`), actDone(3, 2, "2.5")), nil,
		func(ctx *Context, _ string) (string, error) { return fn(ctx, `{"id":"o1","price":2}`) })
	r.completed(t, `{"id":"o1","note":"<paid>","price":2.5}`)

	bad := runEngine(t, h(started(1)), nil, func(ctx *Context, _ string) (string, error) { return fn(ctx, `not json`) })
	bad.failedWith(t, "decode input")

	undecodable := runEngine(t, h(started(1), actSched(2, "Charge", `{"id":"","note":"","price":0}`), actDone(3, 2, `"text"`)), nil,
		func(ctx *Context, _ string) (string, error) { return fn(ctx, `{}`) })
	undecodable.failedWith(t, "decode")
}

func TestTypedInputThatCannotBeEncoded(t *testing.T) {
	r := runEngine(t, h(started(1)), nil, func(ctx *Context, _ string) (string, error) {
		_, err := CallActivity[string](ctx, "A", func() {}).Get()
		require.ErrorContains(t, err, `encode input of activity "A"`)
		_, err = CallSubOrchestration[string](ctx, "S", make(chan int)).Get()
		require.ErrorContains(t, err, `encode input of sub-orchestration "S"`)
		return "ok", nil
	})
	r.completed(t, "ok")
	require.Empty(t, r.e.HistoryDelta(), "nothing was scheduled")
}

func TestSystemCallsAndKVFromInstance(t *testing.T) {
	r := runEngine(t, h(started(1)), nil, func(ctx *Context, _ string) (string, error) {
		ctx.NewGUID()
		ctx.UtcNow()
		ctx.KVFromInstance("other", "k")
		return "", nil
	})
	require.Equal(t, []Action{
		CallActivityAction{SchedulingEventID: 2, Name: "__duroxide_syscall:new_guid"},
		CallActivityAction{SchedulingEventID: 3, Name: "__duroxide_syscall:utc_now_ms"},
		CallActivityAction{SchedulingEventID: 4, Name: "__duroxide_syscall:get_kv_value", Input: `{"instance_id":"other","key":"k"}`},
	}, r.e.PendingActions())

	replay := runEngine(t, h(started(1), actSched(2, SyscallGetKVValue, `{"instance_id":"other","key":"k"}`), actDone(3, 2, `"v"`),
		actSched(4, SyscallGetKVValue, `{"instance_id":"other","key":"none"}`), actDone(5, 4, `null`),
		actSched(6, SyscallUtcNowMs, ""), actDone(7, 6, "not-a-number")), nil,
		func(ctx *Context, _ string) (string, error) {
			v, err := ctx.KVFromInstance("other", "k").Get()
			require.NoError(t, err)
			require.Equal(t, "v", *v)
			none, err := ctx.KVFromInstance("other", "none").Get()
			require.NoError(t, err)
			require.Nil(t, none)
			_, err = ctx.UtcNow().Get()
			return "", err
		})
	replay.failedWith(t, "utc_now result")
}

func TestTaskFailedError(t *testing.T) {
	var got error
	runEngine(t, h(started(1), actSched(2, "A", "a"), actFail(3, 2, "nope")), nil, func(ctx *Context, _ string) (string, error) {
		_, got = ctx.ScheduleActivity("A", "a").Get()
		return "", nil
	})
	var tf *TaskFailedError
	require.ErrorAs(t, got, &tf)
	require.Equal(t, "nope", tf.Error())
	require.Equal(t, appErr(duroxide.AppActivityFailed{}, "nope"), tf.Details)
}

// A turn that ends while the code is blocked tears the goroutine down: its
// deferred functions run, see ErrTurnEnded, and cannot schedule anything.
func TestTeardownSealsContext(t *testing.T) {
	var deferredErr error
	var deferredSchedule *Future[string]
	before := runtime.NumGoroutine()
	r := runEngine(t, h(started(1)), nil, func(ctx *Context, _ string) (string, error) {
		defer func() {
			_, deferredErr = ctx.ScheduleTimer(time.Second).Get()
			deferredSchedule = ctx.ScheduleActivity("Late", "x")
			ctx.SetCustomStatus("late")
			ctx.Logger().Info("not logged")
		}()
		return ctx.ScheduleActivity("A", "a").Get()
	})
	r.cont(t)
	require.ErrorIs(t, deferredErr, ErrTurnEnded)
	_, err := deferredSchedule.Get()
	require.ErrorIs(t, err, ErrTurnEnded)
	require.Equal(t, []string{"ActivityScheduled"}, r.kinds())
	requireNoLeak(t, before)
}

func TestRecoverCannotSwallowTeardown(t *testing.T) {
	recovered := false
	r := runEngine(t, h(started(1)), nil, func(ctx *Context, _ string) (string, error) {
		defer func() {
			if recover() != nil {
				recovered = true
			}
		}()
		return ctx.WaitEvent("E").Get()
	})
	r.cont(t)
	require.False(t, recovered)
}

func TestPanicInDeferredDuringTeardown(t *testing.T) {
	r := runEngine(t, h(started(1)), nil, func(ctx *Context, _ string) (string, error) {
		defer func() { panic("late panic") }()
		return ctx.WaitEvent("E").Get()
	})
	r.cont(t) // the turn's outcome is already decided; the engine survives
}

func TestGoexitInOrchestrationFails(t *testing.T) {
	r := runEngine(t, h(started(1)), nil, func(ctx *Context, _ string) (string, error) {
		runtime.Goexit()
		return "", nil
	})
	r.panicked(t, "Goexit")
}

func TestPanicWithError(t *testing.T) {
	r := runEngine(t, h(started(1)), nil, panicking(errors.New("as error")))
	r.panicked(t, "as error")
}

func TestReplaySafeLogger(t *testing.T) {
	var buf bytes.Buffer
	base := slog.New(slog.NewTextHandler(&buf, nil))
	hnd := func(ctx *Context, _ string) (string, error) {
		ctx.Logger().Info("before")
		r, err := ctx.ScheduleActivity("A", "a").Get()
		ctx.Logger().Info("after")
		return r, err
	}
	runEngineOpts(t, h(started(1), actSched(2, "A", "a"), actDone(3, 2, "r")), nil, hnd, EngineOptions{PersistedLen: -1, Logger: base})
	out := buf.String()
	require.NotContains(t, out, "msg=before", "a replayed log line is dropped")
	require.Contains(t, out, "msg=after")
	require.Contains(t, out, "instance_id=test-instance")
	require.Contains(t, out, "orchestration_name=TestOrch")
}

func TestRetryPolicy(t *testing.T) {
	policy := RetryPolicy{MaxAttempts: 3, Backoff: Backoff{Kind: "fixed", Base: time.Second}}
	retry := func(ctx *Context, _ string) (string, error) { return ctx.CallActivityWithRetry("Flaky", "in", policy) }
	cases := []struct {
		name    string
		history []duroxide.Event
		check   func(t *testing.T, r run)
	}{
		{"first_attempt_scheduled", h(started(1)), func(t *testing.T, r run) {
			r.cont(t)
			require.Equal(t, []string{"CallActivity"}, r.actionTypes())
		}},
		{"failure_waits_backoff_timer", h(started(1), actSched(2, "Flaky", "in"), actFail(3, 2, "e1")), func(t *testing.T, r run) {
			r.cont(t)
			require.Equal(t, []Action{CreateTimerAction{SchedulingEventID: 4, FireAtMs: uint64(testNow.UnixMilli()) + 1000}}, r.e.PendingActions())
		}},
		{"second_attempt_after_timer", h(started(1), actSched(2, "Flaky", "in"), actFail(3, 2, "e1"), timerCreated(4, 1), timerFired(5, 4, 1)), func(t *testing.T, r run) {
			r.cont(t)
			require.Equal(t, []string{"CallActivity"}, r.actionTypes())
		}},
		{"succeeds_on_second", h(started(1), actSched(2, "Flaky", "in"), actFail(3, 2, "e1"), timerCreated(4, 1), timerFired(5, 4, 1),
			actSched(6, "Flaky", "in"), actDone(7, 6, "ok")), func(t *testing.T, r run) { r.completed(t, "ok") }},
		{"last_error_after_max_attempts", h(started(1), actSched(2, "Flaky", "in"), actFail(3, 2, "e1"), timerCreated(4, 1), timerFired(5, 4, 1),
			actSched(6, "Flaky", "in"), actFail(7, 6, "e2"), timerCreated(8, 1), timerFired(9, 8, 1), actSched(10, "Flaky", "in"), actFail(11, 10, "e3")),
			func(t *testing.T, r run) { require.Equal(t, "e3", r.failed(t).DisplayMessage()) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { tc.check(t, runEngine(t, tc.history, nil, retry)) })
	}
	timeout := RetryPolicy{MaxAttempts: 3, Timeout: time.Minute}
	var timeoutErr error
	withTimeout := func(ctx *Context, _ string) (string, error) {
		out, err := ctx.CallActivityWithRetry("Slow", "in", timeout)
		timeoutErr = err
		return out, err
	}
	t.Run("timeout_is_not_retried", func(t *testing.T) {
		r := runEngine(t, h(started(1), actSched(2, "Slow", "in"), timerCreated(3, 1), timerFired(4, 3, 1)), nil, withTimeout)
		require.Equal(t, ErrActivityTimeout.Error(), r.failed(t).DisplayMessage())
		require.Equal(t, []uint64{2}, r.e.CancelledActivityIDs(), "the timed-out attempt is cancelled")
		require.ErrorIs(t, timeoutErr, ErrActivityTimeout)
	})
}

func TestBackoffDelay(t *testing.T) {
	cases := []struct {
		b    Backoff
		n    uint32
		want time.Duration
	}{
		{Backoff{}, 3, 0},
		{Backoff{Kind: "fixed", Base: time.Second}, 5, time.Second},
		{Backoff{Kind: "linear", Base: time.Second, Max: 3 * time.Second}, 2, 2 * time.Second},
		{Backoff{Kind: "linear", Base: time.Second, Max: 3 * time.Second}, 9, 3 * time.Second},
		{DefaultBackoff, 1, 100 * time.Millisecond},
		{DefaultBackoff, 3, 400 * time.Millisecond},
		{DefaultBackoff, 100, 30 * time.Second},
	}
	for _, tc := range cases {
		require.Equal(t, tc.want, tc.b.Delay(tc.n), "%+v attempt %d", tc.b, tc.n)
	}
}

// Replaying the same turn twice gives the same delta and actions: the
// engine's output depends only on its input.
func TestTurnIsDeterministic(t *testing.T) {
	hist := h(started(1), actSched(2, "A", "a"), actSched(3, "B", "b"), timerCreated(4, 9))
	msgs := m(msgActDone(3, "rb"), msgRaise("E", "x"), msgTimer(4, 9))
	hnd := func(ctx *Context, _ string) (string, error) {
		a, b := ctx.ScheduleActivity("A", "a"), ctx.ScheduleActivity("B", "b")
		tm := ctx.ScheduleTimer(time.Second)
		Select(a, b, tm)
		ctx.SetKV("k", "v")
		ctx.WaitEvent("E")
		return ctx.SubOrchestration("C", "c").Get()
	}
	r1 := runEngine(t, hist, msgs, hnd)
	r2 := runEngine(t, hist, msgs, hnd)
	require.Equal(t, r1.e.HistoryDelta(), r2.e.HistoryDelta())
	require.Equal(t, r1.e.PendingActions(), r2.e.PendingActions())
	require.Equal(t, r1.r, r2.r)
}

func TestEngineInputsNotRetained(t *testing.T) {
	hist := h(started(1), actSched(2, "A", "a"))
	msgs := m(msgActDone(2, "r"))
	e := NewEngine(testInstance, testExec, hist, EngineOptions{PersistedLen: -1, Now: fixedNow})
	e.PrepCompletions(msgs)
	hist[1] = actSched(2, "Changed", "x")
	msgs[0] = msgActDone(2, "changed")
	r := e.Execute(singleActivity("A", "a"), "", testOrch, testVersion)
	require.Equal(t, TurnCompleted, r.Kind)
	require.Equal(t, "r", r.Output)
	d := e.HistoryDelta()
	d[0].EventID = 99
	require.Equal(t, uint64(3), e.HistoryDelta()[0].EventID)

	again := e.Execute(singleActivity("A", "a"), "", testOrch, testVersion)
	require.Equal(t, TurnFailed, again.Kind, "an engine runs one turn")
}

func TestSelectAndAllEdges(t *testing.T) {
	require.Equal(t, -1, Select())
	require.True(t, All())
	res, err := AllOf[string](nil)
	require.NoError(t, err)
	require.Empty(t, res)
	r := runEngine(t, h(started(1), actSched(2, "A", "a"), actSched(3, "B", "b"), actFail(4, 3, "bad"), actDone(5, 2, "ok")), nil,
		func(ctx *Context, _ string) (string, error) {
			out, err := AllOf([]*Future[string]{ctx.ScheduleActivity("A", "a"), ctx.ScheduleActivity("B", "b")})
			require.Equal(t, []string{"ok", ""}, out)
			return "", err
		})
	require.Equal(t, "bad", r.failed(t).DisplayMessage())
}

func TestTurnKindString(t *testing.T) {
	require.Equal(t, "ContinueAsNew", TurnContinueAsNew.String())
	require.Equal(t, "Cancelled", TurnCancelled.String())
}

func TestTypedEventsAndMap(t *testing.T) {
	r := runEngine(t, h(started(1), extSub(2, "E"), extEvent(3, "E", `{"id":"o1","note":"n","price":3}`),
		queueSub(4, "Q"), queueEvent(5, "Q", `7`), actSched(6, "A", "a"), actDone(7, 6, "abc")), nil,
		func(ctx *Context, _ string) (string, error) {
			o, err := WaitEventAs[order](ctx, "E").Get()
			if err != nil {
				return "", err
			}
			n, err := DequeueEventAs[int](ctx, "Q").Get()
			if err != nil {
				return "", err
			}
			l, err := Map(ctx.ScheduleActivity("A", "a"), func(s string) (int, error) { return len(s), nil }).Get()
			return o.ID + ":" + itoa(uint64(n)) + ":" + itoa(uint64(l)), err
		})
	r.completed(t, "o1:7:3")
	bad := runEngine(t, h(started(1), extSub(2, "E"), extEvent(3, "E", `nope`)), nil, func(ctx *Context, _ string) (string, error) {
		_, err := WaitEventAs[order](ctx, "E").Get()
		return "", err
	})
	bad.failedWith(t, "decode")
}

// Code blocked outside the durable API fails the turn after StepTimeout
// instead of hanging the caller.
func TestStepTimeout(t *testing.T) {
	before := runtime.NumGoroutine()
	release := make(chan struct{})
	e := NewEngine(testInstance, testExec, h(started(1)), EngineOptions{PersistedLen: -1, Now: fixedNow, StepTimeout: 20 * time.Millisecond})
	r := e.Execute(func(ctx *Context, _ string) (string, error) {
		<-release // not a durable wait
		return "", nil
	}, "", testOrch, testVersion)
	require.Equal(t, TurnFailed, r.Kind)
	require.Equal(t, "orchestration_step", r.Details.(duroxide.Infrastructure).Operation)
	close(release) // the abandoned goroutine finishes on its own
	requireNoLeak(t, before)

	ok := runEngineOpts(t, h(started(1)), nil, singleActivity("A", "a"), EngineOptions{PersistedLen: -1, StepTimeout: time.Minute})
	ok.cont(t)
}
