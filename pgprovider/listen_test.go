package pgprovider

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/duroxide-go/duroxide"
)

// TestListenerConnectionLossMidPoll kills the listening connection while a
// long poll waits (pg_terminate_backend, on the database's clock): the poll
// still returns the work enqueued after the kill well within its timeout,
// the listener reconnects, and later long polls wake on notifications again.
func TestListenerConnectionLossMidPoll(t *testing.T) {
	pl := testPool(t)
	p := freshProvider(t, t)
	ctx := t.Context()
	app := listenerAppName(p.channel)

	listenerPID := func() int32 {
		var pid int32
		err := pl.QueryRow(ctx, "SELECT COALESCE(max(pid), 0) FROM pg_stat_activity WHERE application_name = $1", app).Scan(&pid)
		require.NoError(t, err)
		return pid
	}
	type result struct {
		item *duroxide.LockedOrchestrationItem
		err  error
		took time.Duration
	}
	poll := func() <-chan result {
		ch := make(chan result, 1)
		go func() {
			start := time.Now()
			item, err := p.FetchOrchestrationItem(ctx, time.Minute, 10*time.Second, nil)
			ch <- result{item, err, time.Since(start)}
		}()
		return ch
	}
	waitPID := func(not int32) int32 {
		var pid int32
		require.Eventually(t, func() bool { pid = listenerPID(); return pid != 0 && pid != not }, 10*time.Second, 10*time.Millisecond)
		return pid
	}

	ch := poll()
	first := waitPID(0)
	time.Sleep(50 * time.Millisecond) // the poll is waiting
	_, err := pl.Exec(ctx, "SELECT pg_terminate_backend($1)", first)
	require.NoError(t, err)
	time.Sleep(20 * time.Millisecond)
	require.NoError(t, p.EnqueueForOrchestrator(ctx, duroxide.StartOrchestrationItem{Instance: "after-kill", Orchestration: "O"}, 0))
	r := <-ch
	require.NoError(t, r.err)
	require.NotNil(t, r.item, "the poll lost the work enqueued after its listener died")
	require.Equal(t, "after-kill", r.item.Instance)
	require.Less(t, r.took, 5*time.Second, "the poll did not recover within one re-poll cycle")

	second := waitPID(first)
	require.NotEqual(t, first, second)
	ch = poll()
	time.Sleep(100 * time.Millisecond) // the poll is waiting on the new listener
	sent := time.Now()
	require.NoError(t, p.EnqueueForOrchestrator(ctx, duroxide.StartOrchestrationItem{Instance: "after-reconnect", Orchestration: "O"}, 0))
	r = <-ch
	require.NoError(t, r.err)
	require.NotNil(t, r.item)
	require.Equal(t, "after-reconnect", r.item.Instance)
	t.Logf("after reconnect: woke %v after the enqueue", time.Since(sent))
}
