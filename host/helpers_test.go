package host_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/duroxide-go/duroxide/client"
	"github.com/duroxide-go/duroxide/fakeclock"
	"github.com/duroxide-go/duroxide/host"
	"github.com/duroxide-go/duroxide/memprovider"
)

var epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// quiet drops the runtime's logs (warnings are expected in these tests).
var quiet = slog.New(slog.DiscardHandler)

// stepEnv is a runtime on memprovider and a fake clock driven by Step.
type stepEnv struct {
	t     *testing.T
	clock *fakeclock.Fake
	p     *memprovider.Provider
	rt    *host.Runtime
	c     *client.Client
}

func newStepEnv(t *testing.T, reg *host.Registry, opts host.Options) *stepEnv {
	t.Helper()
	clock := fakeclock.NewFake(epoch)
	p := memprovider.New(memprovider.WithClock(clock))
	opts.Clock = clock
	if opts.Logger == nil {
		opts.Logger = quiet
	}
	rt, err := host.New(p, reg, opts)
	require.NoError(t, err)
	c, err := client.New(p, client.WithClock(clock))
	require.NoError(t, err)
	return &stepEnv{t: t, clock: clock, p: p, rt: rt, c: c}
}

// drain steps both dispatchers until neither finds work.
func (e *stepEnv) drain() {
	e.t.Helper()
	ctx := context.Background()
	for range 10000 {
		o, err := e.rt.StepOrchestration(ctx)
		require.NoError(e.t, err)
		w, err := e.rt.StepWorker(ctx)
		require.NoError(e.t, err)
		if !o && !w {
			return
		}
	}
	e.t.Fatal("drain: still busy after 10000 steps")
}

// runFor drains, advancing the clock by step between drains, n times.
func (e *stepEnv) runFor(step time.Duration, n int) {
	e.t.Helper()
	for range n {
		e.drain()
		require.NoError(e.t, e.clock.Advance(step))
	}
	e.drain()
}

func (e *stepEnv) status(instance string) client.Status {
	e.t.Helper()
	st, err := e.c.GetStatus(context.Background(), instance)
	require.NoError(e.t, err)
	return st
}

func mustRegister(t testing.TB, err error) {
	t.Helper()
	require.NoError(t, err)
}
