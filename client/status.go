package client

import (
	"context"
	"fmt"
	"time"

	"github.com/duroxide-go/duroxide"
	"github.com/duroxide-go/duroxide/internal/jsonfast"
)

// State is the coarse state of an orchestration instance, derived from the
// history of its latest execution.
//
// A State is a plain string value, safe to copy and share.
type State string

// The states of an instance.
const (
	// StateNotFound: the latest execution has no OrchestrationStarted
	// event, so no runtime has started the instance yet (a start may be
	// queued) or it never existed or was deleted.
	StateNotFound State = "NotFound"
	// StateRunning: the instance was started and its latest execution has
	// not completed or failed. An instance that continued as new and whose
	// next execution has not started yet is Running too: it is not finished.
	StateRunning State = "Running"
	// StateCompleted: the latest execution completed; Status.Output holds
	// its output.
	StateCompleted State = "Completed"
	// StateFailed: the latest execution failed; Status.Failure holds the
	// details.
	StateFailed State = "Failed"
)

// IsTerminal reports whether s is Completed or Failed: the instance will not
// change any more (unless it is deleted, or started again under the same id
// after a deletion).
func (s State) IsTerminal() bool { return s == StateCompleted || s == StateFailed }

// Status is a snapshot of an orchestration instance, as [Client.GetStatus]
// and the waits return it.
//
// A Status is plain data owned by the caller, not synchronized: do not
// mutate it while another goroutine reads it.
type Status struct {
	// Instance is the instance id.
	Instance string
	// State is the instance's state.
	State State
	// ExecutionID is the latest execution's id (1 for the first execution,
	// one more after each continue-as-new); 0 when State is NotFound.
	ExecutionID uint64
	// Output is the orchestration's output when State is Completed (a JSON
	// string by convention), empty otherwise.
	Output string
	// Failure is why the orchestration failed when State is Failed, nil
	// otherwise. Failure.DisplayMessage() is the text duroxide shows; the
	// variant says whether it was the application (an error or panic in
	// orchestration code, a cancellation), a configuration problem
	// (nondeterminism), infrastructure or a poison message.
	Failure duroxide.ErrorDetails
	// CustomStatus is the instance's custom status, nil when none was set
	// or it was cleared.
	CustomStatus *string
	// CustomStatusVersion counts the turns that changed the custom status;
	// 0 when it was never set. Pass it to [Client.WaitForStatusChange] to
	// wait for the next change.
	CustomStatusVersion uint64
}

// Err returns a [*FailedError] when the instance failed, and nil otherwise.
func (s Status) Err() error {
	if s.State != StateFailed {
		return nil
	}
	return &FailedError{Instance: s.Instance, Details: duroxide.CloneErrorDetails(s.Failure)}
}

// GetStatus returns the status of instance, read from the provider: the
// history of its latest execution (the last OrchestrationCompleted or
// OrchestrationFailed event makes it Completed or Failed, an
// OrchestrationStarted event without either makes it Running, an empty
// history NotFound) and its custom status. A missing instance is
// [StateNotFound] with a nil error.
//
// The two reads are not one snapshot: a turn committed between them can make
// the custom status newer than the state. An error from either read is
// returned; the custom status is not dropped silently.
func (c *Client) GetStatus(ctx context.Context, instance string) (Status, error) {
	const op = "get_status"
	if err := checkInstance(op, instance); err != nil {
		return Status{}, err
	}
	return c.status(ctx, op, instance)
}

func (c *Client) status(ctx context.Context, op, instance string) (Status, error) {
	hist, err := c.p.Read(ctx, instance)
	if err != nil {
		return Status{}, newErr(op, instance, err)
	}
	cs, ok, err := c.p.GetCustomStatus(ctx, instance, 0)
	if err != nil {
		return Status{}, newErr(op, instance, err)
	}
	st := Status{Instance: instance, State: StateNotFound}
	if ok {
		st.CustomStatus, st.CustomStatusVersion = cs.Status, cs.Version
	}
	for i := len(hist) - 1; i >= 0; i-- {
		switch k := hist[i].Kind.(type) {
		case duroxide.OrchestrationCompleted:
			st.State, st.Output = StateCompleted, k.Output
		case duroxide.OrchestrationFailed:
			st.State, st.Failure = StateFailed, k.Details
		default:
			continue
		}
		break
	}
	if st.State == StateNotFound {
		for _, e := range hist {
			if _, ok := e.Kind.(duroxide.OrchestrationStarted); ok {
				st.State = StateRunning
				break
			}
		}
	}
	if st.State != StateNotFound {
		st.ExecutionID = hist[0].ExecutionID
	}
	return st, nil
}

// WaitForOrchestration waits until instance has completed or failed and
// returns its final status; a failed instance is a Status with State
// [StateFailed] and a nil error (use [Status.Err] or [Output] to turn it
// into an error). It polls [Client.GetStatus] at once and then at the
// client's poll intervals (see [WithPollBackoff]); NotFound and Running
// keep it waiting, so it may be called right after a start.
//
// timeout is measured on the client's clock: when a poll at or after
// now+timeout still finds the instance unfinished, it returns an error
// matching [ErrTimeout] (retryable). A zero timeout polls once. It returns
// early, with an error matching ctx.Err(), when ctx ends, and at once on a
// provider error. A negative timeout or empty instance id is refused with
// [ErrInvalidInput].
func (c *Client) WaitForOrchestration(ctx context.Context, instance string, timeout time.Duration) (Status, error) {
	const op = "wait_for_orchestration"
	if err := checkInstance(op, instance); err != nil {
		return Status{}, err
	}
	var st Status
	err := c.poll(ctx, op, instance, timeout, func() (bool, error) {
		var err error
		st, err = c.status(ctx, op, instance)
		return err == nil && st.State.IsTerminal(), err
	})
	if err != nil {
		return Status{}, err
	}
	return st, nil
}

// WaitForStatusChange waits until the custom status version of instance
// exceeds lastSeenVersion, or the instance completes or fails, and returns
// the instance's status. Pass 0 to wait for the first custom status, and
// then each returned Status's CustomStatusVersion to follow the changes.
// The provider keeps only the latest custom status, so a value replaced
// between two polls is never observed; the version still counts it.
//
// Polling, timeout and errors are as for [Client.WaitForOrchestration].
func (c *Client) WaitForStatusChange(ctx context.Context, instance string, lastSeenVersion uint64, timeout time.Duration) (Status, error) {
	const op = "wait_for_status_change"
	if err := checkInstance(op, instance); err != nil {
		return Status{}, err
	}
	var st Status
	err := c.poll(ctx, op, instance, timeout, func() (bool, error) {
		var err error
		st, err = c.status(ctx, op, instance)
		if err != nil {
			return false, err
		}
		return st.CustomStatusVersion > lastSeenVersion || st.State.IsTerminal(), nil
	})
	if err != nil {
		return Status{}, err
	}
	return st, nil
}

// poll calls check at once and then after each poll interval until it
// reports done or fails, the timeout passes on the client's clock (after a
// last check at the deadline), or ctx ends.
func (c *Client) poll(ctx context.Context, op, instance string, timeout time.Duration, check func() (bool, error)) error {
	if timeout < 0 {
		return invalid(op, instance, "negative timeout %v", timeout)
	}
	deadline := c.clock.Now().Add(timeout)
	delay := c.pollInitial
	for {
		if err := ctx.Err(); err != nil {
			return newErr(op, instance, err)
		}
		done, err := check()
		if err != nil || done {
			return err
		}
		left := deadline.Sub(c.clock.Now())
		if left <= 0 {
			return newErr(op, instance, fmt.Errorf("%w after %v", ErrTimeout, timeout))
		}
		t := c.clock.NewTimer(min(delay, left))
		select {
		case <-t.C():
		case <-ctx.Done():
			t.Stop()
			return newErr(op, instance, ctx.Err())
		}
		delay = min(2*delay, c.pollMax)
	}
}

// Output returns the output of a completed instance decoded from JSON into a
// T. It takes a Status and an error so that it can wrap a wait directly:
//
//	total, err := client.Output[int](c.WaitForOrchestration(ctx, "order-1", time.Minute))
//
// A non-nil err is returned as is. A failed instance returns its
// [*FailedError]; a running or missing one an error matching
// [ErrNotTerminal]; an output that does not decode into T an error matching
// [ErrDecode].
func Output[T any](st Status, err error) (T, error) {
	var out T
	if err != nil {
		return out, err
	}
	switch st.State {
	case StateCompleted:
		out, err := jsonfast.Decode[T](st.Output)
		if err != nil {
			return out, newErr("output", st.Instance, fmt.Errorf("%w: output as %T: %v", ErrDecode, out, err))
		}
		return out, nil
	case StateFailed:
		return out, st.Err()
	default:
		return out, newErr("output", st.Instance, fmt.Errorf("%w: state %s", ErrNotTerminal, st.State))
	}
}
