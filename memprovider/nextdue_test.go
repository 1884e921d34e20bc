package memprovider_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/duroxide-go/duroxide"
	"github.com/duroxide-go/duroxide/fakeclock"
	"github.com/duroxide-go/duroxide/memprovider"
)

func TestNextDue(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	ctx := context.Background()
	start1 := func(id string) duroxide.WorkItem {
		return duroxide.StartOrchestrationItem{Instance: id, Orchestration: "O", ExecutionID: 1}
	}
	tests := []struct {
		name  string
		setup func(t *testing.T, p *memprovider.Provider)
		want  time.Duration // after start; negative means nothing pending
	}{
		{"empty", func(*testing.T, *memprovider.Provider) {}, -1},
		{"visible message is not pending", func(t *testing.T, p *memprovider.Provider) {
			require.NoError(t, p.EnqueueForOrchestrator(ctx, start1("a"), 0))
		}, -1},
		{"earliest delayed message", func(t *testing.T, p *memprovider.Provider) {
			require.NoError(t, p.EnqueueForOrchestrator(ctx, start1("a"), time.Hour))
			require.NoError(t, p.EnqueueForOrchestrator(ctx, start1("b"), time.Minute))
		}, time.Minute},
		{"instance lock expiry", func(t *testing.T, p *memprovider.Provider) {
			require.NoError(t, p.EnqueueForOrchestrator(ctx, start1("a"), 0))
			li, err := p.FetchOrchestrationItem(ctx, 5*time.Second, 0, nil)
			require.NoError(t, err)
			require.NotNil(t, li)
		}, 5 * time.Second},
		{"abandoned with delay", func(t *testing.T, p *memprovider.Provider) {
			require.NoError(t, p.EnqueueForOrchestrator(ctx, start1("a"), 0))
			li, err := p.FetchOrchestrationItem(ctx, 5*time.Second, 0, nil)
			require.NoError(t, err)
			require.NoError(t, p.AbandonOrchestrationItem(ctx, li.LockToken, 3*time.Second, false))
		}, 3 * time.Second},
		{"worker lock expiry", func(t *testing.T, p *memprovider.Provider) {
			require.NoError(t, p.EnqueueForWorker(ctx, duroxide.ActivityExecuteItem{Instance: "a", ExecutionID: 1, ID: 2, Name: "A"}))
			li, err := p.FetchWorkItem(ctx, 7*time.Second, 0, nil, duroxide.FilterDefaultOnly())
			require.NoError(t, err)
			require.NotNil(t, li)
		}, 7 * time.Second},
		{"worker item abandoned with delay", func(t *testing.T, p *memprovider.Provider) {
			require.NoError(t, p.EnqueueForWorker(ctx, duroxide.ActivityExecuteItem{Instance: "a", ExecutionID: 1, ID: 2, Name: "A"}))
			li, err := p.FetchWorkItem(ctx, 7*time.Second, 0, nil, duroxide.FilterDefaultOnly())
			require.NoError(t, err)
			require.NoError(t, p.AbandonWorkItem(ctx, li.LockToken, 2*time.Second, false))
		}, 2 * time.Second},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clock := fakeclock.NewFake(start)
			p := memprovider.New(memprovider.WithClock(clock))
			tc.setup(t, p)
			at, ok := p.NextDue()
			if tc.want < 0 {
				require.False(t, ok, "pending at %v", at)
				return
			}
			require.True(t, ok)
			require.Equal(t, start.Add(tc.want), at.UTC())
		})
	}
}
