package client_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/duroxide-go/duroxide"
	"github.com/duroxide-go/duroxide/client"
	"github.com/duroxide-go/duroxide/fakeclock"
	"github.com/duroxide-go/duroxide/memprovider"
)

func ptr[T any](v T) *T { return &v }

func TestNewRefusesBadConfiguration(t *testing.T) {
	p := memprovider.New()
	tests := []struct {
		name string
		p    duroxide.Provider
		opts []client.Option
		want string
	}{
		{"nil provider", nil, nil, "nil provider"},
		{"nil clock", p, []client.Option{client.WithClock(nil)}, "nil clock"},
		{"zero initial interval", p, []client.Option{client.WithPollBackoff(0, time.Second)}, "not positive"},
		{"negative initial interval", p, []client.Option{client.WithPollBackoff(-time.Millisecond, time.Second)}, "not positive"},
		{"max below initial", p, []client.Option{client.WithPollBackoff(time.Second, time.Millisecond)}, "less than initial"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := client.New(tt.p, tt.opts...)
			require.Nil(t, c)
			require.ErrorIs(t, err, client.ErrInvalidInput)
			require.ErrorContains(t, err, tt.want)
			require.False(t, client.IsRetryable(err))
		})
	}
}

func TestNewAcceptsGoodConfiguration(t *testing.T) {
	for _, opts := range [][]client.Option{
		nil,
		{nil},
		{client.WithClock(fakeclock.Real())},
		{client.WithPollBackoff(time.Millisecond, time.Millisecond)},
		{client.WithPollBackoff(time.Millisecond, time.Second), client.WithClock(fakeclock.NewFake(epoch))},
	} {
		c, err := client.New(memprovider.New(), opts...)
		require.NoError(t, err)
		require.NotNil(t, c)
	}
}

// Each command enqueues exactly the work item duroxide's client enqueues.
func TestCommandsEnqueueTheirWorkItem(t *testing.T) {
	type payload struct {
		ID   int    `json:"id"`
		Note string `json:"note"`
	}
	tests := []struct {
		name string
		send func(ctx context.Context, c *client.Client) error
		want duroxide.WorkItem
	}{
		{
			"start",
			func(ctx context.Context, c *client.Client) error { return c.Start(ctx, "i1", "Greet", `"world"`) },
			duroxide.StartOrchestrationItem{Instance: "i1", Orchestration: "Greet", Input: `"world"`, ExecutionID: 1},
		},
		{
			"start with empty input",
			func(ctx context.Context, c *client.Client) error { return c.Start(ctx, "i1", "Greet", "") },
			duroxide.StartOrchestrationItem{Instance: "i1", Orchestration: "Greet", ExecutionID: 1},
		},
		{
			"start versioned",
			func(ctx context.Context, c *client.Client) error {
				return c.StartVersioned(ctx, "i1", "Greet", "2.1.0-beta.1+b7", `{}`)
			},
			duroxide.StartOrchestrationItem{Instance: "i1", Orchestration: "Greet", Input: `{}`, Version: ptr("2.1.0-beta.1+b7"), ExecutionID: 1},
		},
		{
			"start typed",
			func(ctx context.Context, c *client.Client) error {
				return c.StartTyped(ctx, "i1", "Greet", payload{ID: 7, Note: "a<b&c>d"})
			},
			duroxide.StartOrchestrationItem{Instance: "i1", Orchestration: "Greet", Input: `{"id":7,"note":"a<b&c>d"}`, ExecutionID: 1},
		},
		{
			"start versioned typed",
			func(ctx context.Context, c *client.Client) error {
				return c.StartVersionedTyped(ctx, "i1", "Greet", "1.0.0", []int{1, 2})
			},
			duroxide.StartOrchestrationItem{Instance: "i1", Orchestration: "Greet", Input: `[1,2]`, Version: ptr("1.0.0"), ExecutionID: 1},
		},
		{
			"start typed nil",
			func(ctx context.Context, c *client.Client) error { return c.StartTyped(ctx, "i1", "Greet", nil) },
			duroxide.StartOrchestrationItem{Instance: "i1", Orchestration: "Greet", Input: `null`, ExecutionID: 1},
		},
		{
			"raise event",
			func(ctx context.Context, c *client.Client) error { return c.RaiseEvent(ctx, "i1", "Approval", `true`) },
			duroxide.ExternalRaisedItem{Instance: "i1", Name: "Approval", Data: `true`},
		},
		{
			"raise event typed",
			func(ctx context.Context, c *client.Client) error {
				return c.RaiseEventTyped(ctx, "i1", "Approval", map[string]bool{"ok": true})
			},
			duroxide.ExternalRaisedItem{Instance: "i1", Name: "Approval", Data: `{"ok":true}`},
		},
		{
			"enqueue event",
			func(ctx context.Context, c *client.Client) error { return c.EnqueueEvent(ctx, "i1", "inbox", `"m1"`) },
			duroxide.QueueMessageItem{Instance: "i1", Name: "inbox", Data: `"m1"`},
		},
		{
			"enqueue event typed",
			func(ctx context.Context, c *client.Client) error { return c.EnqueueEventTyped(ctx, "i1", "inbox", 3.5) },
			duroxide.QueueMessageItem{Instance: "i1", Name: "inbox", Data: `3.5`},
		},
		{
			"cancel",
			func(ctx context.Context, c *client.Client) error { return c.Cancel(ctx, "i1", "user asked") },
			duroxide.CancelInstanceItem{Instance: "i1", Reason: "user asked"},
		},
		{
			"cancel without reason",
			func(ctx context.Context, c *client.Client) error { return c.Cancel(ctx, "i1", "") },
			duroxide.CancelInstanceItem{Instance: "i1"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			require.NoError(t, tt.send(h.ctx, h.c))
			if _, isStart := tt.want.(duroxide.StartOrchestrationItem); !isStart {
				// A batch without a start for an unknown instance is not
				// fetchable: queue a start after the command.
				require.NoError(t, h.c.Start(h.ctx, "i1", "Greet", ""))
			}
			got := h.queued()
			require.NotEmpty(t, got)
			require.Equal(t, tt.want, got[0])
		})
	}
}

// Bad input is refused before the provider sees it: nothing is enqueued.
func TestBadInputIsRefusedAndEnqueuesNothing(t *testing.T) {
	tests := []struct {
		name string
		send func(ctx context.Context, c *client.Client) error
		want string
	}{
		{"start: empty instance", func(ctx context.Context, c *client.Client) error { return c.Start(ctx, "", "Greet", "") }, "empty instance id"},
		{"start: empty name", func(ctx context.Context, c *client.Client) error { return c.Start(ctx, "i1", "", "") }, "empty orchestration name"},
		{"start versioned: empty instance", func(ctx context.Context, c *client.Client) error {
			return c.StartVersioned(ctx, "", "Greet", "1.0.0", "")
		}, "empty instance id"},
		{"start versioned: empty name", func(ctx context.Context, c *client.Client) error {
			return c.StartVersioned(ctx, "i1", "", "1.0.0", "")
		}, "empty orchestration name"},
		{"start versioned: empty version", func(ctx context.Context, c *client.Client) error {
			return c.StartVersioned(ctx, "i1", "Greet", "", "")
		}, `invalid version ""`},
		{"start versioned: bad version", func(ctx context.Context, c *client.Client) error {
			return c.StartVersioned(ctx, "i1", "Greet", "v1", "")
		}, `invalid version "v1"`},
		{"start typed: unencodable", func(ctx context.Context, c *client.Client) error {
			return c.StartTyped(ctx, "i1", "Greet", make(chan int))
		}, "encode input"},
		{"start typed: empty name", func(ctx context.Context, c *client.Client) error {
			return c.StartTyped(ctx, "i1", "", 1)
		}, "empty orchestration name"},
		{"start versioned typed: unencodable", func(ctx context.Context, c *client.Client) error {
			return c.StartVersionedTyped(ctx, "i1", "Greet", "1.0.0", func() {})
		}, "encode input"},
		{"start versioned typed: bad version", func(ctx context.Context, c *client.Client) error {
			return c.StartVersionedTyped(ctx, "i1", "Greet", "1.0", 1)
		}, "invalid version"},
		{"raise: empty instance", func(ctx context.Context, c *client.Client) error { return c.RaiseEvent(ctx, "", "E", "") }, "empty instance id"},
		{"raise: empty name", func(ctx context.Context, c *client.Client) error { return c.RaiseEvent(ctx, "i1", "", "") }, "empty event name"},
		{"raise typed: unencodable", func(ctx context.Context, c *client.Client) error {
			return c.RaiseEventTyped(ctx, "i1", "E", complex(1, 2))
		}, "encode data"},
		{"enqueue: empty instance", func(ctx context.Context, c *client.Client) error { return c.EnqueueEvent(ctx, "", "q", "") }, "empty instance id"},
		{"enqueue: empty queue", func(ctx context.Context, c *client.Client) error { return c.EnqueueEvent(ctx, "i1", "", "") }, "empty queue name"},
		{"enqueue typed: unencodable", func(ctx context.Context, c *client.Client) error {
			return c.EnqueueEventTyped(ctx, "i1", "q", make(chan int))
		}, "encode data"},
		{"cancel: empty instance", func(ctx context.Context, c *client.Client) error { return c.Cancel(ctx, "", "why") }, "empty instance id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			err := tt.send(h.ctx, h.c)
			require.ErrorIs(t, err, client.ErrInvalidInput)
			require.ErrorContains(t, err, tt.want)
			require.False(t, client.IsRetryable(err))
			var ce *client.Error
			require.ErrorAs(t, err, &ce)
			require.NotEmpty(t, ce.Op)
			h.requireQueuesEmpty()
		})
	}
}

func TestStartVersionedAcceptsOnlySemanticVersions(t *testing.T) {
	tests := []struct {
		version string
		ok      bool
	}{
		{"1.0.0", true},
		{"0.0.0", true},
		{"10.20.30", true},
		{"1.2.3-alpha", true},
		{"1.2.3-alpha.1", true},
		{"1.2.3-0.3.7", true},
		{"1.2.3-x-y-z.--", true},
		{"1.2.3+build.5", true},
		{"1.2.3-rc.1+build.5.x-y", true},
		{"1.2.3+001", true}, // build identifiers may have leading zeros
		{"", false},
		{"1", false},
		{"1.0", false},
		{"1.0.0.0", false},
		{"v1.0.0", false},
		{"01.0.0", false},
		{"1.00.0", false},
		{"1.0.-1", false},
		{" 1.0.0", false},
		{"1.0.0-", false},
		{"1.0.0+", false},
		{"1.0.0-01", false}, // numeric pre-release identifier with a leading zero
		{"1.0.0-a..b", false},
		{"1.0.0-a_b", false},
		{"1.0.0+b+c", false},
		{"1.0.0-é", false},
	}
	for _, tt := range tests {
		t.Run(tt.version, func(t *testing.T) {
			h := newHarness(t)
			err := h.c.StartVersioned(h.ctx, "i1", "Greet", tt.version, "")
			if tt.ok {
				require.NoError(t, err)
				require.Equal(t, ptr(tt.version), h.queued()[0].(duroxide.StartOrchestrationItem).Version)
				return
			}
			require.ErrorIs(t, err, client.ErrInvalidInput)
			h.requireQueuesEmpty()
		})
	}
}

// Provider errors come back wrapped: the provider's sentinel and
// retryability are kept, and the client adds the operation and instance.
func TestCommandsWrapProviderErrors(t *testing.T) {
	tests := []struct {
		name      string
		err       error
		retryable bool
		sentinel  error
	}{
		{"retryable", duroxide.Retryable("enqueue_for_orchestrator", duroxide.ErrUnavailable, "store busy"), true, duroxide.ErrUnavailable},
		{"permanent", duroxide.Permanent("enqueue_for_orchestrator", duroxide.ErrInvalidArgument, "too large"), false, duroxide.ErrInvalidArgument},
	}
	sends := map[string]func(ctx context.Context, c *client.Client) error{
		"start": func(ctx context.Context, c *client.Client) error { return c.Start(ctx, "i1", "Greet", "") },
		"start_versioned": func(ctx context.Context, c *client.Client) error {
			return c.StartVersioned(ctx, "i1", "Greet", "1.0.0", "")
		},
		"raise_event":   func(ctx context.Context, c *client.Client) error { return c.RaiseEvent(ctx, "i1", "E", "") },
		"enqueue_event": func(ctx context.Context, c *client.Client) error { return c.EnqueueEvent(ctx, "i1", "q", "") },
		"cancel":        func(ctx context.Context, c *client.Client) error { return c.Cancel(ctx, "i1", "") },
	}
	for _, tt := range tests {
		for op, send := range sends {
			t.Run(tt.name+"/"+op, func(t *testing.T) {
				p := &faultyProvider{Provider: memprovider.New(), errs: map[string]error{"EnqueueForOrchestrator": tt.err}}
				c, err := client.New(p)
				require.NoError(t, err)
				err = send(context.Background(), c)
				require.ErrorIs(t, err, tt.sentinel)
				require.Equal(t, tt.retryable, client.IsRetryable(err))
				require.Equal(t, tt.retryable, duroxide.IsRetryable(err))
				var ce *client.Error
				require.ErrorAs(t, err, &ce)
				require.Equal(t, op, ce.Op)
				require.Equal(t, "i1", ce.Instance)
				var pe *duroxide.ProviderError
				require.ErrorAs(t, err, &pe)
				require.True(t, errors.Is(err, tt.err))
				require.Equal(t, `client: `+op+` "i1": `+tt.err.Error(), err.Error())
			})
		}
	}
}
