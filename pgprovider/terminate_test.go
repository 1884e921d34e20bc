package pgprovider

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/duroxide-go/duroxide"
)

// TestAckSurvivesItsConnectionBeingTerminated kills the backend of an
// ack's connection (pg_terminate_backend from another connection) after
// the ack locked its instance and before it wrote anything. The ack must be
// all or nothing: either it retried on a fresh connection and committed
// once, or it returned a retryable error having changed nothing, with the
// lock still held so the same ack can be sent again. Then the store holds
// the turn exactly once.
func TestAckSurvivesItsConnectionBeingTerminated(t *testing.T) {
	p := freshProvider(t, t)
	ctx := context.Background()
	var fired atomic.Bool
	afterAckLock = func(ctx context.Context, conn *pgx.Conn) {
		if fired.Swap(true) {
			return
		}
		pid := conn.PgConn().PID()
		_, err := testPool(t).Exec(ctx, "SELECT pg_terminate_backend($1)", pid)
		require.NoError(t, err)
		// Wait until the backend is gone, so the ack's next statement fails.
		for range 200 {
			var n int
			require.NoError(t, testPool(t).QueryRow(ctx, "SELECT count(*) FROM pg_stat_activity WHERE pid = $1", pid).Scan(&n))
			if n == 0 {
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
		t.Error("the terminated backend did not go away")
	}
	t.Cleanup(func() { afterAckLock = nil })

	require.NoError(t, p.EnqueueForOrchestrator(ctx, duroxide.StartOrchestrationItem{Instance: "i", Orchestration: "O", ExecutionID: 1}, 0))
	item, err := p.FetchOrchestrationItem(ctx, 30*time.Second, 0, nil)
	require.NoError(t, err)
	require.NotNil(t, item)
	name, version := "O", "1.0.0"
	ack := duroxide.OrchestrationAck{
		ExecutionID: 1,
		HistoryDelta: []duroxide.Event{
			{EventID: 1, InstanceID: "i", ExecutionID: 1, DuroxideVersion: "0.1.26", Kind: duroxide.OrchestrationStarted{Name: "O", Version: "1.0.0"}},
			{EventID: 2, InstanceID: "i", ExecutionID: 1, DuroxideVersion: "0.1.26", Kind: duroxide.ActivityScheduled{Name: "A"}},
		},
		WorkerItems: []duroxide.WorkItem{duroxide.ActivityExecuteItem{Instance: "i", ExecutionID: 1, ID: 2, Name: "A"}},
		Metadata:    duroxide.ExecutionMetadata{OrchestrationName: &name, OrchestrationVersion: &version},
	}
	err = p.AckOrchestrationItem(ctx, item.LockToken, ack)
	require.True(t, fired.Load(), "the hook ran")
	if err != nil {
		t.Logf("the ack returned %v", err)
		require.True(t, duroxide.IsRetryable(err), "a lost connection is retryable: %v", err)
		h, err := p.Read(ctx, "i")
		require.NoError(t, err)
		require.Empty(t, h, "nothing of the failed ack was written")
		require.NoError(t, p.RenewOrchestrationItemLock(ctx, item.LockToken, 30*time.Second), "the lock is still held")
		require.NoError(t, p.AckOrchestrationItem(ctx, item.LockToken, ack), "the same ack again")
	} else {
		t.Log("the ack retried on a fresh connection and committed")
	}
	h, err := p.Read(ctx, "i")
	require.NoError(t, err)
	require.Len(t, h, 2, "the turn is in history once")
	w, err := p.FetchWorkItem(ctx, 30*time.Second, 0, nil, duroxide.FilterDefaultOnly())
	require.NoError(t, err)
	require.NotNil(t, w)
	w2, err := p.FetchWorkItem(ctx, 30*time.Second, 0, nil, duroxide.FilterDefaultOnly())
	require.NoError(t, err)
	require.Nil(t, w2, "the worker item was enqueued once")
	next, err := p.FetchOrchestrationItem(ctx, 30*time.Second, 0, nil)
	require.NoError(t, err)
	require.Nil(t, next, "the batch was consumed and the lock released")
}
