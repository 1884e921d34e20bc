package duroxide

import "fmt"

// ErrorDetails describes why an activity, sub-orchestration or orchestration
// failed. It is a sealed sum type with four variants: the values
// [Infrastructure], [Configuration], [Application] and [Poison] (a pointer to
// one satisfies the interface but is not a variant; see
// [ValidateErrorDetails]). On the wire it is externally tagged:
// {"Application": {...}}.
//
// Providers store ErrorDetails opaquely; the runtime builds them.
//
// Every variant is plain data, not synchronized (see the package doc,
// Concurrency).
//
//sumtype:decl
type ErrorDetails interface {
	// Category returns "infrastructure", "configuration", "application" or
	// "poison".
	Category() string
	// IsRetryable reports whether the failure may succeed on retry.
	IsRetryable() bool
	// DisplayMessage returns duroxide's human-readable rendering, the text
	// the runtime stores as a failed execution's output.
	DisplayMessage() string
	// cloneDetails returns a deep copy, or nil when the value can be shared.
	cloneDetails() ErrorDetails
}

// CloneErrorDetails returns a deep copy of d (nil for nil). d must be valid
// ([ValidateErrorDetails]): the copy of a pointer variant shares its
// pointee.
func CloneErrorDetails(d ErrorDetails) ErrorDetails {
	if d == nil {
		return nil
	}
	if c := d.cloneDetails(); c != nil {
		return c
	}
	return d
}

// Infrastructure is a failure of the runtime's environment (a provider error,
// for example).
type Infrastructure struct {
	Operation string
	Message   string
	Retryable bool
}

// ConfigErrorKind classifies a configuration error.
type ConfigErrorKind string

// Nondeterminism is the only ConfigErrorKind: replay diverged from history.
const Nondeterminism ConfigErrorKind = "Nondeterminism"

// Configuration is a failure caused by how the application is built (for
// example nondeterministic orchestration code). Never retryable.
type Configuration struct {
	Kind     ConfigErrorKind
	Resource string
	Message  *string
}

// Application is a failure raised by application code.
type Application struct {
	Kind      AppErrorKind
	Message   string
	Retryable bool
}

// Poison is a message that exceeded its maximum delivery attempts. Never
// retryable.
type Poison struct {
	AttemptCount uint32
	MaxAttempts  uint32
	MessageType  PoisonMessageType
	// Message is the serialized offending message, for debugging.
	Message string
}

// AppErrorKind classifies an [Application] error. It is a sealed sum type of
// the values [AppActivityFailed], [AppOrchestrationFailed], [AppPanicked] and
// [AppCancelled] (pointers to them are refused, see [ValidateErrorDetails]).
//
// Every variant is plain data, not synchronized (see the package doc,
// Concurrency).
//
//sumtype:decl
type AppErrorKind interface{ isAppErrorKind() }

// AppActivityFailed: an activity returned an error. Wire: "ActivityFailed".
type AppActivityFailed struct{}

// AppOrchestrationFailed: orchestration code returned an error. Wire:
// "OrchestrationFailed".
type AppOrchestrationFailed struct{}

// AppPanicked: orchestration code panicked. Wire: "Panicked".
type AppPanicked struct{}

// AppCancelled: the work was cancelled. Wire: {"Cancelled":{"reason":...}}.
type AppCancelled struct{ Reason string }

func (AppActivityFailed) isAppErrorKind()      {}
func (AppOrchestrationFailed) isAppErrorKind() {}
func (AppPanicked) isAppErrorKind()            {}
func (AppCancelled) isAppErrorKind()           {}

// PoisonMessageType says which message was poisoned. It is a sealed sum type
// of the values [PoisonOrchestration], [PoisonActivity] and
// [PoisonFailedDeserialization] (pointers to them are refused, see
// [ValidateErrorDetails]).
//
// Every variant is plain data, not synchronized (see the package doc,
// Concurrency).
//
//sumtype:decl
type PoisonMessageType interface{ isPoisonMessageType() }

// PoisonOrchestration: an orchestration turn exceeded its attempts.
type PoisonOrchestration struct {
	Instance    string
	ExecutionID uint64
}

// PoisonActivity: an activity exceeded its attempts.
type PoisonActivity struct {
	Instance     string
	ExecutionID  uint64
	ActivityName string
	ActivityID   uint64
}

// PoisonFailedDeserialization: stored history could not be decoded on every
// attempt.
type PoisonFailedDeserialization struct {
	Instance    string
	ExecutionID uint64
	Error       string
}

func (PoisonOrchestration) isPoisonMessageType()         {}
func (PoisonActivity) isPoisonMessageType()              {}
func (PoisonFailedDeserialization) isPoisonMessageType() {}

// Category implements ErrorDetails.
func (Infrastructure) Category() string { return "infrastructure" }

// Category implements ErrorDetails.
func (Configuration) Category() string { return "configuration" }

// Category implements ErrorDetails.
func (Application) Category() string { return "application" }

// Category implements ErrorDetails.
func (Poison) Category() string { return "poison" }

// IsRetryable implements ErrorDetails.
func (d Infrastructure) IsRetryable() bool { return d.Retryable }

// IsRetryable implements ErrorDetails.
func (Configuration) IsRetryable() bool { return false }

// IsRetryable implements ErrorDetails.
func (d Application) IsRetryable() bool { return d.Retryable }

// IsRetryable implements ErrorDetails.
func (Poison) IsRetryable() bool { return false }

// DisplayMessage implements ErrorDetails.
func (d Infrastructure) DisplayMessage() string {
	return fmt.Sprintf("infrastructure:%s: %s", d.Operation, d.Message)
}

// DisplayMessage implements ErrorDetails.
func (d Configuration) DisplayMessage() string {
	if d.Message != nil {
		return "nondeterministic: " + *d.Message
	}
	return "nondeterministic in " + d.Resource
}

// DisplayMessage implements ErrorDetails.
func (d Application) DisplayMessage() string {
	switch k := d.Kind.(type) {
	case AppCancelled:
		return "canceled: " + k.Reason
	case AppPanicked:
		return "orchestration panicked: " + d.Message
	}
	return d.Message
}

// DisplayMessage implements ErrorDetails.
func (d Poison) DisplayMessage() string {
	switch m := d.MessageType.(type) {
	case PoisonOrchestration:
		return fmt.Sprintf("poison: orchestration %s exceeded %d attempts (max %d)", m.Instance, d.AttemptCount, d.MaxAttempts)
	case PoisonActivity:
		return fmt.Sprintf("poison: activity %s#%d exceeded %d attempts (max %d)", m.ActivityName, m.ActivityID, d.AttemptCount, d.MaxAttempts)
	case PoisonFailedDeserialization:
		return fmt.Sprintf("poison: orchestration %s history deserialization failed after %d attempts (max %d): %s", m.Instance, d.AttemptCount, d.MaxAttempts, m.Error)
	}
	return fmt.Sprintf("poison: exceeded %d attempts (max %d)", d.AttemptCount, d.MaxAttempts)
}

func (Infrastructure) cloneDetails() ErrorDetails { return nil }
func (d Configuration) cloneDetails() ErrorDetails {
	if d.Message == nil {
		return nil
	}
	d.Message = clonePtr(d.Message)
	return d
}

// Application and Poison hold only immutable values: their nested kinds are
// pointer-free structs.
func (Application) cloneDetails() ErrorDetails { return nil }
func (Poison) cloneDetails() ErrorDetails      { return nil }
