package host_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/duroxide-go/duroxide/client"
	"github.com/duroxide-go/duroxide/host"
	"github.com/duroxide-go/duroxide/memprovider"
)

// BenchmarkRunThroughput measures one-activity orchestrations per second
// through the real runtime (Run, real clock, long polling) on memprovider,
// with d orchestration dispatchers and d workers. Each op is one
// orchestration: start, one turn scheduling the activity, the activity, the
// completing turn.
func BenchmarkRunThroughput(b *testing.B) {
	for _, d := range []int{1, 2, 4, 8} {
		b.Run(fmt.Sprintf("dispatchers=%d", d), func(b *testing.B) {
			p := memprovider.New()
			opts := fastOptions()
			opts.OrchestrationConcurrency, opts.WorkerConcurrency = d, d
			rt, err := host.New(p, helloRegistry(b), opts)
			require.NoError(b, err)
			c, err := client.New(p, client.WithPollBackoff(time.Millisecond, 5*time.Millisecond))
			require.NoError(b, err)
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			go func() { _ = rt.Run(ctx); close(done) }()
			defer func() { cancel(); <-done }()
			b.ReportAllocs()
			b.ResetTimer()
			start := time.Now()
			for i := range b.N {
				if err := c.StartTyped(ctx, fmt.Sprint("i", i), "Hello", "x"); err != nil {
					b.Fatal(err)
				}
			}
			for i := range b.N {
				st, err := c.WaitForOrchestration(ctx, fmt.Sprint("i", i), time.Minute)
				if err != nil || st.State != client.StateCompleted {
					b.Fatalf("instance %d: %v %v", i, st.State, err)
				}
			}
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "orch/s")
		})
	}
}
