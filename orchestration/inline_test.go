package orchestration

import (
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/duroxide-go/duroxide"
)

// DUROXIDE_ORCH_INLINE=1 runs the package's tests with every engine inline
// (CI does, skipping the two tests of goroutine-only behaviour:
// TestGoexitInOrchestrationFails and TestRecoverCannotSwallowTeardown).
func init() { forceInline = os.Getenv("DUROXIDE_ORCH_INLINE") == "1" }

// TestInlineMatchesGoroutines runs the same turns both ways and compares
// every outcome and history delta.
func TestInlineMatchesGoroutines(t *testing.T) {
	handlers := map[string]Handler{
		"activities then timer": func(ctx *Context, in string) (string, error) {
			a := ctx.ScheduleActivity("A", in)
			b := ctx.ScheduleActivity("B", in)
			if !All(a, b) {
				return "", nil
			}
			if _, err := ctx.ScheduleTimer(5).Get(); err != nil {
				return "", err
			}
			return ctx.ScheduleActivity("C", "").Get()
		},
		"branches and select": func(ctx *Context, _ string) (string, error) {
			br := Go(ctx, func(c *Context) (string, error) {
				return c.ScheduleActivity("X", "").Get()
			})
			ev := ctx.WaitEvent("E")
			if Select(br, ev) == 0 {
				return br.Get()
			}
			return ev.Get()
		},
		"panic": func(ctx *Context, _ string) (string, error) {
			_, _ = ctx.ScheduleActivity("A", "").Get()
			panic("boom")
		},
	}
	msgs := []duroxide.WorkItem{
		duroxide.ActivityCompletedItem{Instance: "i", ExecutionID: 1, ID: 2, Result: "r2"},
		duroxide.ActivityCompletedItem{Instance: "i", ExecutionID: 1, ID: 3, Result: "r3"},
	}
	for name, hd := range handlers {
		t.Run(name, func(t *testing.T) {
			var outs [2]TurnOutput
			for i, inline := range []bool{false, true} {
				var history []duroxide.Event
				var out TurnOutput
				for turn := range 3 {
					var batch []duroxide.WorkItem
					if turn == 0 {
						batch = []duroxide.WorkItem{duroxide.StartOrchestrationItem{Instance: "i", Orchestration: "O", ExecutionID: 1}}
					} else {
						batch = msgs[turn-1 : turn]
					}
					item := duroxide.OrchestrationItem{Instance: "i", ExecutionID: 1, History: history, Messages: batch}
					out = RunTurn(TurnInput{Item: item, Batch: ReadBatch("i", history, batch), Handler: hd, Version: "1.0.0",
						Options: EngineOptions{Inline: inline, Now: fixedNow}})
					history = append(history, out.Ack.HistoryDelta...)
				}
				out.Ack.HistoryDelta = history
				outs[i] = out
			}
			require.Equal(t, outs[0], outs[1])
		})
	}
}
