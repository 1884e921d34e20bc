package duroxide

import (
	"fmt"
	"reflect"
)

// Validation of the sum types.
//
// A Go interface cannot be sealed against pointers: a pointer's method set
// includes its element's value-receiver methods, so &KeyValueSet{} satisfies
// EventKind and &Application{} satisfies ErrorDetails, and a type of another
// package that embeds a variant satisfies the interface too. The variants are
// the value types listed by [EventKinds], [WorkItemVariants] and the
// ErrorDetails docs; anything else is refused by the JSON encoder and by
// these functions, which providers call on every write path so that every
// provider (JSON-backed or not) accepts exactly the same values.
//
// The checks are type switches: no reflection and no allocation unless the
// value is refused.

// ValidateEvent reports whether e's payload is a value the wire format can
// encode: e.Kind is one of the value variants of [EventKinds] (not nil, not a
// pointer to a variant, not a foreign type) and any [ErrorDetails] inside it
// passes [ValidateErrorDetails]. It does not check ids or other envelope
// fields. The error wraps [ErrUnknownVariant]; [Event.MarshalJSON] fails
// with the same error for exactly these events.
func ValidateEvent(e Event) error {
	return validateEventKind(e.Kind)
}

// ValidateWorkItem reports whether w is a value the wire format can encode:
// one of the value variants of [WorkItemVariants] (not nil, not a pointer to
// a variant, not a foreign type) whose [ErrorDetails], if it has one, passes
// [ValidateErrorDetails]. It does not check which queue w belongs to or its
// ids. The error wraps [ErrUnknownVariant]; [MarshalWorkItem] fails with the
// same error for exactly these items.
func ValidateWorkItem(w WorkItem) error {
	var d ErrorDetails
	switch v := w.(type) {
	case ActivityFailedItem:
		d = v.Details
	case SubOrchFailedItem:
		d = v.Details
	case StartOrchestrationItem, ActivityExecuteItem, ActivityCompletedItem, TimerFiredItem,
		ExternalRaisedItem, SubOrchCompletedItem, CancelInstanceItem, ContinueAsNewItem, QueueMessageItem:
		return nil
	default:
		return notVariant("WorkItem", w)
	}
	if err := ValidateErrorDetails(d); err != nil {
		return fmt.Errorf("%s.details: %w", w.Variant(), err)
	}
	return nil
}

// ValidateErrorDetails reports whether d is a value the wire format can
// encode: one of [Infrastructure], [Configuration] (with Kind
// [Nondeterminism]), [Application] (with a value [AppErrorKind]) or [Poison]
// (with a value [PoisonMessageType]); nil, pointers and foreign types are
// refused at every level. The error wraps [ErrUnknownVariant];
// [MarshalErrorDetails] fails with the same error for exactly these values.
func ValidateErrorDetails(d ErrorDetails) error {
	switch v := d.(type) {
	case Infrastructure:
		return nil
	case Configuration:
		if v.Kind != Nondeterminism {
			return fmt.Errorf("%w %q of ConfigErrorKind", ErrUnknownVariant, string(v.Kind))
		}
		return nil
	case Application:
		switch v.Kind.(type) {
		case AppActivityFailed, AppOrchestrationFailed, AppPanicked, AppCancelled:
			return nil
		}
		return fmt.Errorf("application kind: %w", notVariant("AppErrorKind", v.Kind))
	case Poison:
		switch v.MessageType.(type) {
		case PoisonOrchestration, PoisonActivity, PoisonFailedDeserialization:
			return nil
		}
		return fmt.Errorf("poison message_type: %w", notVariant("PoisonMessageType", v.MessageType))
	}
	return notVariant("ErrorDetails", d)
}

// validateEventKind is ValidateEvent's check of the kind.
func validateEventKind(kind EventKind) error {
	var d ErrorDetails
	switch k := kind.(type) {
	case OrchestrationFailed:
		d = k.Details
	case ActivityFailed:
		d = k.Details
	case SubOrchestrationFailed:
		d = k.Details
	case OrchestrationStarted, OrchestrationCompleted, ActivityScheduled, ActivityCompleted,
		ActivityCancelRequested, TimerCreated, TimerFired, ExternalSubscribed, ExternalEvent,
		OrchestrationChained, SubOrchestrationScheduled, SubOrchestrationCompleted,
		SubOrchestrationCancelRequested, OrchestrationContinuedAsNew, OrchestrationCancelRequested,
		ExternalSubscribedCancelled, QueueSubscribed, QueueEventDelivered, QueueSubscriptionCancelled,
		CustomStatusUpdated, KeyValueSet, KeyValueCleared, KeyValuesCleared:
		return nil
	default:
		return notVariant("EventKind", kind)
	}
	if err := ValidateErrorDetails(d); err != nil {
		return fmt.Errorf("%s.details: %w", kind.EventType(), err)
	}
	return nil
}

// notVariant describes a value of sum type sumType that is none of its
// variants. Only refused values reach it, so its reflection is off the
// success path.
func notVariant(sumType string, v any) error {
	if v == nil {
		return fmt.Errorf("%w: nil %s", ErrUnknownVariant, sumType)
	}
	if t := reflect.TypeOf(v); t.Kind() == reflect.Pointer {
		return fmt.Errorf("%w: %s %v is a pointer; pass the value %v", ErrUnknownVariant, sumType, t, t.Elem())
	}
	return fmt.Errorf("%w: %s type %T is not a variant", ErrUnknownVariant, sumType, v)
}
