package pgprovider

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/duroxide-go/duroxide"
)

// TestNoDeadlocksUnderContention runs orchestration turns that message each
// other's instances, schedule and cancel activities, and worker cycles with
// sessions, from 8 dispatchers on few instances, on the database's clock.
// Every call must succeed, and no transaction may have needed a retry: the
// lock order leaves no cycle for PostgreSQL's deadlock detector to break
// (the naive design deadlocks within a second at 8 connections).
func TestNoDeadlocksUnderContention(t *testing.T) {
	pl := testPool(t)
	_ = pl
	p := freshProvider(t, t)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	const instances, dispatchers = 6, 8
	turns := 60
	if testing.Short() {
		turns = 15
	}
	inst := func(i int) string { return fmt.Sprintf("dl-%d", i%instances) }
	for i := range instances {
		require.NoError(t, p.EnqueueForOrchestrator(ctx, duroxide.StartOrchestrationItem{
			Instance: inst(i), Orchestration: "O", Input: "{}"}, 0))
	}
	session := func(i int) *string { s := fmt.Sprintf("s-%d", i%3); return &s }
	var wg sync.WaitGroup
	errs := make(chan error, 2*dispatchers)
	for d := range dispatchers {
		wg.Go(func() {
			for n := 0; n < turns; {
				item, err := p.FetchOrchestrationItem(ctx, 30*time.Second, 0, nil)
				if err != nil {
					errs <- fmt.Errorf("fetch: %w", err)
					return
				}
				if item == nil {
					// Keep work flowing: poke an instance.
					if err := p.EnqueueForOrchestrator(ctx, duroxide.ExternalRaisedItem{Instance: inst(d + n), Name: "poke", Data: "x"}, 0); err != nil {
						errs <- fmt.Errorf("enqueue: %w", err)
						return
					}
					continue
				}
				n++
				exec := item.ExecutionID
				if exec == 0 {
					exec = 1
				}
				next := uint64(len(item.History)) + 1
				name, version := "O", "1.0.0"
				act := duroxide.ActivityExecuteItem{Instance: item.Instance, ExecutionID: exec, ID: next, Name: "A", Input: "i"}
				if n%2 == 0 {
					act.SessionID = session(n)
				}
				ack := duroxide.OrchestrationAck{
					ExecutionID:  exec,
					HistoryDelta: []duroxide.Event{{EventID: next, InstanceID: item.Instance, ExecutionID: exec, Kind: duroxide.ActivityScheduled{Name: "A", Input: "i"}}},
					WorkerItems:  []duroxide.WorkItem{act},
					OrchestratorItems: []duroxide.WorkItem{
						duroxide.ExternalRaisedItem{Instance: inst(d + n + 1), Name: "e", Data: "d"},
						duroxide.ExternalRaisedItem{Instance: inst(d + n + 2), Name: "e", Data: "d"},
						duroxide.ExternalRaisedItem{Instance: fmt.Sprintf("dl-new-%d-%d", d, n), Name: "e", Data: "d"},
					},
					CancelledActivities: []duroxide.ScheduledActivityIdentifier{{Instance: item.Instance, ExecutionID: exec, ActivityID: next - 1}},
					Metadata:            duroxide.ExecutionMetadata{OrchestrationName: &name, OrchestrationVersion: &version},
				}
				if err := p.AckOrchestrationItem(ctx, item.LockToken, ack); err != nil {
					errs <- fmt.Errorf("ack: %w", err)
					return
				}
			}
		})
		wg.Go(func() {
			cfg := &duroxide.SessionFetchConfig{OwnerID: fmt.Sprintf("w%d", d%2), LockTimeout: 30 * time.Second}
			for range turns {
				w, err := p.FetchWorkItem(ctx, 30*time.Second, 0, cfg, duroxide.FilterAny())
				if err != nil {
					errs <- fmt.Errorf("fetch work: %w", err)
					return
				}
				if w == nil {
					continue
				}
				a := w.Item.(duroxide.ActivityExecuteItem)
				err = p.AckWorkItem(ctx, w.LockToken, duroxide.ActivityCompletedItem{Instance: a.Instance, ExecutionID: a.ExecutionID, ID: a.ID, Result: "r"})
				if err != nil && !duroxide.IsRetryable(err) {
					continue // cancelled by an ack meanwhile: an invalid token is expected
				}
				if err != nil {
					errs <- fmt.Errorf("ack work: %w", err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	require.Zero(t, p.retried.Load(), "transactions retried after a deadlock, serialization failure or stale plan")
}
