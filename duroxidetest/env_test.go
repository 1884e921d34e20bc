package duroxidetest_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/duroxide-go/duroxide"
	"github.com/duroxide-go/duroxide/client"
	"github.com/duroxide-go/duroxide/duroxidetest"
	"github.com/duroxide-go/duroxide/host"
	"github.com/duroxide-go/duroxide/orchestration"
)

const day = 24 * time.Hour

func newHello(t *testing.T) *duroxidetest.Env {
	t.Helper()
	env := duroxidetest.New(t)
	env.RegisterOrchestration("Hello", orchestration.Typed(hello))
	env.RegisterActivity("Greet", host.TypedActivity(greet))
	return env
}

func TestRunsRegisteredActivities(t *testing.T) {
	env := newHello(t)
	out, err := duroxidetest.RunAs[string](env, "Hello", "World")
	require.NoError(t, err)
	require.Equal(t, "Hello, World!", out)
	require.Equal(t, duroxidetest.DefaultStart, env.Now(), "no timer: no time passes")
	calls := env.ActivityCalls("Greet")
	require.Len(t, calls, 1)
	require.Equal(t, `"World"`, calls[0].Input)
}

func TestTimersSkipTime(t *testing.T) {
	tests := []struct {
		name  string
		delay time.Duration
	}{
		{"one second", time.Second},
		{"thirty days", 30 * day},
		{"ten years", 3650 * day},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := duroxidetest.New(t)
			env.RegisterOrchestration("Sleep", func(ctx *orchestration.Context, _ string) (string, error) {
				_, err := ctx.ScheduleTimer(tc.delay).Get()
				return "", err
			})
			start := time.Now()
			_, err := env.Run("Sleep", nil)
			require.NoError(t, err)
			require.Equal(t, duroxidetest.DefaultStart.Add(tc.delay), env.Now())
			require.Less(t, time.Since(start), 5*time.Second, "time is skipped, not waited")
		})
	}
}

func TestMocks(t *testing.T) {
	boom := errors.New("card declined")
	tests := []struct {
		name    string
		mock    func(env *duroxidetest.Env)
		want    string
		wantErr string
	}{
		{"return", func(env *duroxidetest.Env) { env.OnActivity("Greet").Return("mocked") }, "mocked", ""},
		{"return json", func(env *duroxidetest.Env) { env.OnActivity("Greet").ReturnJSON(`"raw"`) }, "raw", ""},
		{"error", func(env *duroxidetest.Env) { env.OnActivity("Greet").ReturnError(boom) }, "", "card declined"},
		{"do", func(env *duroxidetest.Env) {
			env.OnActivity("Greet").Do(func(_ *host.ActivityContext, in string) (string, error) { return strings.ToUpper(in), nil })
		}, "WORLD", ""},
		{"once then handler", func(env *duroxidetest.Env) { env.OnActivity("Greet").Return("first").Once() }, "first", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := newHello(t)
			tc.mock(env)
			out, err := duroxidetest.RunAs[string](env, "Hello", "World")
			if tc.wantErr != "" {
				require.ErrorContains(t, err, tc.wantErr)
				var failed *client.FailedError
				require.ErrorAs(t, err, &failed)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, out)
		})
	}
}

func TestMockTimesServeInOrderThenFallBack(t *testing.T) {
	env := newHello(t)
	env.RegisterOrchestration("Thrice", orchestration.Typed(func(ctx *orchestration.Context, _ string) ([]string, error) {
		var outs []string
		for i := range 3 {
			s, err := orchestration.CallActivity[string](ctx, "Greet", fmt.Sprint(i)).Get()
			if err != nil {
				return nil, err
			}
			outs = append(outs, s)
		}
		return outs, nil
	}))
	first := env.OnActivity("Greet").Return("a").Once()
	second := env.OnActivity("Greet").Return("b").Times(1)
	out, err := duroxidetest.RunAs[[]string](env, "Thrice", nil)
	require.NoError(t, err)
	require.Equal(t, []string{"a", "b", "Hello, 2!"}, out)
	require.Equal(t, 1, first.Calls())
	require.Equal(t, 1, second.Calls())
}

// recorder is a testing.TB that records failures instead of failing.
type recorder struct {
	testing.TB
	errors   []string
	cleanups []func()
}

func (r *recorder) Errorf(format string, args ...any) {
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}
func (r *recorder) Cleanup(f func()) { r.cleanups = append(r.cleanups, f) }
func (r *recorder) Helper()          {}

func TestUnmetMockExpectationFailsTheTest(t *testing.T) {
	rec := &recorder{TB: t}
	env := duroxidetest.New(rec)
	env.RegisterOrchestration("Hello", orchestration.Typed(hello))
	env.OnActivity("Greet").Return("x").Times(2)
	_, err := env.Run("Hello", "World")
	require.NoError(t, err)
	for _, c := range rec.cleanups {
		c()
	}
	require.Len(t, rec.errors, 1)
	require.Contains(t, rec.errors[0], "want 2 calls, got 1")
}

func TestExhaustedMockWithoutHandlerFailsTheActivity(t *testing.T) {
	env := duroxidetest.New(t)
	env.RegisterOrchestration("Twice", func(ctx *orchestration.Context, _ string) (string, error) {
		if _, err := ctx.ScheduleActivity("A", "").Get(); err != nil {
			return "", err
		}
		return ctx.ScheduleActivity("A", "").Get()
	})
	env.OnActivity("A").ReturnJSON(`"x"`).Once()
	_, err := env.Run("Twice", nil)
	require.ErrorContains(t, err, "every mock is used up")
}

func TestMockAfterTakesFakeTime(t *testing.T) {
	env := duroxidetest.New(t)
	env.RegisterOrchestration("Parallel", orchestration.Typed(func(ctx *orchestration.Context, _ string) (int, error) {
		a := orchestration.CallActivity[int](ctx, "Slow", 1)
		b := orchestration.CallActivity[int](ctx, "Slow", 2)
		outs, err := orchestration.AllOf([]*orchestration.Future[int]{a, b})
		if err != nil {
			return 0, err
		}
		return outs[0] + outs[1], nil
	}))
	env.OnActivity("Slow").Return(21).After(2 * time.Hour)
	out, err := duroxidetest.RunAs[int](env, "Parallel", nil)
	require.NoError(t, err)
	require.Equal(t, 42, out)
	require.Equal(t, duroxidetest.DefaultStart.Add(2*time.Hour), env.Now(), "the two calls ran side by side")
}

func TestRetryBackoffIsSkipped(t *testing.T) {
	env := duroxidetest.New(t)
	env.RegisterOrchestration("Retry", func(ctx *orchestration.Context, _ string) (string, error) {
		return ctx.CallActivityWithRetry("Flaky", "", orchestration.RetryPolicy{MaxAttempts: 4,
			Backoff: orchestration.Backoff{Kind: "fixed", Base: time.Hour}})
	})
	env.OnActivity("Flaky").ReturnError(errors.New("try again")).Times(3)
	env.OnActivity("Flaky").ReturnJSON(`"ok"`)
	out, err := env.Run("Retry", nil)
	require.NoError(t, err)
	require.Equal(t, `"ok"`, out)
	require.Equal(t, duroxidetest.DefaultStart.Add(3*time.Hour), env.Now())
	calls := env.ActivityCalls("Flaky")
	require.Len(t, calls, 4)
	for i, c := range calls {
		require.Equal(t, duroxidetest.DefaultStart.Add(time.Duration(i)*time.Hour), c.At)
	}
}

func approval(ctx *orchestration.Context, _ string) (string, error) {
	ev := ctx.WaitEvent("Approve")
	timeout := ctx.ScheduleTimer(30 * day)
	if orchestration.Select(ev, timeout) == 0 {
		return ev.Get()
	}
	return "timed out", nil
}

func TestRaiseEventAfterRacesATimer(t *testing.T) {
	tests := []struct {
		name   string
		after  time.Duration
		want   string
		wantAt time.Duration
	}{
		{"approved after a day", day, "yes", day},
		{"approved too late", 31 * day, "timed out", 30 * day},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := duroxidetest.New(t)
			env.RegisterOrchestration("Approval", approval)
			id := env.Start("Approval", nil)
			env.RaiseEventAfter(tc.after, id, "Approve", "yes")
			st, err := env.RunInstance(id)
			require.NoError(t, err)
			require.Equal(t, client.StateCompleted, st.State)
			got, err := client.Output[string](st, nil)
			if err != nil { // "timed out" is returned raw
				got = st.Output
			}
			require.Equal(t, tc.want, strings.Trim(got, `"`))
			require.Equal(t, duroxidetest.DefaultStart.Add(tc.wantAt), env.Now())
		})
	}
}

func TestStuckOrchestrationNamesItsWaits(t *testing.T) {
	env := duroxidetest.New(t)
	env.RegisterOrchestration("Waits", func(ctx *orchestration.Context, _ string) (string, error) {
		a := ctx.WaitEvent("Approve")
		q := ctx.DequeueEvent("inbox")
		orchestration.All(a, q)
		return "", nil
	})
	_, err := env.Run("Waits", nil)
	var stuck *duroxidetest.StuckError
	require.ErrorAs(t, err, &stuck)
	require.Equal(t, "test-1", stuck.Instance)
	require.Equal(t, "Running", stuck.State)
	require.Equal(t, []string{`external event "Approve"`, `queue "inbox"`}, stuck.Waiting)
	require.Contains(t, err.Error(), `waiting for external event "Approve", queue "inbox"`)
}

func TestStuckOnAnActivityNoWorkerTakes(t *testing.T) {
	env := duroxidetest.New(t)
	env.RegisterOrchestration("Gpu", func(ctx *orchestration.Context, _ string) (string, error) {
		return ctx.ScheduleActivity("Render", "", orchestration.WithTag("gpu")).Get()
	})
	env.OnActivity("Render").ReturnJSON(`"frame"`)
	_, err := env.Run("Gpu", nil)
	var stuck *duroxidetest.StuckError
	require.ErrorAs(t, err, &stuck)
	require.Len(t, stuck.Waiting, 1)
	require.Contains(t, stuck.Waiting[0], `activity "Render" (tag "gpu"`)

	tags, err := duroxide.FilterDefaultAnd("gpu")
	require.NoError(t, err)
	env2 := duroxidetest.New(t, duroxidetest.WithRuntimeOptions(host.Options{WorkerTags: tags}))
	env2.RegisterOrchestration("Gpu", func(ctx *orchestration.Context, _ string) (string, error) {
		return ctx.ScheduleActivity("Render", "", orchestration.WithTag("gpu")).Get()
	})
	env2.OnActivity("Render").ReturnJSON(`"frame"`)
	out, err := env2.Run("Gpu", nil)
	require.NoError(t, err)
	require.Equal(t, `"frame"`, out)
}

func TestEternalOrchestrationNeedsRunUntil(t *testing.T) {
	env := duroxidetest.New(t, duroxidetest.WithMaxSteps(200))
	env.RegisterOrchestration("Ticker", func(ctx *orchestration.Context, in string) (string, error) {
		n := 0
		if in != "" {
			_ = orchestration.Unmarshal(in, &n)
		}
		if _, err := ctx.ScheduleTimer(time.Hour).Get(); err != nil {
			return "", err
		}
		ctx.SetCustomStatus(fmt.Sprint(n + 1))
		next, _ := orchestration.Marshal(n + 1)
		return "", ctx.ContinueAsNew(next)
	})
	id := env.Start("Ticker", 0)
	require.NoError(t, env.RunUntil(id, func() bool {
		st := env.Status(id)
		return st.CustomStatus != nil && *st.CustomStatus == "5"
	}))
	require.Equal(t, duroxidetest.DefaultStart.Add(5*time.Hour), env.Now())
	require.Equal(t, uint64(6), env.Status(id).ExecutionID)

	_, err := env.RunInstance(id)
	require.ErrorIs(t, err, duroxidetest.ErrTooManySteps)
}

func TestSubOrchestrationsAndFanOut(t *testing.T) {
	env := newHello(t)
	env.RegisterOrchestration("Parent", orchestration.Typed(func(ctx *orchestration.Context, names []string) (string, error) {
		futs := make([]*orchestration.Future[string], len(names))
		for i, n := range names {
			futs[i] = orchestration.CallSubOrchestration[string](ctx, "Hello", n)
		}
		outs, err := orchestration.AllOf(futs)
		return strings.Join(outs, " "), err
	}))
	out, err := duroxidetest.RunAs[string](env, "Parent", []string{"a", "b", "c"})
	require.NoError(t, err)
	require.Equal(t, "Hello, a! Hello, b! Hello, c!", out)
	require.Len(t, env.ActivityCalls("Greet"), 3)
}

func TestQueueEventsAreFIFOAndPersistent(t *testing.T) {
	env := duroxidetest.New(t)
	env.RegisterOrchestration("Inbox", orchestration.Typed(func(ctx *orchestration.Context, _ string) ([]string, error) {
		var got []string
		for range 3 {
			s, err := orchestration.DequeueEventAs[string](ctx, "inbox").Get()
			if err != nil {
				return nil, err
			}
			got = append(got, s)
		}
		return got, nil
	}))
	id := env.Start("Inbox", nil)
	env.EnqueueEvent(id, "inbox", "one")
	env.EnqueueEventAfter(time.Minute, id, "inbox", "two")
	env.EnqueueEventAfter(2*time.Minute, id, "inbox", "three")
	st, err := env.RunInstance(id)
	require.NoError(t, err)
	out, err := client.Output[[]string](st, nil)
	require.NoError(t, err)
	require.Equal(t, []string{"one", "two", "three"}, out)
}

func TestCancelAfter(t *testing.T) {
	env := duroxidetest.New(t)
	env.RegisterOrchestration("Long", func(ctx *orchestration.Context, _ string) (string, error) {
		_, err := ctx.ScheduleTimer(365 * day).Get()
		return "", err
	})
	id := env.Start("Long", nil)
	env.CancelAfter(day, id, "changed my mind")
	st, err := env.RunInstance(id)
	require.NoError(t, err)
	require.Equal(t, client.StateFailed, st.State)
	app, ok := st.Failure.(duroxide.Application)
	require.True(t, ok)
	require.Equal(t, duroxide.AppCancelled{Reason: "changed my mind"}, app.Kind)
	require.Equal(t, duroxidetest.DefaultStart.Add(day), env.Now())
}

func TestKVAndCustomStatus(t *testing.T) {
	env := duroxidetest.New(t)
	env.RegisterOrchestration("Counter", func(ctx *orchestration.Context, _ string) (string, error) {
		for i := range 3 {
			ctx.SetKV("count", fmt.Sprint(i+1))
			ctx.SetCustomStatus(fmt.Sprintf("step %d", i+1))
			if _, err := ctx.ScheduleTimer(time.Minute).Get(); err != nil {
				return "", err
			}
		}
		return "", nil
	})
	id := env.Start("Counter", nil)
	_, err := env.RunInstance(id)
	require.NoError(t, err)
	v, ok, err := env.Client().GetKVValue(t.Context(), id, "count")
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, "3", v)
	require.Equal(t, "step 3", *env.Status(id).CustomStatus)
}

func TestVersionsAndContinueAsNew(t *testing.T) {
	env := duroxidetest.New(t)
	for _, v := range []string{"1.0.0", "2.0.0"} {
		env.RegisterOrchestrationVersion("V", v, func(ctx *orchestration.Context, in string) (string, error) {
			if in == `"again"` {
				return ctx.OrchestrationVersion(), nil
			}
			return "", ctx.ContinueAsNew(`"again"`, orchestration.ToVersion("1.0.0"))
		})
	}
	id := "pinned"
	env.StartInstance(id, "V", "2.0.0", "start")
	st, err := env.RunInstance(id)
	require.NoError(t, err)
	require.Equal(t, "1.0.0", st.Output, "continue-as-new moved to the version it named")
	require.Equal(t, uint64(2), st.ExecutionID)
}

func TestPanicsAndErrorsFailTheInstance(t *testing.T) {
	tests := []struct {
		name string
		h    orchestration.Handler
		want string
	}{
		{"error", func(*orchestration.Context, string) (string, error) { return "", errors.New("bad input") }, "bad input"},
		{"panic", func(*orchestration.Context, string) (string, error) { panic("kaboom") }, "kaboom"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := duroxidetest.New(t)
			env.RegisterOrchestration("O", tc.h)
			_, err := env.Run("O", nil)
			var failed *client.FailedError
			require.ErrorAs(t, err, &failed)
			require.Contains(t, failed.Details.DisplayMessage(), tc.want)
		})
	}
}

func TestUnregisteredOrchestrationIsPoisonedInFakeTime(t *testing.T) {
	env := duroxidetest.New(t)
	_, err := env.Run("Nobody", nil)
	var failed *client.FailedError
	require.ErrorAs(t, err, &failed)
	_, ok := failed.Details.(duroxide.Poison)
	require.True(t, ok, "%#v", failed.Details)
	require.True(t, env.Now().After(duroxidetest.DefaultStart), "the backoffs were skipped")
}

func TestDeterminismCheck(t *testing.T) {
	env := newHello(t)
	env.RegisterOrchestration("Two", func(ctx *orchestration.Context, _ string) (string, error) {
		if _, err := ctx.ScheduleActivity("Greet", `"a"`).Get(); err != nil {
			return "", err
		}
		return ctx.ScheduleActivity("Greet", `"b"`).Get()
	})
	id := env.Start("Two", nil)
	_, err := env.RunInstance(id)
	require.NoError(t, err)
	env.RequireNoNondeterminism(id)

	// A safe change: logging and a different local computation.
	env.RegisterOrchestration("Two", func(ctx *orchestration.Context, _ string) (string, error) {
		ctx.Logger().Info("hello")
		if _, err := ctx.ScheduleActivity("Greet", `"a"`).Get(); err != nil {
			return "", err
		}
		return ctx.ScheduleActivity("Greet", `"b"`).Get()
	})
	require.NoError(t, env.CheckDeterminism(id))

	// An unsafe one: a different activity first.
	env.RegisterOrchestration("Two", func(ctx *orchestration.Context, _ string) (string, error) {
		return ctx.ScheduleActivity("Other", "").Get()
	})
	err = env.CheckDeterminism(id)
	require.ErrorContains(t, err, "nondeterminism")
}

func TestRegistrationErrorsFailTheTest(t *testing.T) {
	tests := []struct {
		name string
		do   func(env *duroxidetest.Env)
	}{
		{"bad version", func(env *duroxidetest.Env) { env.RegisterOrchestrationVersion("O", "v1", orchestration.Typed(hello)) }},
		{"nil activity", func(env *duroxidetest.Env) { env.RegisterActivity("A", nil) }},
		{"zero times", func(env *duroxidetest.Env) { env.OnActivity("A").Times(0) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ft := &fatalRecorder{TB: t}
			env := duroxidetest.New(ft)
			func() {
				defer func() { _ = recover() }()
				tc.do(env)
			}()
			require.True(t, ft.failed)
		})
	}
}

// fatalRecorder records Fatalf and stops the caller by panicking.
type fatalRecorder struct {
	testing.TB
	failed bool
}

func (f *fatalRecorder) Fatalf(string, ...any) { f.failed = true; panic("fatal") }
func (f *fatalRecorder) Helper()               {}

func TestInstanceIDsAreConsecutive(t *testing.T) {
	env := newHello(t)
	require.Equal(t, "test-1", env.Start("Hello", "a"))
	env.RaiseEventAfter(time.Hour, "test-1", "E", nil) // scheduling takes no instance number
	require.Equal(t, "test-2", env.Start("Hello", "b"))
}
