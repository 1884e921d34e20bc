package client

import (
	"bytes"
	"context"
	"encoding/json"
	"strconv"
	"strings"

	"github.com/duroxide-go/duroxide"
	"github.com/duroxide-go/duroxide/internal/jsonfast"
)

// Start enqueues the start of a new instance of the orchestration name, with
// input (a JSON string by convention: it is passed to the orchestration
// verbatim). The runtime that fetches it runs the latest registered version
// of name.
//
// Start returns once the provider has accepted the StartOrchestration work
// item; the instance exists only after a runtime has processed it, and until
// then [Client.GetStatus] reports [StateNotFound]. Starting an instance id
// that already exists enqueues a start the runtime ignores (the client does
// not check: a check before the enqueue could not be atomic with it).
//
// An empty instance id or orchestration name is refused with
// [ErrInvalidInput] and nothing is enqueued.
func (c *Client) Start(ctx context.Context, instance, name, input string) error {
	return c.start(ctx, "start", instance, name, nil, input)
}

// StartVersioned is [Client.Start] pinned to one version of the
// orchestration: the runtime runs exactly version (a semantic version such
// as "1.2.0") and no other. A version that is not a valid semantic version
// is refused with [ErrInvalidInput], as are an empty instance id or name,
// and nothing is enqueued.
func (c *Client) StartVersioned(ctx context.Context, instance, name, version, input string) error {
	return c.start(ctx, "start_versioned", instance, name, &version, input)
}

// StartTyped is [Client.Start] with input encoded as JSON (see the package
// doc, JSON). A value that cannot be encoded is refused with
// [ErrInvalidInput] and nothing is enqueued.
func (c *Client) StartTyped(ctx context.Context, instance, name string, input any) error {
	s, err := encodeJSON(input)
	if err != nil {
		return invalid("start", instance, "encode input: %v", err)
	}
	return c.start(ctx, "start", instance, name, nil, s)
}

// StartVersionedTyped is [Client.StartVersioned] with input encoded as JSON
// (see the package doc, JSON).
func (c *Client) StartVersionedTyped(ctx context.Context, instance, name, version string, input any) error {
	s, err := encodeJSON(input)
	if err != nil {
		return invalid("start_versioned", instance, "encode input: %v", err)
	}
	return c.start(ctx, "start_versioned", instance, name, &version, s)
}

func (c *Client) start(ctx context.Context, op, instance, name string, version *string, input string) error {
	if err := checkInstance(op, instance); err != nil {
		return err
	}
	if name == "" {
		return invalid(op, instance, "empty orchestration name")
	}
	if version != nil {
		if err := checkVersion(*version); err != nil {
			return invalid(op, instance, "%v", err)
		}
		v := *version // not retained: the item gets its own copy
		version = &v
	}
	return c.enqueue(ctx, op, instance, duroxide.StartOrchestrationItem{
		Instance:      instance,
		Orchestration: name,
		Input:         input,
		Version:       version,
		ExecutionID:   duroxide.InitialExecutionID,
	})
}

// RaiseEvent raises the external event name, with data, on instance. An
// orchestration receives it through a wait on an event of that name; events
// are matched by name and position (the Nth wait for a name receives the Nth
// event of that name that arrives while it waits). An event that arrives
// when no wait for its name is pending is recorded in history but delivered
// to no one: that is what distinguishes it from [Client.EnqueueEvent].
//
// RaiseEvent only enqueues an ExternalRaised work item: raising on an
// instance that does not exist yet or has finished is not an error here.
// An empty instance id or event name is refused with [ErrInvalidInput] and
// nothing is enqueued.
func (c *Client) RaiseEvent(ctx context.Context, instance, name, data string) error {
	return c.raise(ctx, "raise_event", instance, name, data)
}

// RaiseEventTyped is [Client.RaiseEvent] with data encoded as JSON (see the
// package doc, JSON).
func (c *Client) RaiseEventTyped(ctx context.Context, instance, name string, data any) error {
	s, err := encodeJSON(data)
	if err != nil {
		return invalid("raise_event", instance, "encode data: %v", err)
	}
	return c.raise(ctx, "raise_event", instance, name, s)
}

func (c *Client) raise(ctx context.Context, op, instance, name, data string) error {
	if err := checkInstance(op, instance); err != nil {
		return err
	}
	if name == "" {
		return invalid(op, instance, "empty event name")
	}
	return c.enqueue(ctx, op, instance, duroxide.ExternalRaisedItem{Instance: instance, Name: name, Data: data})
}

// EnqueueEvent appends data to the persistent event queue named queue of
// instance. Unlike a raised event, a queued message waits until the
// orchestration dequeues it: messages of one queue are delivered in FIFO
// order to the orchestration's dequeue calls, whenever they are made, and
// are carried across continue-as-new. Messages for an instance that has not
// been started are discarded when a runtime fetches them (unless a start
// arrives first).
//
// An empty instance id or queue name is refused with [ErrInvalidInput] and
// nothing is enqueued.
func (c *Client) EnqueueEvent(ctx context.Context, instance, queue, data string) error {
	return c.enqueueEvent(ctx, "enqueue_event", instance, queue, data)
}

// EnqueueEventTyped is [Client.EnqueueEvent] with data encoded as JSON (see
// the package doc, JSON).
func (c *Client) EnqueueEventTyped(ctx context.Context, instance, queue string, data any) error {
	s, err := encodeJSON(data)
	if err != nil {
		return invalid("enqueue_event", instance, "encode data: %v", err)
	}
	return c.enqueueEvent(ctx, "enqueue_event", instance, queue, s)
}

func (c *Client) enqueueEvent(ctx context.Context, op, instance, queue, data string) error {
	if err := checkInstance(op, instance); err != nil {
		return err
	}
	if queue == "" {
		return invalid(op, instance, "empty queue name")
	}
	return c.enqueue(ctx, op, instance, duroxide.QueueMessageItem{Instance: instance, Name: queue, Data: data})
}

// Cancel asks the runtime to cancel instance, recording reason. Cancellation
// is cooperative and asynchronous: the runtime's next turn of the instance
// records the request and fails the instance with an Application error of
// kind Cancelled carrying reason, cancels its outstanding activities and
// cancels its sub-orchestrations. Wait for the instance to observe the
// outcome. Cancelling a finished instance has no effect.
//
// An empty instance id is refused with [ErrInvalidInput] and nothing is
// enqueued; an empty reason is allowed.
func (c *Client) Cancel(ctx context.Context, instance, reason string) error {
	const op = "cancel"
	if err := checkInstance(op, instance); err != nil {
		return err
	}
	return c.enqueue(ctx, op, instance, duroxide.CancelInstanceItem{Instance: instance, Reason: reason})
}

// encodeJSON encodes v the way duroxide's serde encoding does for the same
// data: compact, without HTML escaping of <, > and &, and with no trailing
// newline.
func encodeJSON(v any) (string, error) {
	switch x := v.(type) { // the common inputs, without reflection
	case string:
		if jsonfast.PlainASCII(x) {
			return `"` + x + `"`, nil
		}
	case int:
		return strconv.Itoa(x), nil
	case bool:
		return strconv.FormatBool(x), nil
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return "", err
	}
	return strings.TrimSuffix(b.String(), "\n"), nil
}

// checkVersion accepts a semantic version 2.0.0: MAJOR.MINOR.PATCH without
// leading zeros, optionally followed by a pre-release (-a.1) and build
// metadata (+b.2) of non-empty dot-separated identifiers of [0-9A-Za-z-],
// numeric pre-release identifiers without leading zeros. This is what the
// runtime can resolve; anything else would never start.
func checkVersion(v string) error {
	bad := func(why string) error { return &versionError{v, why} }
	core, build, hasBuild := strings.Cut(v, "+")
	core, pre, hasPre := strings.Cut(core, "-")
	if _, err := duroxide.ParseSemver(core); err != nil {
		return bad("want MAJOR.MINOR.PATCH")
	}
	if hasPre {
		for id := range strings.SplitSeq(pre, ".") {
			if !semverIdent(id) {
				return bad("invalid pre-release identifier " + strconv.Quote(id))
			}
			if allDigits(id) && len(id) > 1 && id[0] == '0' {
				return bad("numeric pre-release identifier " + strconv.Quote(id) + " has a leading zero")
			}
		}
	}
	if hasBuild {
		for id := range strings.SplitSeq(build, ".") {
			if !semverIdent(id) {
				return bad("invalid build identifier " + strconv.Quote(id))
			}
		}
	}
	return nil
}

// versionError explains why a version string was refused.
type versionError struct{ version, why string }

func (e *versionError) Error() string {
	return "invalid version " + strconv.Quote(e.version) + ": " + e.why
}

func semverIdent(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		ch := s[i]
		if !(ch >= '0' && ch <= '9' || ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch == '-') {
			return false
		}
	}
	return true
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
