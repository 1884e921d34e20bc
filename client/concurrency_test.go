package client_test

import (
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/duroxide-go/duroxide"
	"github.com/duroxide-go/duroxide/client"
)

// One client is shared by many goroutines: commands, reads and waits run
// concurrently while the simulated runtime finishes the instances. Run with
// -race.
func TestOneClientManyGoroutines(t *testing.T) {
	const n = 16
	h := newHarness(t)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			id := fmt.Sprintf("i%02d", i)
			require.NoError(t, h.c.Start(h.ctx, id, "Work", fmt.Sprint(i)))
			require.NoError(t, h.c.RaiseEvent(h.ctx, id, "E", "x"))
			require.NoError(t, h.c.EnqueueEvent(h.ctx, id, "q", "y"))
			_, err := h.c.GetStatus(h.ctx, id)
			require.NoError(t, err)
		})
	}
	wg.Wait()
	d, err := h.c.GetQueueDepths(h.ctx)
	require.NoError(t, err)
	require.Equal(t, uint64(3*n), d.OrchestratorQueue)

	// Waiters in parallel; the runtime finishes each instance in one turn.
	results := make([]*pending[client.Status], n)
	for i := range n {
		id := fmt.Sprintf("i%02d", i)
		results[i] = start(func() (client.Status, error) { return h.c.WaitForOrchestration(h.ctx, id, time.Hour) })
	}
	for range n {
		item, err := h.p.FetchOrchestrationItem(h.ctx, lockTimeout, 0, nil)
		require.NoError(t, err)
		require.NotNil(t, item)
		require.Len(t, item.Messages, 3)
		ev := &events{instance: item.Instance, execution: 1, next: 1, now: h.clock.Now()}
		md := ev.startFrom(t, item)
		ev.add(duroxide.OrchestrationCompleted{Output: item.Instance})
		md.Status, md.Output = duroxide.StatusCompleted, &item.Instance
		require.NoError(t, h.p.AckOrchestrationItem(h.ctx, item.LockToken, duroxide.OrchestrationAck{ExecutionID: 1, HistoryDelta: ev.delta, Metadata: md}))
	}
	// Each waiter either returns or parks on a poll timer: move the clock
	// until all have returned.
	for i, res := range results {
		id := fmt.Sprintf("i%02d", i)
		for !res.done() {
			h.clock.AdvanceToNextTimer()
			runtime.Gosched()
		}
		st, err := res.wait()
		require.NoError(t, err)
		require.Equal(t, client.StateCompleted, st.State, id)
		require.Equal(t, id, st.Output)
	}
}
