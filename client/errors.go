package client

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/duroxide-go/duroxide"
)

// Sentinel errors of the client. Every error a [Client] method returns is an
// [*Error] wrapping one of these, a [*duroxide.ProviderError] (whose own
// sentinels, such as [duroxide.ErrNotFound], [duroxide.ErrInstanceRunning]
// and [duroxide.ErrNotRoot], stay matchable with errors.Is), or the
// context's error. Match them with errors.Is.
var (
	// ErrInvalidInput: the caller's arguments were refused before anything
	// was sent to the provider (empty instance id or name, invalid version,
	// a value that cannot be encoded as JSON, a negative timeout, ...).
	// Nothing was enqueued or changed. Permanent.
	ErrInvalidInput = errors.New("invalid input")
	// ErrTimeout: a wait reached its timeout, measured on the client's
	// clock, before the condition held. Retryable: waiting again may
	// succeed.
	ErrTimeout = errors.New("timed out")
	// ErrManagementUnavailable: the provider has no management API
	// ([duroxide.Provider.AsManagementCapability] returned nil). Permanent
	// for that provider.
	ErrManagementUnavailable = errors.New("management API not available: the provider does not implement duroxide.ProviderAdmin")
	// ErrNotTerminal: an output was requested from an instance that has not
	// completed or failed (it is running or was not found). Permanent for
	// that status value; wait for the instance and ask again.
	ErrNotTerminal = errors.New("orchestration has not finished")
	// ErrDecode: a stored value (an orchestration's output, a key/value
	// entry) could not be decoded as JSON into the requested type.
	// Permanent.
	ErrDecode = errors.New("cannot decode stored JSON")
)

// Error is the error every [Client] method returns: the operation, the
// instance it concerned (empty for operations on the whole store), and the
// cause. Unwrap exposes the cause, so errors.Is and errors.As see the
// client's sentinels, a wrapped [*duroxide.ProviderError] and its sentinels,
// or context.Canceled and context.DeadlineExceeded.
//
// An Error is immutable once returned and safe to share between goroutines.
type Error struct {
	// Op is the client operation, e.g. "start" or "wait_for_orchestration".
	Op string
	// Instance is the instance the operation concerned, or empty.
	Instance string
	// Err is the cause; never nil.
	Err error
}

// Error returns "client: <op> <instance>: <cause>" (the instance is quoted
// and omitted when empty).
func (e *Error) Error() string {
	if e.Instance == "" {
		return "client: " + e.Op + ": " + e.Err.Error()
	}
	return "client: " + e.Op + " " + strconv.Quote(e.Instance) + ": " + e.Err.Error()
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Retryable reports whether repeating the same call may succeed: true for
// [ErrTimeout] and for provider errors the provider marked retryable
// ([duroxide.IsRetryable]), false otherwise (invalid input, permanent
// provider errors, a missing management API, an undecodable value, and a
// context that ended while the client itself was waiting; a provider may
// report its own context errors as retryable, and that flag is kept).
func (e *Error) Retryable() bool {
	return errors.Is(e.Err, ErrTimeout) || duroxide.IsRetryable(e.Err)
}

// IsRetryable reports whether err is (or wraps) an error that a retry of the
// same call may overcome: an [*Error] whose Retryable method says so, or a
// retryable [*duroxide.ProviderError]. nil is not retryable.
func IsRetryable(err error) bool {
	var ce *Error
	if errors.As(err, &ce) {
		return ce.Retryable()
	}
	return duroxide.IsRetryable(err)
}

// FailedError reports that an orchestration instance ended in failure. It is
// not an error of the client call that observed it: [Client.GetStatus] and
// the waits return a failed instance as a [Status] with a nil error; [Output]
// and [Status.Err] turn it into this error.
//
// A FailedError is plain data, not synchronized: do not mutate it while
// another goroutine reads it.
type FailedError struct {
	// Instance is the failed instance.
	Instance string
	// Details is the failure as the runtime recorded it in history.
	Details duroxide.ErrorDetails
}

// Error returns "orchestration <instance> failed: <display message>".
func (e *FailedError) Error() string {
	msg := "<no details>"
	if e.Details != nil {
		msg = e.Details.DisplayMessage()
	}
	return "orchestration " + strconv.Quote(e.Instance) + " failed: " + msg
}

// newErr builds an *Error.
func newErr(op, instance string, err error) *Error {
	return &Error{Op: op, Instance: instance, Err: err}
}

// invalid builds an *Error wrapping ErrInvalidInput with a message.
func invalid(op, instance, format string, args ...any) *Error {
	return newErr(op, instance, fmt.Errorf("%w: %s", ErrInvalidInput, fmt.Sprintf(format, args...)))
}
