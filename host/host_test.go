package host_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/duroxide-go/duroxide"
	"github.com/duroxide-go/duroxide/client"
	"github.com/duroxide-go/duroxide/host"
	"github.com/duroxide-go/duroxide/orchestration"
)

func greet(ctx *host.ActivityContext, name string) (string, error) {
	return "Hello, " + name + "!", nil
}

func helloRegistry(t testing.TB) *host.Registry {
	t.Helper()
	reg := host.NewRegistry()
	mustRegister(t, reg.RegisterActivity("Greet", host.TypedActivity(greet)))
	mustRegister(t, reg.RegisterOrchestration("Hello", orchestration.Typed(func(ctx *orchestration.Context, name string) (string, error) {
		return orchestration.CallActivity[string](ctx, "Greet", name).Get()
	})))
	return reg
}

func TestStepRunsHelloWorld(t *testing.T) {
	e := newStepEnv(t, helloRegistry(t), host.Options{})
	ctx := context.Background()
	require.NoError(t, e.c.StartTyped(ctx, "i1", "Hello", "World"))
	e.drain()
	out, err := client.Output[string](e.c.GetStatus(ctx, "i1"))
	require.NoError(t, err)
	require.Equal(t, "Hello, World!", out)

	hist, err := e.c.ReadHistory(ctx, "i1")
	require.NoError(t, err)
	var kinds []string
	for _, ev := range hist {
		kinds = append(kinds, ev.Kind.EventType())
	}
	require.Equal(t, []string{"OrchestrationStarted", "ActivityScheduled", "ActivityCompleted", "OrchestrationCompleted"}, kinds)
	info, err := e.c.GetInstanceInfo(ctx, "i1")
	require.NoError(t, err)
	require.Equal(t, host.DefaultVersion, info.OrchestrationVersion)
}

func TestActivityOutcomes(t *testing.T) {
	tests := []struct {
		name     string
		activity host.ActivityHandler
		want     string // orchestration output: the error text it saw
		kind     duroxide.AppErrorKind
	}{
		{"error", func(*host.ActivityContext, string) (string, error) { return "", errors.New("boom") }, "boom", duroxide.AppActivityFailed{}},
		{"panic", func(*host.ActivityContext, string) (string, error) { panic("kaput") }, "activity panicked: kaput", duroxide.AppPanicked{}},
		{"bad typed input", host.TypedActivity(func(*host.ActivityContext, int) (int, error) { return 1, nil }), "decoding input", duroxide.AppActivityFailed{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			reg := host.NewRegistry()
			mustRegister(t, reg.RegisterActivity("A", tc.activity))
			mustRegister(t, reg.RegisterOrchestration("O", func(ctx *orchestration.Context, _ string) (string, error) {
				_, err := ctx.ScheduleActivity("A", `"x"`).Get()
				var tf *orchestration.TaskFailedError
				if !errors.As(err, &tf) {
					return "", errors.New("want a TaskFailedError")
				}
				app, ok := tf.Details.(duroxide.Application)
				if !ok || app.Kind != tc.kind {
					return "", errors.New("wrong details")
				}
				return app.Message, nil
			}))
			e := newStepEnv(t, reg, host.Options{})
			require.NoError(t, e.c.Start(context.Background(), "i", "O", ""))
			e.drain()
			st := e.status("i")
			require.Equal(t, client.StateCompleted, st.State, "%+v", st.Failure)
			require.Contains(t, st.Output, tc.want)
		})
	}
}

func TestActivityContextCarriesIdentity(t *testing.T) {
	var got *host.ActivityContext
	var gotSession, gotTag string
	reg := host.NewRegistry()
	mustRegister(t, reg.RegisterActivity("A", func(ctx *host.ActivityContext, in string) (string, error) {
		got = ctx
		gotSession, _ = ctx.SessionID()
		gotTag, _ = ctx.Tag()
		ctx.Logger().Info("running")
		return in, nil
	}))
	mustRegister(t, reg.RegisterOrchestration("O", func(ctx *orchestration.Context, _ string) (string, error) {
		return ctx.ScheduleActivity("A", "in", orchestration.WithSession("s1"), orchestration.WithTag("gpu")).Get()
	}))
	tags, err := duroxide.FilterDefaultAnd("gpu")
	require.NoError(t, err)
	e := newStepEnv(t, reg, host.Options{WorkerTags: tags})
	require.NoError(t, e.c.Start(context.Background(), "inst", "O", ""))
	e.drain()
	require.Equal(t, client.StateCompleted, e.status("inst").State)
	require.Equal(t, "inst", got.InstanceID())
	require.Equal(t, uint64(1), got.ExecutionID())
	require.Equal(t, uint64(2), got.ActivityID())
	require.Equal(t, "A", got.Name())
	require.Equal(t, uint32(1), got.Attempt())
	require.Equal(t, "s1", gotSession)
	require.Equal(t, "gpu", gotTag)
}

func TestTaggedActivityWaitsForAMatchingWorker(t *testing.T) {
	reg := host.NewRegistry()
	mustRegister(t, reg.RegisterActivity("A", func(*host.ActivityContext, string) (string, error) { return "done", nil }))
	mustRegister(t, reg.RegisterOrchestration("O", func(ctx *orchestration.Context, _ string) (string, error) {
		return ctx.ScheduleActivity("A", "", orchestration.WithTag("gpu")).Get()
	}))
	e := newStepEnv(t, reg, host.Options{}) // default: untagged only
	require.NoError(t, e.c.Start(context.Background(), "i", "O", ""))
	e.drain()
	require.Equal(t, client.StateRunning, e.status("i").State)

	tags, err := duroxide.FilterTags("gpu")
	require.NoError(t, err)
	gpu, err := host.New(e.p, reg, host.Options{Clock: e.clock, WorkerTags: tags})
	require.NoError(t, err)
	ran, err := gpu.StepWorker(context.Background())
	require.NoError(t, err)
	require.True(t, ran)
	e.drain()
	require.Equal(t, "done", e.status("i").Output)
}

func TestVersionResolution(t *testing.T) {
	reg := host.NewRegistry()
	for _, v := range []string{"1.0.0", "2.0.0", "1.5.0"} {
		mustRegister(t, reg.RegisterOrchestrationVersion("O", v, func(ctx *orchestration.Context, _ string) (string, error) {
			return ctx.OrchestrationVersion(), nil
		}))
	}
	e := newStepEnv(t, reg, host.Options{})
	ctx := context.Background()
	require.NoError(t, e.c.Start(ctx, "latest", "O", ""))
	require.NoError(t, e.c.StartVersioned(ctx, "pinned", "O", "1.5.0", ""))
	e.drain()
	require.Equal(t, "2.0.0", e.status("latest").Output)
	require.Equal(t, "1.5.0", e.status("pinned").Output)
}

func TestContinueAsNewKeepsOrMovesVersion(t *testing.T) {
	reg := host.NewRegistry()
	body := func(ctx *orchestration.Context, in string) (string, error) {
		if in == "" {
			return "", ctx.ContinueAsNew("again")
		}
		return ctx.OrchestrationVersion() + "/" + in, nil
	}
	mustRegister(t, reg.RegisterOrchestrationVersion("O", "1.0.0", body))
	mustRegister(t, reg.RegisterOrchestrationVersion("O", "2.0.0", body))
	e := newStepEnv(t, reg, host.Options{})
	require.NoError(t, e.c.StartVersioned(context.Background(), "i", "O", "1.0.0", ""))
	e.drain()
	st := e.status("i")
	require.Equal(t, uint64(2), st.ExecutionID)
	// A continue-as-new without a version moves to the highest.
	require.Equal(t, "2.0.0/again", st.Output)
}

func TestUnregisteredOrchestrationBacksOffThenPoisons(t *testing.T) {
	e := newStepEnv(t, host.NewRegistry(), host.Options{MaxAttempts: 3,
		UnregisteredBackoff: orchestration.Backoff{Kind: "fixed", Base: time.Minute}})
	ctx := context.Background()
	require.NoError(t, e.c.Start(ctx, "i", "Missing", "in"))
	for attempt := 1; attempt <= 3; attempt++ {
		ran, err := e.rt.StepOrchestration(ctx)
		require.NoError(t, err)
		require.True(t, ran, "attempt %d", attempt)
		ran, err = e.rt.StepOrchestration(ctx)
		require.NoError(t, err)
		require.False(t, ran, "the backoff hides the batch")
		require.NoError(t, e.clock.Advance(time.Minute))
	}
	e.drain()
	st := e.status("i")
	require.Equal(t, client.StateFailed, st.State)
	p, ok := st.Failure.(duroxide.Poison)
	require.True(t, ok, "%#v", st.Failure)
	require.Equal(t, uint32(4), p.AttemptCount)
	require.Equal(t, uint32(3), p.MaxAttempts)
	require.Equal(t, duroxide.PoisonOrchestration{Instance: "i", ExecutionID: 1}, p.MessageType)
	require.Contains(t, p.Message, `"StartOrchestration"`)
}

func TestUnregisteredActivityBacksOffThenPoisons(t *testing.T) {
	reg := host.NewRegistry()
	mustRegister(t, reg.RegisterOrchestration("O", func(ctx *orchestration.Context, _ string) (string, error) {
		return ctx.ScheduleActivity("Missing", "x").Get()
	}))
	e := newStepEnv(t, reg, host.Options{MaxAttempts: 2, UnregisteredBackoff: orchestration.Backoff{Kind: "fixed", Base: time.Second}})
	require.NoError(t, e.c.Start(context.Background(), "i", "O", ""))
	e.drain()
	require.Equal(t, client.StateRunning, e.status("i").State, "abandoned, hidden for its backoff")
	e.runFor(time.Second, 3)
	// A poisoned activity is a system error: it fails the orchestration.
	st := e.status("i")
	require.Equal(t, client.StateFailed, st.State)
	p, ok := st.Failure.(duroxide.Poison)
	require.True(t, ok, "%#v", st.Failure)
	require.Equal(t, duroxide.PoisonActivity{Instance: "i", ExecutionID: 1, ActivityName: "Missing", ActivityID: 2}, p.MessageType)
	require.Equal(t, uint32(3), p.AttemptCount)
}

func TestOrchestrationPanicFailsTheInstanceNotTheDispatcher(t *testing.T) {
	reg := helloRegistry(t)
	mustRegister(t, reg.RegisterOrchestration("Panics", func(*orchestration.Context, string) (string, error) { panic("oops") }))
	e := newStepEnv(t, reg, host.Options{})
	ctx := context.Background()
	require.NoError(t, e.c.Start(ctx, "bad", "Panics", ""))
	require.NoError(t, e.c.StartTyped(ctx, "good", "Hello", "you"))
	e.drain()
	bad := e.status("bad")
	require.Equal(t, client.StateFailed, bad.State)
	require.Contains(t, bad.Failure.DisplayMessage(), "oops")
	require.Equal(t, client.StateCompleted, e.status("good").State)
}

func TestSubOrchestrationNotifiesParent(t *testing.T) {
	reg := helloRegistry(t)
	mustRegister(t, reg.RegisterOrchestration("Parent", orchestration.Typed(func(ctx *orchestration.Context, names []string) (string, error) {
		futs := make([]*orchestration.Future[string], len(names))
		for i, n := range names {
			futs[i] = orchestration.CallSubOrchestration[string](ctx, "Hello", n)
		}
		outs, err := orchestration.AllOf(futs)
		return strings.Join(outs, " "), err
	})))
	e := newStepEnv(t, reg, host.Options{})
	require.NoError(t, e.c.StartTyped(context.Background(), "p", "Parent", []string{"a", "b"}))
	e.drain()
	out, err := client.Output[string](e.c.GetStatus(context.Background(), "p"))
	require.NoError(t, err)
	require.Equal(t, "Hello, a! Hello, b!", out)
}

func TestTimerNeedsTheClock(t *testing.T) {
	reg := host.NewRegistry()
	mustRegister(t, reg.RegisterOrchestration("Sleepy", func(ctx *orchestration.Context, _ string) (string, error) {
		if _, err := ctx.ScheduleTimer(30 * 24 * time.Hour).Get(); err != nil {
			return "", err
		}
		return "woke", nil
	}))
	e := newStepEnv(t, reg, host.Options{})
	require.NoError(t, e.c.Start(context.Background(), "i", "Sleepy", ""))
	e.drain()
	require.Equal(t, client.StateRunning, e.status("i").State)
	require.NoError(t, e.clock.Advance(30*24*time.Hour))
	e.drain()
	require.Equal(t, "woke", e.status("i").Output)
}

func TestRegistryRejectsBadRegistrations(t *testing.T) {
	noop := func(*orchestration.Context, string) (string, error) { return "", nil }
	act := func(*host.ActivityContext, string) (string, error) { return "", nil }
	tests := []struct {
		name string
		do   func(r *host.Registry) error
	}{
		{"empty orchestration name", func(r *host.Registry) error { return r.RegisterOrchestration("", noop) }},
		{"nil orchestration", func(r *host.Registry) error { return r.RegisterOrchestration("O", nil) }},
		{"bad version", func(r *host.Registry) error { return r.RegisterOrchestrationVersion("O", "1.0", noop) }},
		{"duplicate version", func(r *host.Registry) error { return r.RegisterOrchestrationVersion("Taken", "1.0.0", noop) }},
		{"empty activity name", func(r *host.Registry) error { return r.RegisterActivity("", act) }},
		{"nil activity", func(r *host.Registry) error { return r.RegisterActivity("A", nil) }},
		{"duplicate activity", func(r *host.Registry) error { return r.RegisterActivity("TakenA", act) }},
		{"reserved activity name", func(r *host.Registry) error { return r.RegisterActivity(orchestration.SyscallNewGUID, act) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := host.NewRegistry()
			require.NoError(t, r.RegisterOrchestration("Taken", noop))
			require.NoError(t, r.RegisterActivity("TakenA", act))
			err := tc.do(r)
			require.ErrorIs(t, err, host.ErrInvalidRegistration)
		})
	}
}

func TestNewRejectsBadOptions(t *testing.T) {
	e := newStepEnv(t, host.NewRegistry(), host.Options{})
	tests := []struct {
		name string
		opts host.Options
	}{
		{"negative lock timeout", host.Options{WorkerLockTimeout: -1}},
		{"negative concurrency", host.Options{OrchestrationConcurrency: -1}},
		{"empty version ranges", host.Options{SupportedVersions: []duroxide.SemverRange{}}},
		{"inverted range", host.Options{SupportedVersions: []duroxide.SemverRange{{Min: duroxide.Semver{Major: 2}, Max: duroxide.Semver{Major: 1}}}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := host.New(e.p, host.NewRegistry(), tc.opts)
			require.ErrorIs(t, err, host.ErrInvalidOptions)
		})
	}
	_, err := host.New(nil, host.NewRegistry(), host.Options{})
	require.ErrorIs(t, err, host.ErrInvalidOptions)
	_, err = host.New(e.p, nil, host.Options{})
	require.ErrorIs(t, err, host.ErrInvalidOptions)
}

func TestRegistrySnapshotAtNew(t *testing.T) {
	reg := host.NewRegistry()
	e := newStepEnv(t, reg, host.Options{UnregisteredBackoff: orchestration.Backoff{Kind: "fixed", Base: time.Hour}})
	mustRegister(t, reg.RegisterOrchestration("Late", func(*orchestration.Context, string) (string, error) { return "x", nil }))
	require.NoError(t, e.c.Start(context.Background(), "i", "Late", ""))
	e.drain()
	// Registered after New: unknown to the runtime, so no turn ran.
	require.Equal(t, client.StateNotFound, e.status("i").State)
	d, err := e.c.GetQueueDepths(context.Background())
	require.NoError(t, err)
	require.Equal(t, uint64(1), d.OrchestratorQueue)
}

// A registration after New must not change the runtime's view, also when
// the version list it extends has room to shift in place.
func TestRegistrySnapshotIsolatedFromLaterVersions(t *testing.T) {
	reg := host.NewRegistry()
	version := func(v string) orchestration.Handler {
		return func(*orchestration.Context, string) (string, error) { return v, nil }
	}
	for _, v := range []string{"1.0.0", "2.0.0", "3.0.0"} {
		mustRegister(t, reg.RegisterOrchestrationVersion("V", v, version(v)))
	}
	e := newStepEnv(t, reg, host.Options{})
	mustRegister(t, reg.RegisterOrchestrationVersion("V", "2.5.0", version("2.5.0")))
	mustRegister(t, reg.RegisterOrchestrationVersion("V", "0.5.0", version("0.5.0")))
	require.NoError(t, e.c.Start(context.Background(), "i", "V", ""))
	e.drain()
	st := e.status("i")
	require.Equal(t, client.StateCompleted, st.State)
	require.Equal(t, "3.0.0", st.Output)

	// A runtime built now sees every version.
	e2 := newStepEnv(t, reg, host.Options{})
	require.NoError(t, e2.c.StartVersioned(context.Background(), "j", "V", "2.5.0", ""))
	e2.drain()
	require.Equal(t, "2.5.0", e2.status("j").Output)
}

func TestSystemActivities(t *testing.T) {
	reg := host.NewRegistry()
	mustRegister(t, reg.RegisterOrchestration("Writer", func(ctx *orchestration.Context, _ string) (string, error) {
		ctx.SetKV("k", "v1")
		return "", nil
	}))
	mustRegister(t, reg.RegisterOrchestration("Sys", orchestration.Typed(func(ctx *orchestration.Context, _ string) ([]string, error) {
		now, err := ctx.UtcNow().Get()
		if err != nil {
			return nil, err
		}
		g1, _ := ctx.NewGUID().Get()
		g2, _ := ctx.NewGUID().Get()
		v, err := ctx.KVFromInstance("w", "k").Get()
		if err != nil || v == nil {
			return nil, fmt.Errorf("kv: %v %v", v, err)
		}
		missing, err := ctx.KVFromInstance("w", "nope").Get()
		if err != nil || missing != nil {
			return nil, fmt.Errorf("missing kv: %v %v", missing, err)
		}
		return []string{now.Format(time.RFC3339), g1, g2, *v}, nil
	})))
	e := newStepEnv(t, reg, host.Options{})
	ctx := context.Background()
	require.NoError(t, e.c.Start(ctx, "w", "Writer", ""))
	e.drain()
	require.NoError(t, e.c.StartTyped(ctx, "s", "Sys", ""))
	e.drain()
	out, err := client.Output[[]string](e.c.GetStatus(ctx, "s"))
	require.NoError(t, err)
	require.Equal(t, epoch.Format(time.RFC3339), out[0], "the runtime's clock")
	require.Regexp(t, `^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`, out[1])
	require.NotEqual(t, out[1], out[2])
	require.Equal(t, "v1", out[3])
}
