package e2e

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/duroxide-go/duroxide"
	"github.com/duroxide-go/duroxide/client"
	"github.com/duroxide-go/duroxide/host"
	"github.com/duroxide-go/duroxide/orchestration"
)

type order struct {
	ID    string   `json:"id"`
	Items []string `json:"items"`
}

type receipt struct {
	Order string `json:"order"`
	Count int    `json:"count"`
}

// moreScenarios extends scenarios with management, typed payloads and
// less common paths.
func moreScenarios() []scenario {
	return []scenario{
		{name: "typed_struct_payloads", setup: func(e *env) {
			e.act("Bill", host.TypedActivity(func(_ *host.ActivityContext, o order) (receipt, error) {
				return receipt{Order: o.ID, Count: len(o.Items)}, nil
			}))
			e.orch("Checkout", orchestration.Typed(func(ctx *orchestration.Context, o order) (receipt, error) {
				return orchestration.CallActivity[receipt](ctx, "Bill", o).Get()
			}))
		}, run: func(e *env) {
			e.startTyped("i", "Checkout", order{ID: "o-1", Items: []string{"a", "b"}})
			require.Equal(e.t, receipt{Order: "o-1", Count: 2}, output[receipt](e, "i"))
		}},
		{name: "activity_sees_its_identity", setup: func(e *env) {
			e.act("Who", func(ctx *host.ActivityContext, _ string) (string, error) {
				return fmt.Sprintf("%s/%d/%d/%s/%d", ctx.InstanceID(), ctx.ExecutionID(), ctx.ActivityID(), ctx.Name(), ctx.Attempt()), nil
			})
			e.orch("O", func(ctx *orchestration.Context, _ string) (string, error) {
				return ctx.ScheduleActivity("Who", "").Get()
			})
		}, run: func(e *env) {
			require.NoError(e.t, e.c.Start(e.t.Context(), "inst", "O", ""))
			require.Equal(e.t, "inst/1/2/Who/1", e.wait("inst").Output)
		}},
		{name: "event_beats_activity_in_select", setup: func(e *env) {
			e.act("Never", func(ctx *host.ActivityContext, _ string) (string, error) { <-ctx.Done(); return "", ctx.Err() })
			e.orch("O", func(ctx *orchestration.Context, _ string) (string, error) {
				ev := ctx.WaitEvent("Go")
				if orchestration.Select(ctx.ScheduleActivity("Never", ""), ev) == 1 {
					return ev.Get()
				}
				return "", errors.New("activity won")
			})
			e.opts.WorkerLockTimeout = 200 * time.Millisecond
			e.opts.ActivityCancellationGrace = 50 * time.Millisecond
		}, run: func(e *env) {
			require.NoError(e.t, e.c.Start(e.t.Context(), "i", "O", ""))
			e.eventually("the subscription", func() bool { return slices.Contains(e.kinds("i"), "ExternalSubscribed") })
			require.NoError(e.t, e.c.RaiseEvent(e.t.Context(), "i", "Go", "now"))
			require.Equal(e.t, "now", e.wait("i").Output)
		}},
		{name: "reset_custom_status", setup: func(e *env) {
			e.orch("S", func(ctx *orchestration.Context, _ string) (string, error) {
				ctx.SetCustomStatus("busy")
				if _, err := ctx.ScheduleTimer(5 * time.Millisecond).Get(); err != nil {
					return "", err
				}
				ctx.ResetCustomStatus()
				return "", nil
			})
		}, run: func(e *env) {
			require.NoError(e.t, e.c.Start(e.t.Context(), "i", "S", ""))
			st := e.wait("i")
			require.Nil(e.t, st.CustomStatus)
			require.Equal(e.t, uint64(2), st.CustomStatusVersion)
		}},
		{name: "clear_all_kv", setup: func(e *env) {
			e.orch("K", func(ctx *orchestration.Context, _ string) (string, error) {
				ctx.SetKV("a", "1")
				ctx.SetKV("b", "2")
				if _, err := ctx.ScheduleTimer(5 * time.Millisecond).Get(); err != nil {
					return "", err
				}
				ctx.ClearAllKV()
				return fmt.Sprint(ctx.KVLen()), nil
			})
		}, run: func(e *env) {
			require.NoError(e.t, e.c.Start(e.t.Context(), "i", "K", ""))
			require.Equal(e.t, "0", e.wait("i").Output)
			all, err := e.c.GetKVAllValues(e.t.Context(), "i")
			require.NoError(e.t, err)
			require.Empty(e.t, all)
		}},
		{name: "prune_old_executions", setup: func(e *env) {
			e.orch("Loop", orchestration.Typed(func(ctx *orchestration.Context, n int) (int, error) {
				if n == 4 {
					return n, nil
				}
				next, _ := orchestration.Marshal(n + 1)
				return 0, ctx.ContinueAsNew(next)
			}))
		}, run: func(e *env) {
			e.startTyped("i", "Loop", 0)
			e.wait("i")
			keep := uint32(2)
			res, err := e.c.PruneExecutions(e.t.Context(), "i", duroxide.PruneOptions{KeepLast: &keep})
			require.NoError(e.t, err)
			require.Equal(e.t, uint64(3), res.ExecutionsDeleted)
			execs, err := e.c.ListExecutions(e.t.Context(), "i")
			require.NoError(e.t, err)
			require.Equal(e.t, []uint64{4, 5}, execs)
		}},
		{name: "list_instances_by_status", setup: func(e *env) {
			withHello(e)
			e.orch("Fail", func(*orchestration.Context, string) (string, error) { return "", errors.New("no") })
		}, run: func(e *env) {
			e.startTyped("ok1", "Hello", "a")
			e.startTyped("ok2", "Hello", "b")
			require.NoError(e.t, e.c.Start(e.t.Context(), "bad", "Fail", ""))
			e.wait("ok1")
			e.wait("ok2")
			e.wait("bad")
			done, err := e.c.ListInstancesByStatus(e.t.Context(), duroxide.StatusCompleted)
			require.NoError(e.t, err)
			slices.Sort(done)
			require.Equal(e.t, []string{"ok1", "ok2"}, done)
			failed, err := e.c.ListInstancesByStatus(e.t.Context(), duroxide.StatusFailed)
			require.NoError(e.t, err)
			require.Equal(e.t, []string{"bad"}, failed)
		}},
		{name: "cancel_completed_instance_changes_nothing", setup: withHello, run: func(e *env) {
			e.startTyped("i", "Hello", "x")
			e.wait("i")
			_ = e.c.Cancel(e.t.Context(), "i", "too late")
			time.Sleep(30 * time.Millisecond)
			st, err := e.c.GetStatus(e.t.Context(), "i")
			require.NoError(e.t, err)
			require.Equal(e.t, client.StateCompleted, st.State)
			require.Equal(e.t, `"Hello, x!"`, st.Output)
		}},
		{name: "children_fan_out", setup: func(e *env) {
			withHello(e)
			e.orch("Many", orchestration.Typed(func(ctx *orchestration.Context, n int) ([]string, error) {
				futs := make([]*orchestration.Future[string], n)
				for i := range n {
					futs[i] = orchestration.CallSubOrchestration[string](ctx, "Hello", fmt.Sprint(i))
				}
				return orchestration.AllOf(futs)
			}))
		}, run: func(e *env) {
			e.startTyped("p", "Many", 5)
			require.Equal(e.t, []string{"Hello, 0!", "Hello, 1!", "Hello, 2!", "Hello, 3!", "Hello, 4!"}, output[[]string](e, "p"))
		}},
		{name: "system_info_counts", setup: withHello, run: func(e *env) {
			for i := range 3 {
				e.startTyped(fmt.Sprint("i", i), "Hello", "x")
			}
			for i := range 3 {
				e.wait(fmt.Sprint("i", i))
			}
			m, err := e.c.GetSystemMetrics(e.t.Context())
			require.NoError(e.t, err)
			require.Equal(e.t, uint64(3), m.TotalInstances)
			require.Equal(e.t, uint64(3), m.CompletedInstances)
		}},
	}
}
