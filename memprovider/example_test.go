package memprovider_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/duroxide-go/duroxide"
	"github.com/duroxide-go/duroxide/fakeclock"
	"github.com/duroxide-go/duroxide/memprovider"
)

// A runtime author's unit test drives one orchestration through the
// provider by hand, on a fake clock: start, a turn that schedules an
// activity, the worker running it, the turn that receives its result, and a
// lock that expires because the dispatcher stalled.
func ExampleNew() {
	ctx := context.Background()
	clock := fakeclock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	p := memprovider.New(memprovider.WithClock(clock))

	// A client starts an orchestration. Enqueuing creates no instance yet.
	name, version := "ProcessOrder", "1.0.0"
	start := duroxide.StartOrchestrationItem{Instance: "order-1", Orchestration: name, Input: `{"id":1}`, Version: &version, ExecutionID: 1}
	if err := p.EnqueueForOrchestrator(ctx, start, 0); err != nil {
		log.Fatal(err)
	}

	// The orchestration dispatcher fetches the turn, locking the instance.
	turn, err := p.FetchOrchestrationItem(ctx, 30*time.Second, 0, nil)
	if err != nil || turn == nil {
		log.Fatal("fetch: ", err)
	}
	fmt.Printf("turn 1: %s %s@%s, %d message, %d events, attempt %d\n",
		turn.Instance, turn.OrchestrationName, turn.Version, len(turn.Messages), len(turn.History), turn.AttemptCount)

	// It acks the turn: the history it produced, an activity for the
	// workers, and metadata that creates the instance record.
	event := func(id uint64, kind duroxide.EventKind) duroxide.Event {
		return duroxide.Event{EventID: id, InstanceID: "order-1", ExecutionID: 1, DuroxideVersion: "0.1.26", Kind: kind}
	}
	err = p.AckOrchestrationItem(ctx, turn.LockToken, duroxide.OrchestrationAck{
		ExecutionID: 1,
		HistoryDelta: []duroxide.Event{
			event(1, duroxide.OrchestrationStarted{Name: name, Version: version, Input: `{"id":1}`}),
			event(2, duroxide.ActivityScheduled{Name: "Charge", Input: `{"amount":5}`}),
		},
		WorkerItems: []duroxide.WorkItem{
			duroxide.ActivityExecuteItem{Instance: "order-1", ExecutionID: 1, ID: 2, Name: "Charge", Input: `{"amount":5}`},
		},
		Metadata: duroxide.ExecutionMetadata{OrchestrationName: &name, OrchestrationVersion: &version},
	})
	if err != nil {
		log.Fatal(err)
	}

	// A worker runs the activity and acks it with its completion, which goes
	// to the orchestrator queue in the same step.
	work, err := p.FetchWorkItem(ctx, 30*time.Second, 0, nil, duroxide.FilterDefaultOnly())
	if err != nil || work == nil {
		log.Fatal("fetch work: ", err)
	}
	act := work.Item.(duroxide.ActivityExecuteItem)
	fmt.Printf("worker: %s #%d, attempt %d\n", act.Name, act.ID, work.AttemptCount)
	err = p.AckWorkItem(ctx, work.LockToken, duroxide.ActivityCompletedItem{Instance: act.Instance, ExecutionID: act.ExecutionID, ID: act.ID, Result: `"charged"`})
	if err != nil {
		log.Fatal(err)
	}

	// The completion is the next turn, replayed on the history so far.
	turn, err = p.FetchOrchestrationItem(ctx, 30*time.Second, 0, nil)
	if err != nil || turn == nil {
		log.Fatal("fetch: ", err)
	}
	done := turn.Messages[0].(duroxide.ActivityCompletedItem)
	fmt.Printf("turn 2: %s of #%d = %s, %d events of history\n", done.Variant(), done.ID, done.Result, len(turn.History))

	// The dispatcher stalls past its lock: its ack is refused and the same
	// turn is delivered again, with its attempt counted.
	if err := clock.Advance(31 * time.Second); err != nil {
		log.Fatal(err)
	}
	err = p.AckOrchestrationItem(ctx, turn.LockToken, duroxide.OrchestrationAck{ExecutionID: 1})
	fmt.Println("late ack refused:", errors.Is(err, duroxide.ErrLockExpired))
	again, err := p.FetchOrchestrationItem(ctx, 30*time.Second, 0, nil)
	if err != nil || again == nil {
		log.Fatal("fetch: ", err)
	}
	fmt.Printf("redelivered: %s, attempt %d\n", again.Messages[0].Variant(), again.AttemptCount)

	// Output:
	// turn 1: order-1 ProcessOrder@1.0.0, 1 message, 0 events, attempt 1
	// worker: Charge #2, attempt 1
	// turn 2: ActivityCompleted of #2 = "charged", 2 events of history
	// late ack refused: true
	// redelivered: ActivityCompleted, attempt 2
}

// With short polling, fetches ignore their poll timeout and answer at once
// when there is no work, even on a fake clock that nobody advances.
func ExampleWithShortPolling() {
	ctx := context.Background()
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := fakeclock.NewFake(start)
	p := memprovider.New(memprovider.WithClock(clock), memprovider.WithShortPolling())

	item, err := p.FetchOrchestrationItem(ctx, 30*time.Second, time.Minute, nil)
	fmt.Println("orchestration work:", item != nil, "error:", err)
	work, err := p.FetchWorkItem(ctx, 30*time.Second, time.Minute, nil, duroxide.FilterAny())
	fmt.Println("activity work:", work != nil, "error:", err)
	fmt.Println("clock moved:", clock.Now().Sub(start), "timers armed:", clock.Waiters())

	// Output:
	// orchestration work: false error: <nil>
	// activity work: false error: <nil>
	// clock moved: 0s timers armed: 0
}

// A dispatcher long-polls on the fake clock. The test waits until the poll
// is parked on the clock (BlockUntilWaiters), then either enqueues work,
// which wakes it at once, or advances the clock past the poll timeout. A
// long poll on a fake clock returns only when work arrives, its context ends
// or the clock passes its poll timeout: called from the test's only
// goroutine, it blocks forever. Receiving with a real-time guard, whose
// message prints the clock (its time and pending timers), makes that
// mistake easy to see.
func ExampleProvider_FetchOrchestrationItem_longPoll() {
	ctx := context.Background()
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := fakeclock.NewFake(start)
	p := memprovider.New(memprovider.WithClock(clock))

	fetched := make(chan *duroxide.LockedOrchestrationItem)
	longPoll := func() {
		go func() {
			item, err := p.FetchOrchestrationItem(ctx, 30*time.Second, time.Minute, nil)
			if err != nil {
				log.Fatal(err)
			}
			fetched <- item
		}()
	}

	receive := func() *duroxide.LockedOrchestrationItem {
		select {
		case item := <-fetched:
			return item
		case <-time.After(10 * time.Second):
			log.Fatalf("the long poll has not returned after 10s of real time (%v): "+
				"advance the clock past its poll timeout, or enqueue work", clock)
			return nil
		}
	}

	// Work arrives while the dispatcher waits.
	longPoll()
	if err := clock.BlockUntilWaiters(ctx, 1); err != nil {
		log.Fatal(err)
	}
	version := "1.0.0"
	if err := p.EnqueueForOrchestrator(ctx, duroxide.StartOrchestrationItem{Instance: "order-1", Orchestration: "ProcessOrder", Version: &version, ExecutionID: 1}, 0); err != nil {
		log.Fatal(err)
	}
	item := receive()
	fmt.Println("woken by enqueue:", item.Instance, "after", clock.Now().Sub(start))
	name := "ProcessOrder"
	err := p.AckOrchestrationItem(ctx, item.LockToken, duroxide.OrchestrationAck{
		ExecutionID: 1,
		HistoryDelta: []duroxide.Event{{EventID: 1, InstanceID: "order-1", ExecutionID: 1, DuroxideVersion: "0.1.26",
			Kind: duroxide.OrchestrationStarted{Name: name, Version: version}}},
		Metadata: duroxide.ExecutionMetadata{OrchestrationName: &name, OrchestrationVersion: &version},
	})
	if err != nil {
		log.Fatal(err)
	}

	// Nothing arrives: the poll returns no work when its timeout passes.
	longPoll()
	if err := clock.BlockUntilWaiters(ctx, 1); err != nil {
		log.Fatal(err)
	}
	if err := clock.Advance(time.Minute); err != nil {
		log.Fatal(err)
	}
	item = receive()
	fmt.Println("timed out:", item == nil, "after", clock.Now().Sub(start))
	fmt.Println("timers left:", clock.Waiters())

	// Output:
	// woken by enqueue: order-1 after 0s
	// timed out: true after 1m0s
	// timers left: 0
}
