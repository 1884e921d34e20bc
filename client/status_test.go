package client_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/duroxide-go/duroxide"
	"github.com/duroxide-go/duroxide/client"
	"github.com/duroxide-go/duroxide/memprovider"
)

var boom = duroxide.Application{Kind: duroxide.AppOrchestrationFailed{}, Message: "boom"}

func TestGetStatusDerivesTheStateFromTheLatestExecution(t *testing.T) {
	tests := []struct {
		name string
		play func(h *harness) // the runtime's side, on instance "i1"
		want client.Status
	}{
		{
			"never started",
			func(*harness) {},
			client.Status{Instance: "i1", State: client.StateNotFound},
		},
		{
			"start queued, not processed",
			func(h *harness) { require.NoError(h.t, h.c.Start(h.ctx, "i1", "Greet", "")) },
			client.Status{Instance: "i1", State: client.StateNotFound},
		},
		{
			"started",
			func(h *harness) {
				require.NoError(h.t, h.c.Start(h.ctx, "i1", "Greet", ""))
				h.start("i1")
			},
			client.Status{Instance: "i1", State: client.StateRunning, ExecutionID: 1},
		},
		{
			"completed",
			func(h *harness) {
				require.NoError(h.t, h.c.Start(h.ctx, "i1", "Greet", ""))
				h.start("i1")
				h.complete("i1", `"hello"`)
			},
			client.Status{Instance: "i1", State: client.StateCompleted, ExecutionID: 1, Output: `"hello"`},
		},
		{
			"completed with empty output",
			func(h *harness) {
				require.NoError(h.t, h.c.Start(h.ctx, "i1", "Greet", ""))
				h.start("i1")
				h.complete("i1", "")
			},
			client.Status{Instance: "i1", State: client.StateCompleted, ExecutionID: 1},
		},
		{
			"failed",
			func(h *harness) {
				require.NoError(h.t, h.c.Start(h.ctx, "i1", "Greet", ""))
				h.start("i1")
				h.fail("i1", boom)
			},
			client.Status{Instance: "i1", State: client.StateFailed, ExecutionID: 1, Failure: boom},
		},
		{
			"started and completed in one turn",
			func(h *harness) {
				require.NoError(h.t, h.c.Start(h.ctx, "i1", "Greet", ""))
				h.turn("i1", func(item *duroxide.LockedOrchestrationItem, ev *events) duroxide.OrchestrationAck {
					md := ev.startFrom(h.t, item)
					ev.add(duroxide.OrchestrationCompleted{Output: "1"})
					md.Status, md.Output = duroxide.StatusCompleted, ptr("1")
					return duroxide.OrchestrationAck{Metadata: md}
				})
			},
			client.Status{Instance: "i1", State: client.StateCompleted, ExecutionID: 1, Output: "1"},
		},
		{
			"between executions of a continue-as-new",
			func(h *harness) {
				require.NoError(h.t, h.c.Start(h.ctx, "i1", "Loop", "0"))
				h.start("i1")
				h.continueAsNew("i1", "Loop", "1")
			},
			client.Status{Instance: "i1", State: client.StateRunning, ExecutionID: 1},
		},
		{
			"second execution running",
			func(h *harness) {
				require.NoError(h.t, h.c.Start(h.ctx, "i1", "Loop", "0"))
				h.start("i1")
				h.continueAsNew("i1", "Loop", "1")
				h.startNext("i1")
			},
			client.Status{Instance: "i1", State: client.StateRunning, ExecutionID: 2},
		},
		{
			"second execution completed",
			func(h *harness) {
				require.NoError(h.t, h.c.Start(h.ctx, "i1", "Loop", "0"))
				h.start("i1")
				h.continueAsNew("i1", "Loop", "1")
				h.startNext("i1")
				h.complete("i1", "done")
			},
			client.Status{Instance: "i1", State: client.StateCompleted, ExecutionID: 2, Output: "done"},
		},
		{
			"custom status set",
			func(h *harness) {
				require.NoError(h.t, h.c.Start(h.ctx, "i1", "Greet", ""))
				h.start("i1")
				h.setCustomStatus("i1", ptr("step 1"))
				h.setCustomStatus("i1", ptr("step 2"))
			},
			client.Status{Instance: "i1", State: client.StateRunning, ExecutionID: 1, CustomStatus: ptr("step 2"), CustomStatusVersion: 2},
		},
		{
			"custom status cleared, then completed",
			func(h *harness) {
				require.NoError(h.t, h.c.Start(h.ctx, "i1", "Greet", ""))
				h.start("i1")
				h.setCustomStatus("i1", ptr("step 1"))
				h.setCustomStatus("i1", nil)
				h.complete("i1", "x")
			},
			client.Status{Instance: "i1", State: client.StateCompleted, ExecutionID: 1, Output: "x", CustomStatusVersion: 2},
		},
		{
			"deleted",
			func(h *harness) {
				require.NoError(h.t, h.c.Start(h.ctx, "i1", "Greet", ""))
				h.start("i1")
				h.complete("i1", "x")
				_, err := h.c.DeleteInstance(h.ctx, "i1", false)
				require.NoError(h.t, err)
			},
			client.Status{Instance: "i1", State: client.StateNotFound},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			tt.play(h)
			got, err := h.c.GetStatus(h.ctx, "i1")
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
			require.Equal(t, tt.want.State.IsTerminal(), got.State == client.StateCompleted || got.State == client.StateFailed)
		})
	}
}

func TestGetStatusErrors(t *testing.T) {
	t.Run("empty instance", func(t *testing.T) {
		h := newHarness(t)
		_, err := h.c.GetStatus(h.ctx, "")
		require.ErrorIs(t, err, client.ErrInvalidInput)
	})
	for _, method := range []string{"Read", "GetCustomStatus"} {
		t.Run(method+" fails", func(t *testing.T) {
			cause := duroxide.Retryable("x", duroxide.ErrUnavailable, "busy")
			p := &faultyProvider{Provider: memprovider.New(), errs: map[string]error{method: cause}}
			c, err := client.New(p)
			require.NoError(t, err)
			_, err = c.GetStatus(context.Background(), "i1")
			require.ErrorIs(t, err, duroxide.ErrUnavailable)
			require.True(t, client.IsRetryable(err))
			var ce *client.Error
			require.ErrorAs(t, err, &ce)
			require.Equal(t, "get_status", ce.Op)
		})
	}
}

func TestStatusErr(t *testing.T) {
	require.NoError(t, client.Status{State: client.StateCompleted}.Err())
	require.NoError(t, client.Status{State: client.StateRunning}.Err())
	require.NoError(t, client.Status{State: client.StateNotFound}.Err())
	err := client.Status{Instance: "i1", State: client.StateFailed, Failure: boom}.Err()
	var fe *client.FailedError
	require.ErrorAs(t, err, &fe)
	require.Equal(t, "i1", fe.Instance)
	require.Equal(t, boom, fe.Details)
	require.EqualError(t, err, `orchestration "i1" failed: `+boom.DisplayMessage())
	require.EqualError(t, &client.FailedError{Instance: "i1"}, `orchestration "i1" failed: <no details>`)
}

func TestOutput(t *testing.T) {
	type order struct {
		Total int `json:"total"`
	}
	provider := duroxide.Retryable("read", duroxide.ErrUnavailable, "busy")
	tests := []struct {
		name    string
		st      client.Status
		err     error
		want    order
		wantErr error
	}{
		{"completed", client.Status{State: client.StateCompleted, Output: `{"total":42}`}, nil, order{42}, nil},
		{"bad JSON", client.Status{State: client.StateCompleted, Output: `{"total":`}, nil, order{}, client.ErrDecode},
		{"wrong type", client.Status{State: client.StateCompleted, Output: `"text"`}, nil, order{}, client.ErrDecode},
		{"empty output", client.Status{State: client.StateCompleted, Output: ``}, nil, order{}, client.ErrDecode},
		{"running", client.Status{State: client.StateRunning}, nil, order{}, client.ErrNotTerminal},
		{"not found", client.Status{State: client.StateNotFound}, nil, order{}, client.ErrNotTerminal},
		{"wait error passes through", client.Status{State: client.StateCompleted, Output: `{"total":1}`}, provider, order{}, duroxide.ErrUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := client.Output[order](tt.st, tt.err)
			require.Equal(t, tt.want, got)
			if tt.wantErr == nil {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, tt.wantErr)
		})
	}
	t.Run("failed", func(t *testing.T) {
		_, err := client.Output[order](client.Status{Instance: "i1", State: client.StateFailed, Failure: boom}, nil)
		var fe *client.FailedError
		require.ErrorAs(t, err, &fe)
		require.Equal(t, boom, fe.Details)
	})
}

// finishes is how a test ends an instance while a wait polls it.
var finishes = []struct {
	name string
	end  func(h *harness)
	want client.State
}{
	{"completes", func(h *harness) { h.complete("i1", `"done"`) }, client.StateCompleted},
	{"fails", func(h *harness) { h.fail("i1", boom) }, client.StateFailed},
}

func TestWaitForOrchestrationReturnsAtOnceWhenFinished(t *testing.T) {
	for _, f := range finishes {
		t.Run(f.name, func(t *testing.T) {
			h := newHarness(t)
			require.NoError(t, h.c.Start(h.ctx, "i1", "Greet", ""))
			h.start("i1")
			f.end(h)
			st, err := h.c.WaitForOrchestration(h.ctx, "i1", time.Minute)
			require.NoError(t, err)
			require.Equal(t, f.want, st.State)
			require.Zero(t, h.clock.Waiters(), "no poll timer armed")
		})
	}
}

// A wait blocks on the fake clock between polls: the test finishes the
// instance while the wait is parked and advances the clock to the next poll.
func TestWaitForOrchestrationSeesTheInstanceFinish(t *testing.T) {
	for _, f := range finishes {
		t.Run(f.name, func(t *testing.T) {
			h := newHarness(t)
			require.NoError(t, h.c.Start(h.ctx, "i1", "Greet", ""))
			wait := async(t, func() (client.Status, error) { return h.c.WaitForOrchestration(h.ctx, "i1", time.Minute) })

			h.waitForPoller() // polled once: NotFound
			h.start("i1")
			require.NoError(t, h.clock.Advance(client.DefaultPollInitial))
			h.waitForPoller() // polled again: Running
			f.end(h)
			require.NoError(t, h.clock.Advance(2*client.DefaultPollInitial))

			st, err := wait()
			require.NoError(t, err)
			require.Equal(t, f.want, st.State)
			require.Equal(t, uint64(1), st.ExecutionID)
			require.Zero(t, h.clock.Waiters())
		})
	}
}

// The wait polls at once, then after 5, 10, 20, 40, 80 ms and every 100 ms,
// and polls a last time at the deadline.
func TestWaitPollsWithBackoffUntilTheDeadline(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		name    string
		opts    []client.Option
		timeout time.Duration
		want    []time.Duration
	}{
		{"default backoff", nil, 400 * ms, []time.Duration{0, 5 * ms, 15 * ms, 35 * ms, 75 * ms, 155 * ms, 255 * ms, 355 * ms, 400 * ms}},
		{"zero timeout polls once", nil, 0, []time.Duration{0}},
		{"deadline before the first interval", nil, 3 * ms, []time.Duration{0, 3 * ms}},
		{"fixed interval", []client.Option{client.WithPollBackoff(time.Second, time.Second)}, 3 * time.Second,
			[]time.Duration{0, time.Second, 2 * time.Second, 3 * time.Second}},
		{"custom backoff", []client.Option{client.WithPollBackoff(ms, 3*ms)}, 10 * ms,
			[]time.Duration{0, ms, 3 * ms, 6 * ms, 9 * ms, 10 * ms}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			rec := &readTimes{Provider: h.p, clock: h.clock}
			c, err := client.New(rec, append([]client.Option{client.WithClock(h.clock)}, tt.opts...)...)
			require.NoError(t, err)

			wait := async(t, func() (client.Status, error) { return c.WaitForOrchestration(h.ctx, "i1", tt.timeout) })
			for range len(tt.want) - 1 {
				h.waitForPoller()
				_, ok := h.clock.AdvanceToNextTimer()
				require.True(t, ok)
			}
			_, err = wait()
			require.ErrorIs(t, err, client.ErrTimeout)
			require.True(t, client.IsRetryable(err))
			require.ErrorContains(t, err, `client: wait_for_orchestration "i1": timed out after `+tt.timeout.String())
			require.Equal(t, tt.want, rec.times())
			require.Zero(t, h.clock.Waiters())
		})
	}
}

func TestWaitEndsWithItsContext(t *testing.T) {
	h := newHarness(t)
	ctx, cancel := context.WithCancel(h.ctx)
	wait := async(t, func() (client.Status, error) { return h.c.WaitForOrchestration(ctx, "i1", time.Hour) })
	h.waitForPoller()
	cancel()
	_, err := wait()
	require.ErrorIs(t, err, context.Canceled)
	require.False(t, client.IsRetryable(err))
	require.Zero(t, h.clock.Waiters(), "the poll timer was stopped")

	_, err = h.c.WaitForOrchestration(ctx, "i1", time.Hour)
	require.ErrorIs(t, err, context.Canceled, "a cancelled context does not even poll")
}

func TestWaitRefusesBadInput(t *testing.T) {
	h := newHarness(t)
	waits := map[string]func(instance string, timeout time.Duration) error{
		"orchestration": func(i string, d time.Duration) error {
			_, err := h.c.WaitForOrchestration(h.ctx, i, d)
			return err
		},
		"status change": func(i string, d time.Duration) error {
			_, err := h.c.WaitForStatusChange(h.ctx, i, 0, d)
			return err
		},
		"kv value": func(i string, d time.Duration) error {
			_, err := h.c.WaitForKVValue(h.ctx, i, "k", d)
			return err
		},
	}
	for name, wait := range waits {
		t.Run(name, func(t *testing.T) {
			require.ErrorIs(t, wait("", time.Second), client.ErrInvalidInput)
			err := wait("i1", -time.Second)
			require.ErrorIs(t, err, client.ErrInvalidInput)
			require.ErrorContains(t, err, "negative timeout")
		})
	}
}

// A provider error ends a wait at once, with the provider's retryability.
func TestWaitStopsOnProviderError(t *testing.T) {
	for _, tt := range []struct {
		err       error
		retryable bool
	}{
		{duroxide.Retryable("read", duroxide.ErrUnavailable, "busy"), true},
		{duroxide.Permanent("read", duroxide.ErrCorruptData, "bad row"), false},
	} {
		p := &faultyProvider{Provider: memprovider.New(), errs: map[string]error{"Read": tt.err}}
		c, err := client.New(p)
		require.NoError(t, err)
		_, err = c.WaitForOrchestration(context.Background(), "i1", time.Hour)
		require.ErrorIs(t, err, tt.err)
		require.Equal(t, tt.retryable, client.IsRetryable(err))
	}
}

func TestWaitForStatusChange(t *testing.T) {
	h := newHarness(t)
	require.NoError(t, h.c.Start(h.ctx, "i1", "Greet", ""))

	// Waiting for the first custom status, before the instance even starts.
	wait := async(t, func() (client.Status, error) { return h.c.WaitForStatusChange(h.ctx, "i1", 0, time.Minute) })
	h.waitForPoller()
	h.start("i1")
	require.NoError(t, h.clock.Advance(client.DefaultPollInitial))
	h.waitForPoller() // Running, version 0: keeps waiting
	h.setCustomStatus("i1", ptr("charging"))
	require.NoError(t, h.clock.Advance(2*client.DefaultPollInitial))
	st, err := wait()
	require.NoError(t, err)
	require.Equal(t, client.StateRunning, st.State)
	require.Equal(t, ptr("charging"), st.CustomStatus)
	require.Equal(t, uint64(1), st.CustomStatusVersion)

	// Already past the version: returns at once.
	h.setCustomStatus("i1", ptr("shipping"))
	st, err = h.c.WaitForStatusChange(h.ctx, "i1", 1, time.Minute)
	require.NoError(t, err)
	require.Equal(t, ptr("shipping"), st.CustomStatus)
	require.Equal(t, uint64(2), st.CustomStatusVersion)

	// No change but the instance finishes: the final status is returned.
	wait = async(t, func() (client.Status, error) { return h.c.WaitForStatusChange(h.ctx, "i1", 2, time.Minute) })
	h.waitForPoller()
	h.complete("i1", "ok")
	require.NoError(t, h.clock.Advance(client.DefaultPollInitial))
	st, err = wait()
	require.NoError(t, err)
	require.Equal(t, client.StateCompleted, st.State)
	require.Equal(t, uint64(2), st.CustomStatusVersion)

	// No change of a running instance: timeout.
	require.NoError(t, h.c.Start(h.ctx, "i2", "Greet", ""))
	h.start("i2")
	wait = async(t, func() (client.Status, error) { return h.c.WaitForStatusChange(h.ctx, "i2", 0, 10*time.Millisecond) })
	for range 2 {
		h.waitForPoller()
		h.clock.AdvanceToNextTimer()
	}
	_, err = wait()
	require.ErrorIs(t, err, client.ErrTimeout)
	var ce *client.Error
	require.ErrorAs(t, err, &ce)
	require.Equal(t, "wait_for_status_change", ce.Op)
	require.Equal(t, "i2", ce.Instance)
}
