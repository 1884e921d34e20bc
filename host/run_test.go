package host_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/duroxide-go/duroxide/client"
	"github.com/duroxide-go/duroxide/host"
	"github.com/duroxide-go/duroxide/memprovider"
	"github.com/duroxide-go/duroxide/orchestration"
)

// running starts rt.Run and returns a stop that shuts it down and waits.
func running(t *testing.T, rt *host.Runtime) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- rt.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				require.NoError(t, err)
			case <-time.After(10 * time.Second):
				t.Error("Run did not return after its context ended")
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

func fastOptions() host.Options {
	return host.Options{OrchestrationConcurrency: 4, WorkerConcurrency: 4, PollTimeout: 50 * time.Millisecond,
		MinPollInterval: time.Millisecond, Logger: quiet}
}

func TestRunCompletesManyOrchestrations(t *testing.T) {
	p := memprovider.New()
	rt, err := host.New(p, helloRegistry(t), fastOptions())
	require.NoError(t, err)
	c, err := client.New(p)
	require.NoError(t, err)
	running(t, rt)
	ctx := context.Background()
	const n = 100
	for i := range n {
		require.NoError(t, c.StartTyped(ctx, fmt.Sprint("i", i), "Hello", fmt.Sprint(i)))
	}
	for i := range n {
		out, err := client.Output[string](c.WaitForOrchestration(ctx, fmt.Sprint("i", i), 10*time.Second))
		require.NoError(t, err)
		require.Equal(t, fmt.Sprintf("Hello, %d!", i), out)
	}
}

func TestRunTwiceFails(t *testing.T) {
	rt, err := host.New(memprovider.New(), host.NewRegistry(), fastOptions())
	require.NoError(t, err)
	stop := running(t, rt)
	stop()
	require.ErrorIs(t, rt.Run(context.Background()), host.ErrAlreadyRunning)
}

func TestRunCancelsAnActivityItsOrchestrationDropped(t *testing.T) {
	cancelled := make(chan error, 1)
	reg := host.NewRegistry()
	mustRegister(t, reg.RegisterActivity("Slow", func(ctx *host.ActivityContext, _ string) (string, error) {
		<-ctx.Done()
		cancelled <- ctx.Err()
		return "", ctx.Err()
	}))
	mustRegister(t, reg.RegisterOrchestration("Race", func(ctx *orchestration.Context, _ string) (string, error) {
		slow := ctx.ScheduleActivity("Slow", "")
		timer := ctx.ScheduleTimer(50 * time.Millisecond)
		if orchestration.Select(slow, timer) == 1 {
			return "timer", nil // slow is dropped: its activity is cancelled
		}
		return "activity", nil
	}))
	p := memprovider.New()
	opts := fastOptions()
	opts.WorkerLockTimeout = 100 * time.Millisecond // renewal (every 50 ms) notices the cancellation
	rt, err := host.New(p, reg, opts)
	require.NoError(t, err)
	c, err := client.New(p)
	require.NoError(t, err)
	running(t, rt)
	require.NoError(t, c.Start(context.Background(), "i", "Race", ""))
	st, err := c.WaitForOrchestration(context.Background(), "i", 10*time.Second)
	require.NoError(t, err)
	require.Equal(t, "timer", st.Output)
	select {
	case err := <-cancelled:
		require.ErrorIs(t, err, context.Canceled)
	case <-time.After(10 * time.Second):
		t.Fatal("the dropped activity's context was never cancelled")
	}
}

func TestRunRenewsTheLockOfALongTurn(t *testing.T) {
	var fresh atomic.Int32
	reg := host.NewRegistry()
	mustRegister(t, reg.RegisterOrchestration("Slow", func(ctx *orchestration.Context, _ string) (string, error) {
		if !ctx.IsReplaying() {
			fresh.Add(1)
		}
		time.Sleep(300 * time.Millisecond) // longer than the lock: renewal must keep it
		return "ok", nil
	}))
	p := memprovider.New()
	opts := fastOptions()
	opts.OrchestrationLockTimeout = 100 * time.Millisecond
	rt, err := host.New(p, reg, opts)
	require.NoError(t, err)
	c, err := client.New(p)
	require.NoError(t, err)
	running(t, rt)
	require.NoError(t, c.Start(context.Background(), "i", "Slow", ""))
	st, err := c.WaitForOrchestration(context.Background(), "i", 10*time.Second)
	require.NoError(t, err)
	require.Equal(t, "ok", st.Output)
	require.Equal(t, int32(1), fresh.Load(), "the turn ran once: no other dispatcher took the instance")
}

func TestShutdownHandsAnInterruptedActivityToAnotherRuntime(t *testing.T) {
	started := make(chan struct{})
	var attempts []uint32
	var mu sync.Mutex
	reg := host.NewRegistry()
	mustRegister(t, reg.RegisterActivity("Job", func(ctx *host.ActivityContext, _ string) (string, error) {
		mu.Lock()
		attempts = append(attempts, ctx.Attempt())
		first := len(attempts) == 1
		mu.Unlock()
		if first {
			close(started)
			<-ctx.Done() // interrupted by shutdown
			return "", errors.New("interrupted")
		}
		return "finished", nil
	}))
	mustRegister(t, reg.RegisterOrchestration("O", func(ctx *orchestration.Context, _ string) (string, error) {
		return ctx.ScheduleActivity("Job", "").Get()
	}))
	p := memprovider.New()
	c, err := client.New(p)
	require.NoError(t, err)
	first, err := host.New(p, reg, fastOptions())
	require.NoError(t, err)
	stop := running(t, first)
	require.NoError(t, c.Start(context.Background(), "i", "O", ""))
	<-started
	stop()

	second, err := host.New(p, reg, fastOptions())
	require.NoError(t, err)
	running(t, second)
	st, err := c.WaitForOrchestration(context.Background(), "i", 10*time.Second)
	require.NoError(t, err)
	require.Equal(t, "finished", st.Output, "the failure during shutdown was not recorded")
	mu.Lock()
	defer mu.Unlock()
	require.Equal(t, []uint32{1, 1}, attempts, "abandoned without counting the interrupted attempt")
}
