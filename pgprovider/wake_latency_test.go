package pgprovider_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/duroxide-go/duroxide"
	"github.com/duroxide-go/duroxide/internal/pgharness"
	"github.com/duroxide-go/duroxide/pgprovider"
)

// BenchmarkLongPollWake measures how long a fetch that is already waiting
// (long polling, LISTEN/NOTIFY) takes to return after an enqueue commits:
// each op is one enqueue, timed from the enqueue's return to the waiting
// fetch's return, then an ack that ends the instance's turn. It reports the
// median and the 99th percentile over the run (target p99 ≤ 5 ms):
//
//	.ci/pg go test ./pgprovider -run '^$' -bench LongPollWake -benchtime 1000x
func BenchmarkLongPollWake(b *testing.B) {
	pool := pgprovider.TestPool(b)
	p := pgharness.NewProvider(b, pool)
	ctx := context.Background()
	type got struct {
		item *duroxide.LockedOrchestrationItem
		err  error
		at   time.Time
	}
	lat := make([]time.Duration, 0, b.N)
	for i := 0; b.Loop(); i++ {
		inst := fmt.Sprint("wake-", i)
		res := make(chan got, 1)
		go func() {
			it, err := p.FetchOrchestrationItem(ctx, 30*time.Second, 10*time.Second, nil)
			res <- got{it, err, time.Now()}
		}()
		time.Sleep(2 * time.Millisecond) // let the fetch find nothing and wait
		require.NoError(b, p.EnqueueForOrchestrator(ctx, duroxide.StartOrchestrationItem{Instance: inst, Orchestration: "O", ExecutionID: 1}, 0))
		enqueued := time.Now()
		r := <-res
		require.NoError(b, r.err)
		require.NotNil(b, r.item, "the waiting fetch returned without work")
		lat = append(lat, r.at.Sub(enqueued))
		require.NoError(b, p.AckOrchestrationItem(ctx, r.item.LockToken, duroxide.OrchestrationAck{ExecutionID: 1}))
	}
	slices.Sort(lat)
	pct := func(q float64) time.Duration { return lat[min(len(lat)-1, int(q*float64(len(lat))))] }
	b.ReportMetric(float64(pct(0.5).Microseconds()), "p50-µs")
	b.ReportMetric(float64(pct(0.99).Microseconds()), "p99-µs")
	b.ReportMetric(float64(lat[len(lat)-1].Microseconds()), "max-µs")
}
