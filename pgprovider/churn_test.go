package pgprovider

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/duroxide-go/duroxide"
)

// TestFetchUnderChurnFindsWork: 4 workers cycle 64 items (fetch, enqueue a
// copy, ack), so at every instant some 60 items are free, and no fetch may
// come back empty. A candidate query's snapshot can be entirely taken or
// deleted by the time it locks a row while newer rows wait; before the
// fetch re-checked in a fresh snapshot, about one run in four failed here
// (on a loaded 2-core machine), as spec.Bench's Parallel/WorkerCycle did.
func TestFetchUnderChurnFindsWork(t *testing.T) {
	p := freshProvider(t, t)
	ctx := t.Context()
	for i := range 64 {
		require.NoError(t, p.EnqueueForWorker(ctx, duroxide.ActivityExecuteItem{Instance: "churn", ExecutionID: 1, ID: uint64(i + 1), Name: "A"}))
	}
	cycles := 300
	if testing.Short() {
		cycles = 100
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range cycles {
				w, err := p.FetchWorkItem(ctx, time.Hour, 0, nil, duroxide.FilterDefaultOnly())
				if !assert.NoError(t, err) || !assert.NotNil(t, w, "a fetch found no work among some 60 free items") {
					return
				}
				a := w.Item.(duroxide.ActivityExecuteItem)
				if !assert.NoError(t, p.EnqueueForWorker(ctx, a)) {
					return
				}
				if !assert.NoError(t, p.AckWorkItem(ctx, w.LockToken, duroxide.ActivityCompletedItem{Instance: a.Instance, ExecutionID: 1, ID: a.ID})) {
					return
				}
			}
		})
	}
	wg.Wait()
}
