package host

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/duroxide-go/duroxide/internal/jsonfast"
	"github.com/duroxide-go/duroxide/orchestration"
)

// ActivityHandler runs one activity: it receives the activity's JSON input
// and returns its JSON output, or an error that fails the activity (the
// orchestration sees an application error carrying err.Error()). A panic
// fails the activity the same way and never stops a worker.
//
// Activities may do anything (I/O, clocks, randomness): unlike
// orchestrations they are not replayed, and run at least once.
type ActivityHandler func(ctx *ActivityContext, input string) (string, error)

// TypedActivity adapts a typed activity function: the input is decoded from
// JSON into I, the output encoded as JSON (the encoding package
// orchestration uses). A decoding or encoding error fails the activity.
func TypedActivity[I, O any](fn func(ctx *ActivityContext, input I) (O, error)) ActivityHandler {
	return func(ctx *ActivityContext, input string) (string, error) {
		in, err := jsonfast.Decode[I](input)
		if err != nil {
			return "", fmt.Errorf("activity %s: decoding input: %w", ctx.name, err)
		}
		out, err := fn(ctx, in)
		if err != nil {
			return "", err
		}
		return orchestration.Marshal(out)
	}
}

// ActivityContext is the context of one activity execution. It is a
// [context.Context]: it is done when the runtime stops or when the
// orchestration no longer wants the result (it was cancelled, ended, or
// deleted: the worker's lock renewal fails), so long activities should
// watch Done.
//
// An ActivityContext is confined to its activity's goroutine, except for
// its context.Context methods, which are safe for concurrent use.
type ActivityContext struct {
	context.Context
	instance    string
	executionID uint64
	activityID  uint64
	name        string
	sessionID   *string
	tag         *string
	attempt     uint32
	base        *slog.Logger
	logger      *slog.Logger
}

// InstanceID returns the orchestration instance that scheduled the activity.
func (c *ActivityContext) InstanceID() string { return c.instance }

// ExecutionID returns the execution that scheduled the activity.
func (c *ActivityContext) ExecutionID() uint64 { return c.executionID }

// ActivityID returns the activity's id: the event id of its ActivityScheduled
// event, unique within the execution.
func (c *ActivityContext) ActivityID() uint64 { return c.activityID }

// Name returns the activity's registered name.
func (c *ActivityContext) Name() string { return c.name }

// SessionID returns the session the activity was scheduled on, if any.
func (c *ActivityContext) SessionID() (string, bool) {
	if c.sessionID == nil {
		return "", false
	}
	return *c.sessionID, true
}

// Tag returns the worker tag the activity was scheduled with, if any.
func (c *ActivityContext) Tag() (string, bool) {
	if c.tag == nil {
		return "", false
	}
	return *c.tag, true
}

// Attempt returns how many times this item has been delivered (1 the first
// time; more after a crash or an expired lock).
func (c *ActivityContext) Attempt() uint32 { return c.attempt }

// Logger returns a logger carrying the activity's identity.
func (c *ActivityContext) Logger() *slog.Logger {
	if c.logger == nil {
		c.logger = c.buildLogger()
	}
	return c.logger
}
