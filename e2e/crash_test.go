package e2e

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/duroxide-go/duroxide"
	"github.com/duroxide-go/duroxide/client"
	"github.com/duroxide-go/duroxide/host"
	"github.com/duroxide-go/duroxide/orchestration"
	"github.com/duroxide-go/duroxide/proptest/faults"
)

// TestCrashRestart stops runtimes at random moments and starts fresh ones
// on the same store, while the fault injector makes one provider call in
// ten fail before it takes effect and one in ten fail after it did (the
// caller sees an error for work that was committed). Every instance must
// still complete with the right output; every activity must have run at
// least once (its side effect recorded), and every orchestration decision
// must be in history exactly once: one schedule per step, one completion
// per schedule.
func TestCrashRestart(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			const instances, steps = 30, 3
			store := b.new(t)
			seed := time.Now().UnixNano()
			t.Logf("fault seed %d", seed)
			faulty, err := faults.New(store, seed, faults.DefaultRules()...)
			require.NoError(t, err)

			var mu sync.Mutex
			effects := map[string]int{} // "instance/step" -> runs
			reg := host.NewRegistry()
			require.NoError(t, reg.RegisterActivity("Step", host.TypedActivity(func(ctx *host.ActivityContext, key string) (string, error) {
				mu.Lock()
				effects[key]++
				mu.Unlock()
				return key + ":done", nil
			})))
			require.NoError(t, reg.RegisterOrchestration("Job", orchestration.Typed(func(ctx *orchestration.Context, id string) (string, error) {
				out := ""
				for s := range steps {
					r, err := orchestration.CallActivity[string](ctx, "Step", fmt.Sprintf("%s/%d", id, s)).Get()
					if err != nil {
						return "", err
					}
					out += r + ";"
				}
				return out, nil
			})))
			opts := baseOptions()
			opts.OrchestrationLockTimeout, opts.WorkerLockTimeout = 300*time.Millisecond, 300*time.Millisecond
			opts.ActivityCancellationGrace = 20 * time.Millisecond
			opts.MaxAttempts = 1000 // faults make deliveries fail; none may be poisoned

			c, err := client.New(store, client.WithPollBackoff(2*time.Millisecond, 20*time.Millisecond))
			require.NoError(t, err)
			for i := range instances {
				id := fmt.Sprint("job-", i)
				require.NoError(t, c.StartTyped(t.Context(), id, "Job", id))
			}

			done := func() bool {
				ids, err := c.ListInstancesByStatus(t.Context(), duroxide.StatusCompleted)
				require.NoError(t, err)
				return len(ids) == instances
			}
			rng := rand.New(rand.NewPCG(uint64(seed), 1))
			deadline := time.Now().Add(150 * time.Second) // generous: a slow CI machine runs every package at once
			restarts := 0
			for !done() {
				require.True(t, time.Now().Before(deadline), "not all instances completed after %d restarts", restarts)
				rt, err := host.New(faulty, reg, opts)
				require.NoError(t, err)
				ctx, cancel := context.WithCancel(context.Background())
				stopped := make(chan struct{})
				go func() { _ = rt.Run(ctx); close(stopped) }()
				time.Sleep(time.Duration(10+rng.IntN(70)) * time.Millisecond)
				cancel()
				<-stopped
				restarts++
			}
			t.Logf("%d restarts, faults injected: %v", restarts, faulty.Counts())

			for i := range instances {
				id := fmt.Sprint("job-", i)
				out, err := client.Output[string](c.GetStatus(t.Context(), id))
				require.NoError(t, err)
				require.Equal(t, fmt.Sprintf("%[1]s/0:done;%[1]s/1:done;%[1]s/2:done;", id), out)
				h, err := c.ReadHistory(t.Context(), id)
				require.NoError(t, err)
				scheduled, completed := map[uint64]int{}, map[uint64]int{}
				for _, ev := range h {
					switch ev.Kind.(type) {
					case duroxide.ActivityScheduled:
						scheduled[ev.EventID]++
					case duroxide.ActivityCompleted:
						completed[*ev.SourceEventID]++
					}
				}
				require.Len(t, scheduled, steps, "%s: one schedule per step", id)
				for sid := range scheduled {
					require.Equal(t, 1, completed[sid], "%s: one completion for schedule %d", id, sid)
				}
				mu.Lock()
				for s := range steps {
					require.GreaterOrEqual(t, effects[fmt.Sprintf("%s/%d", id, s)], 1)
				}
				mu.Unlock()
			}
		})
	}
}
