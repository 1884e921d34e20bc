package client_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/duroxide-go/duroxide"
	"github.com/duroxide-go/duroxide/client"
	"github.com/duroxide-go/duroxide/fakeclock"
	"github.com/duroxide-go/duroxide/memprovider"
)

// fakeRuntime stands in for a runtime in the examples: it takes the next
// orchestration turn from the provider and finishes the instance with
// output in that one turn, as a runtime running an orchestration that
// returns at once would.
func fakeRuntime(ctx context.Context, p duroxide.Provider, output string) {
	item, err := p.FetchOrchestrationItem(ctx, time.Minute, 0, nil)
	if err != nil || item == nil {
		log.Fatal("nothing to run: ", err)
	}
	start := item.Messages[0].(duroxide.StartOrchestrationItem)
	version := "1.0.0"
	event := func(id uint64, kind duroxide.EventKind) duroxide.Event {
		return duroxide.Event{EventID: id, InstanceID: item.Instance, ExecutionID: 1, DuroxideVersion: "0.1.26", Kind: kind}
	}
	err = p.AckOrchestrationItem(ctx, item.LockToken, duroxide.OrchestrationAck{
		ExecutionID: 1,
		HistoryDelta: []duroxide.Event{
			event(1, duroxide.OrchestrationStarted{Name: start.Orchestration, Version: version, Input: start.Input}),
			event(2, duroxide.OrchestrationCompleted{Output: output}),
		},
		Metadata: duroxide.ExecutionMetadata{
			Status: duroxide.StatusCompleted, Output: &output,
			OrchestrationName: &start.Orchestration, OrchestrationVersion: &version,
		},
	})
	if err != nil {
		log.Fatal(err)
	}
}

// Start an instance, wait for it, and decode its output. The client needs
// only the provider; here a stand-in plays the runtime that a real program
// would run in this or another process.
func Example() {
	ctx := context.Background()
	p := memprovider.New()
	c, err := client.New(p)
	if err != nil {
		log.Fatal(err)
	}

	type order struct {
		ID    string `json:"id"`
		Items int    `json:"items"`
	}
	if err := c.StartTyped(ctx, "order-1", "ProcessOrder", order{ID: "o-1", Items: 3}); err != nil {
		log.Fatal(err)
	}
	st, err := c.GetStatus(ctx, "order-1")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("before the runtime's turn:", st.State)

	fakeRuntime(ctx, p, `{"total":42}`)

	type receipt struct {
		Total int `json:"total"`
	}
	r, err := client.Output[receipt](c.WaitForOrchestration(ctx, "order-1", 30*time.Second))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("total:", r.Total)
	// Output:
	// before the runtime's turn: NotFound
	// total: 42
}

// On a fake clock a wait never sleeps: between polls it blocks on one timer
// of the clock, which the test advances once the instance has finished.
func ExampleClient_WaitForOrchestration() {
	ctx := context.Background()
	clock := fakeclock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	p := memprovider.New(memprovider.WithClock(clock))
	c, err := client.New(p, client.WithClock(clock))
	if err != nil {
		log.Fatal(err)
	}
	if err := c.Start(ctx, "greet-1", "Greet", `"world"`); err != nil {
		log.Fatal(err)
	}

	done := make(chan client.Status)
	go func() {
		st, err := c.WaitForOrchestration(ctx, "greet-1", time.Hour)
		if err != nil {
			log.Fatal(err)
		}
		done <- st
	}()

	if err := clock.BlockUntilWaiters(ctx, 1); err != nil { // the first poll found nothing
		log.Fatal(err)
	}
	fakeRuntime(ctx, p, `"hello, world"`)
	clock.AdvanceToNextTimer() // the next poll, 5 ms later on the fake clock

	st := <-done
	fmt.Println(st.State, st.Output)
	// Output: Completed "hello, world"
}

// A delete refused by the provider is matchable with the provider's
// sentinels.
func ExampleClient_DeleteInstance() {
	ctx := context.Background()
	p := memprovider.New()
	c, err := client.New(p)
	if err != nil {
		log.Fatal(err)
	}

	_, err = c.DeleteInstance(ctx, "order-9", false)
	fmt.Println(errors.Is(err, duroxide.ErrNotFound), client.IsRetryable(err))

	if err := c.Start(ctx, "order-9", "ProcessOrder", "{}"); err != nil {
		log.Fatal(err)
	}
	fakeRuntime(ctx, p, "{}")
	res, err := c.DeleteInstance(ctx, "order-9", false)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.InstancesDeleted, "instance,", res.EventsDeleted, "events")
	// Output:
	// true false
	// 1 instance, 2 events
}

// Follow an instance's custom status: pass the last version seen to get the
// next change (or the final status).
func ExampleClient_WaitForStatusChange() {
	ctx := context.Background()
	p := memprovider.New()
	c, err := client.New(p)
	if err != nil {
		log.Fatal(err)
	}
	if err := c.Start(ctx, "job-1", "Job", ""); err != nil {
		log.Fatal(err)
	}
	fakeRuntime(ctx, p, "done")

	var seen uint64
	for {
		st, err := c.WaitForStatusChange(ctx, "job-1", seen, time.Minute)
		if err != nil {
			log.Fatal(err)
		}
		if st.State.IsTerminal() {
			fmt.Println("finished:", st.State, st.Output)
			return
		}
		seen = st.CustomStatusVersion
		if st.CustomStatus != nil { // nil: the orchestration cleared it
			fmt.Println("progress:", *st.CustomStatus)
		}
	}
	// Output: finished: Completed done
}
