package client_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/duroxide-go/duroxide"
	"github.com/duroxide-go/duroxide/client"
	"github.com/duroxide-go/duroxide/memprovider"
)

// BenchmarkStart measures a start on memprovider: validation plus one
// enqueue.
func BenchmarkStart(b *testing.B) {
	c, err := client.New(memprovider.New())
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	ids := make([]string, b.N)
	for i := range ids {
		ids[i] = "i" + strconv.Itoa(i)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if err := c.Start(ctx, ids[i], "Greet", `"world"`); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGetStatus measures the status of a completed instance with a
// custom status on memprovider: two provider reads and the derivation.
func BenchmarkGetStatus(b *testing.B) {
	h := newHarness(b)
	if err := h.c.Start(h.ctx, "i1", "Greet", ""); err != nil {
		b.Fatal(err)
	}
	h.start("i1")
	h.setCustomStatus("i1", ptr("working"))
	h.complete("i1", `"done"`)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		st, err := h.c.GetStatus(h.ctx, "i1")
		if err != nil || st.State != client.StateCompleted {
			b.Fatal(st, err)
		}
	}
}

// BenchmarkWaitForFinished measures a wait on an instance that has already
// finished: one poll, no timer.
func BenchmarkWaitForFinished(b *testing.B) {
	h := newHarness(b)
	if err := h.c.Start(h.ctx, "i1", "Greet", ""); err != nil {
		b.Fatal(err)
	}
	h.start("i1")
	h.complete("i1", `"done"`)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if _, err := h.c.WaitForOrchestration(h.ctx, "i1", time.Minute); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkProviderEnqueueStart is the provider's part of BenchmarkStart:
// the same enqueue without the client.
func BenchmarkProviderEnqueueStart(b *testing.B) {
	p := memprovider.New()
	ctx := context.Background()
	ids := make([]string, b.N)
	for i := range ids {
		ids[i] = "i" + strconv.Itoa(i)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if err := p.EnqueueForOrchestrator(ctx, duroxide.StartOrchestrationItem{Instance: ids[i], Orchestration: "Greet", Input: `"world"`, ExecutionID: 1}, 0); err != nil {
			b.Fatal(err)
		}
	}
}
