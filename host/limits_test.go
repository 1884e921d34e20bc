package host_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/duroxide-go/duroxide"
	"github.com/duroxide-go/duroxide/client"
	"github.com/duroxide-go/duroxide/host"
	"github.com/duroxide-go/duroxide/orchestration"
)

func TestSizeLimitsFailTheOrchestration(t *testing.T) {
	tests := []struct {
		name string
		over func(ctx *orchestration.Context)
		want string
		// cancelled counts ActivityCancelRequested events: the activity in
		// flight, plus one this turn scheduled (recorded, never sent).
		cancelled int
	}{
		{"custom status", func(ctx *orchestration.Context) {
			ctx.SetCustomStatus(strings.Repeat("s", host.MaxCustomStatusBytes+1))
		},
			"custom status size", 1},
		{"kv value", func(ctx *orchestration.Context) { ctx.SetKV("k", strings.Repeat("v", host.MaxKVValueBytes+1)) },
			`KV value for key "k"`, 1},
		{"kv keys", func(ctx *orchestration.Context) {
			for i := range host.MaxKVKeys + 1 {
				ctx.SetKV(fmt.Sprint("k", i), "v")
			}
		}, "KV key count (101)", 1},
		{"tag", func(ctx *orchestration.Context) {
			ctx.ScheduleActivity("Greet", `"x"`, orchestration.WithTag(strings.Repeat("t", host.MaxTagBytes+1)))
		}, `activity "Greet" tag size`, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			reg := helloRegistry(t)
			mustRegister(t, reg.RegisterOrchestration("Big", func(ctx *orchestration.Context, _ string) (string, error) {
				pending := ctx.ScheduleActivity("Greet", `"first"`) // in flight when the limit is hit
				if _, err := ctx.ScheduleTimer(0).Get(); err != nil {
					return "", err
				}
				tc.over(ctx)
				return pending.Get()
			}))
			mustRegister(t, reg.RegisterOrchestration("Parent", func(ctx *orchestration.Context, _ string) (string, error) {
				_, err := ctx.SubOrchestration("Big", "").Get()
				return "", err
			}))
			e := newStepEnv(t, reg, host.Options{})
			ctx := context.Background()
			require.NoError(t, e.c.Start(ctx, "p", "Parent", ""))
			// Run the parent and the child's first turn (activity + timer),
			// but not the activity, so it is in flight.
			for range 3 {
				_, err := e.rt.StepOrchestration(ctx)
				require.NoError(t, err)
			}
			e.drain()
			child := orchestration.ChildInstanceID("p", orchestration.SubOrchAutoPrefix+"2")
			st := e.status(child)
			require.Equal(t, client.StateFailed, st.State)
			require.Contains(t, st.Failure.DisplayMessage(), tc.want)
			app, ok := st.Failure.(duroxide.Application)
			require.True(t, ok)
			require.Equal(t, duroxide.AppOrchestrationFailed{}, app.Kind)

			hist, err := e.c.ReadHistory(ctx, child)
			require.NoError(t, err)
			var cancelled int
			for _, ev := range hist {
				if _, ok := ev.Kind.(duroxide.ActivityCancelRequested); ok {
					cancelled++
				}
			}
			require.Equal(t, tc.cancelled, cancelled, "in-flight activities are cancelled")
			parent := e.status("p")
			require.Equal(t, client.StateFailed, parent.State, "the parent hears of the failure")
			require.Contains(t, parent.Failure.DisplayMessage(), tc.want)
		})
	}
}
