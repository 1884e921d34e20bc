package duroxide

import (
	"errors"
	"fmt"
)

// Sentinel errors. Providers wrap them in a [ProviderError]; callers match
// them with errors.Is.
var (
	// ErrInvalidLockToken: the lock token was never issued, was already used
	// by an ack or abandon, was superseded by another fetch after expiry, or
	// its instance or item was deleted. Permanent.
	ErrInvalidLockToken = errors.New("invalid lock token")
	// ErrLockExpired: the token is known but its lock has expired. Permanent.
	ErrLockExpired = errors.New("lock expired")
	// ErrNotFound: the instance or execution does not exist. Permanent.
	ErrNotFound = errors.New("not found")
	// ErrInstanceRunning: a non-forced delete named a running instance.
	// Permanent.
	ErrInstanceRunning = errors.New("instance is running")
	// ErrNotRoot: delete was called on a sub-orchestration; delete its root.
	// Permanent.
	ErrNotRoot = errors.New("instance is a sub-orchestration, not a root")
	// ErrOrphanChild: an atomic delete would orphan a child not in the list
	// (the tree changed after it was read). Permanent.
	ErrOrphanChild = errors.New("delete would orphan a child instance")
	// ErrDuplicateEvent: an appended event's id already exists in its
	// execution. Permanent.
	ErrDuplicateEvent = errors.New("duplicate event id")
	// ErrInvalidArgument: the call's input is malformed (empty instance id,
	// event id 0, nil item, negative duration, work item on the wrong queue,
	// ...). Nothing was changed. Permanent.
	ErrInvalidArgument = errors.New("invalid argument")
	// ErrCorruptData: stored data could not be decoded. Permanent.
	ErrCorruptData = errors.New("stored data could not be decoded")
	// ErrUnavailable: the store is temporarily unable to serve the call (busy,
	// timed out, connection lost). Retryable.
	ErrUnavailable = errors.New("provider unavailable")
)

// ProviderError is the error every provider method returns. It carries the
// failing operation, a message, and whether retrying the same call may
// succeed. Err, when set, is a sentinel above or an underlying cause, exposed
// through Unwrap for errors.Is and errors.As.
//
// A ProviderError is immutable once returned and safe to share.
type ProviderError struct {
	// Op is the failing operation, in duroxide's snake_case naming, e.g.
	// "ack_orchestration_item".
	Op string
	// Msg is human-readable. It keeps the words duroxide's validation cases
	// look for ("Invalid lock token", "not found", "running", ...). It does
	// not repeat Op, which Error prefixes: a provider that builds Msg from
	// another error uses that error's cause, not its Error text, when the
	// cause is itself a ProviderError.
	Msg string
	// Retryable reports whether retrying the same call might succeed.
	Retryable bool
	// Err is the wrapped sentinel or cause; may be nil.
	Err error
}

// Error returns "<op>: <msg>".
func (e *ProviderError) Error() string { return e.Op + ": " + e.Msg }

// Unwrap returns the wrapped sentinel or cause.
func (e *ProviderError) Unwrap() error { return e.Err }

// Permanent returns a non-retryable ProviderError wrapping cause, with a
// message formatted from format and args.
func Permanent(op string, cause error, format string, args ...any) *ProviderError {
	return &ProviderError{Op: op, Msg: fmt.Sprintf(format, args...), Retryable: false, Err: cause}
}

// Retryable returns a retryable ProviderError wrapping cause, with a message
// formatted from format and args.
func Retryable(op string, cause error, format string, args ...any) *ProviderError {
	return &ProviderError{Op: op, Msg: fmt.Sprintf(format, args...), Retryable: true, Err: cause}
}

// IsRetryable reports whether err is (or wraps) a retryable ProviderError.
// Errors that are not ProviderErrors, and nil, are not retryable.
func IsRetryable(err error) bool {
	var pe *ProviderError
	return errors.As(err, &pe) && pe.Retryable
}

// ToInfrastructure converts e into the ErrorDetails the runtime records when
// a provider call fails a turn.
func (e *ProviderError) ToInfrastructure() Infrastructure {
	return Infrastructure{Operation: e.Op, Message: e.Msg, Retryable: e.Retryable}
}
