package duroxide

// InitialExecutionID is the execution id of the first execution of every
// instance.
const InitialExecutionID uint64 = 1

// InitialEventID is the event id of the first event (OrchestrationStarted) of
// every execution. Event id 0 is invalid for storage.
const InitialEventID uint64 = 1

// PoisonSentinelEventID is the event id the runtime uses for the
// OrchestrationFailed event it appends when stored history could not be
// decoded (the provider must accept it without reading the corrupt rows).
const PoisonSentinelEventID uint64 = 99999

// Event is one history entry: a common envelope plus a kind-specific payload.
//
// The provider treats events as opaque except for the event id (its storage
// key), the wire type, and the few kinds listed in the contract (custom status
// and key/value events on ack; OrchestrationStarted in a fetch fallback).
//
// An Event is a value; it is not safe to mutate one from several goroutines.
// Use [Event.Clone] for a deep copy.
type Event struct {
	// EventID is the event's position inside its execution, assigned by the
	// runtime, strictly increasing from 1. Zero is invalid.
	EventID uint64
	// SourceEventID is, for completion and cancellation events, the event id
	// of the scheduling event they refer to; nil otherwise.
	SourceEventID *uint64
	// InstanceID is the instance the event belongs to.
	InstanceID string
	// ExecutionID is the execution the event belongs to.
	ExecutionID uint64
	// TimestampMs is the runtime's wall-clock creation time in Unix
	// milliseconds.
	TimestampMs uint64
	// DuroxideVersion is the semver of the runtime that wrote the event. For
	// OrchestrationStarted it is the execution's pinned version.
	DuroxideVersion string
	// Kind is the payload; never nil in a valid event.
	Kind EventKind
}

// IsTerminal reports whether the event ends its execution
// (OrchestrationCompleted, OrchestrationFailed or OrchestrationContinuedAsNew).
func (e Event) IsTerminal() bool {
	switch e.Kind.(type) {
	case OrchestrationCompleted, OrchestrationFailed, OrchestrationContinuedAsNew:
		return true
	}
	return false
}

// Clone returns a deep copy of e that shares no memory with it. e must be
// valid ([ValidateEvent]): the copy of a pointer kind shares its pointee.
func (e Event) Clone() Event {
	c := e
	c.SourceEventID = clonePtr(e.SourceEventID)
	if e.Kind != nil {
		if k := e.Kind.cloneKind(); k != nil {
			c.Kind = k
		}
	}
	return c
}

// CloneEvents returns a deep copy of events (nil for nil).
func CloneEvents(events []Event) []Event {
	if events == nil {
		return nil
	}
	out := make([]Event, len(events))
	for i := range events {
		out[i] = events[i].Clone()
	}
	return out
}

// EventKind is the payload of an [Event]. It is a sealed sum type: the
// variants are exactly the 26 struct values listed by [EventKinds], all in
// this package. Go cannot seal an interface against pointers (&KeyValueSet{}
// satisfies EventKind too): such values are not variants, the encoder refuses
// them, and providers refuse them on every write path ([ValidateEvent]).
//
// Every variant is plain data, not synchronized (see the package doc,
// Concurrency).
//
//sumtype:decl
type EventKind interface {
	// EventType returns the variant's wire tag: the value of the JSON "type"
	// key (for example "ExternalSubscribedPersistent" for QueueSubscribed).
	EventType() string
	// cloneKind returns a deep copy, or nil when the value holds no pointer,
	// slice or interface that a copy could share (a boxed value without
	// references is immutable, so it can be shared as is).
	cloneKind() EventKind
}

// CarriedEvent is one (name, data) pair carried forward across
// continue-as-new. It marshals as a two-element JSON array.
//
// Plain data, not synchronized (see the package doc, Concurrency).
type CarriedEvent struct {
	Name string
	Data string
}

// OrchestrationStarted is always event 1 of an execution. Its envelope's
// DuroxideVersion is the execution's pinned version.
type OrchestrationStarted struct {
	Name           string
	Version        string
	Input          string
	ParentInstance *string
	ParentID       *uint64
	// CarryForwardEvents: nil means absent (omitted on the wire); a non-nil
	// empty slice is present and empty.
	CarryForwardEvents  []CarriedEvent
	InitialCustomStatus *string
}

// OrchestrationCompleted ends an execution successfully.
type OrchestrationCompleted struct{ Output string }

// OrchestrationFailed ends an execution with an error.
type OrchestrationFailed struct{ Details ErrorDetails }

// ActivityScheduled schedules an activity; its event id is the activity id.
type ActivityScheduled struct {
	Name      string
	Input     string
	SessionID *string
	Tag       *string
}

// ActivityCompleted records an activity's result.
type ActivityCompleted struct{ Result string }

// ActivityFailed records an activity's failure.
type ActivityFailed struct{ Details ErrorDetails }

// ActivityCancelRequested is a best-effort cancellation breadcrumb.
type ActivityCancelRequested struct{ Reason string }

// TimerCreated schedules a durable timer.
type TimerCreated struct{ FireAtMs uint64 }

// TimerFired records that a timer fired.
type TimerFired struct{ FireAtMs uint64 }

// ExternalSubscribed subscribes to an external event by name.
type ExternalSubscribed struct{ Name string }

// ExternalEvent records a raised external event.
type ExternalEvent struct {
	Name string
	Data string
}

// OrchestrationChained starts another orchestration, fire-and-forget.
type OrchestrationChained struct {
	Name     string
	Instance string
	Input    string
}

// SubOrchestrationScheduled schedules a sub-orchestration.
type SubOrchestrationScheduled struct {
	Name     string
	Instance string
	Input    string
}

// SubOrchestrationCompleted records a sub-orchestration's result.
type SubOrchestrationCompleted struct{ Result string }

// SubOrchestrationFailed records a sub-orchestration's failure.
type SubOrchestrationFailed struct{ Details ErrorDetails }

// SubOrchestrationCancelRequested records a request to cancel a child.
type SubOrchestrationCancelRequested struct{ Reason string }

// OrchestrationContinuedAsNew ends the execution; a new one starts with Input.
type OrchestrationContinuedAsNew struct{ Input string }

// OrchestrationCancelRequested records a cancellation request.
type OrchestrationCancelRequested struct{ Reason string }

// ExternalSubscribedCancelled cancels an external-event subscription.
type ExternalSubscribedCancelled struct{ Reason string }

// QueueSubscribed is a persistent (mailbox) subscription; wire tag
// "ExternalSubscribedPersistent".
type QueueSubscribed struct{ Name string }

// QueueEventDelivered is a delivered mailbox event; wire tag
// "ExternalEventPersistent".
type QueueEventDelivered struct {
	Name string
	Data string
}

// QueueSubscriptionCancelled cancels a persistent subscription; wire tag
// "ExternalSubscribedPersistentCancelled".
type QueueSubscriptionCancelled struct{ Reason string }

// CustomStatusUpdated sets (Status non-nil) or clears (nil) the instance's
// custom status. Providers apply the last one of an ack's history delta.
type CustomStatusUpdated struct{ Status *string }

// KeyValueSet sets a key of the instance's key/value store.
type KeyValueSet struct {
	Key             string
	Value           string
	LastUpdatedAtMs uint64
}

// KeyValueCleared removes one key of the instance's key/value store.
type KeyValueCleared struct{ Key string }

// KeyValuesCleared removes every key of the instance's key/value store.
type KeyValuesCleared struct{}

// EventKinds returns one zero value of every EventKind variant, in the
// contract's order. It is the authoritative list of variants.
func EventKinds() []EventKind {
	return []EventKind{
		OrchestrationStarted{}, OrchestrationCompleted{}, OrchestrationFailed{},
		ActivityScheduled{}, ActivityCompleted{}, ActivityFailed{}, ActivityCancelRequested{},
		TimerCreated{}, TimerFired{}, ExternalSubscribed{}, ExternalEvent{},
		OrchestrationChained{}, SubOrchestrationScheduled{}, SubOrchestrationCompleted{},
		SubOrchestrationFailed{}, SubOrchestrationCancelRequested{}, OrchestrationContinuedAsNew{},
		OrchestrationCancelRequested{}, ExternalSubscribedCancelled{}, QueueSubscribed{},
		QueueEventDelivered{}, QueueSubscriptionCancelled{}, CustomStatusUpdated{},
		KeyValueSet{}, KeyValueCleared{}, KeyValuesCleared{},
	}
}

// EventType implements EventKind.
func (OrchestrationStarted) EventType() string { return "OrchestrationStarted" }

// EventType implements EventKind.
func (OrchestrationCompleted) EventType() string { return "OrchestrationCompleted" }

// EventType implements EventKind.
func (OrchestrationFailed) EventType() string { return "OrchestrationFailed" }

// EventType implements EventKind.
func (ActivityScheduled) EventType() string { return "ActivityScheduled" }

// EventType implements EventKind.
func (ActivityCompleted) EventType() string { return "ActivityCompleted" }

// EventType implements EventKind.
func (ActivityFailed) EventType() string { return "ActivityFailed" }

// EventType implements EventKind.
func (ActivityCancelRequested) EventType() string { return "ActivityCancelRequested" }

// EventType implements EventKind.
func (TimerCreated) EventType() string { return "TimerCreated" }

// EventType implements EventKind.
func (TimerFired) EventType() string { return "TimerFired" }

// EventType implements EventKind.
func (ExternalSubscribed) EventType() string { return "ExternalSubscribed" }

// EventType implements EventKind.
func (ExternalEvent) EventType() string { return "ExternalEvent" }

// EventType implements EventKind.
func (OrchestrationChained) EventType() string { return "OrchestrationChained" }

// EventType implements EventKind.
func (SubOrchestrationScheduled) EventType() string { return "SubOrchestrationScheduled" }

// EventType implements EventKind.
func (SubOrchestrationCompleted) EventType() string { return "SubOrchestrationCompleted" }

// EventType implements EventKind.
func (SubOrchestrationFailed) EventType() string { return "SubOrchestrationFailed" }

// EventType implements EventKind.
func (SubOrchestrationCancelRequested) EventType() string {
	return "SubOrchestrationCancelRequested"
}

// EventType implements EventKind.
func (OrchestrationContinuedAsNew) EventType() string { return "OrchestrationContinuedAsNew" }

// EventType implements EventKind.
func (OrchestrationCancelRequested) EventType() string { return "OrchestrationCancelRequested" }

// EventType implements EventKind.
func (ExternalSubscribedCancelled) EventType() string { return "ExternalSubscribedCancelled" }

// EventType implements EventKind.
func (QueueSubscribed) EventType() string { return "ExternalSubscribedPersistent" }

// EventType implements EventKind.
func (QueueEventDelivered) EventType() string { return "ExternalEventPersistent" }

// EventType implements EventKind.
func (QueueSubscriptionCancelled) EventType() string {
	return "ExternalSubscribedPersistentCancelled"
}

// EventType implements EventKind.
func (CustomStatusUpdated) EventType() string { return "CustomStatusUpdated" }

// EventType implements EventKind.
func (KeyValueSet) EventType() string { return "KeyValueSet" }

// EventType implements EventKind.
func (KeyValueCleared) EventType() string { return "KeyValueCleared" }

// EventType implements EventKind.
func (KeyValuesCleared) EventType() string { return "KeyValuesCleared" }

func (k OrchestrationStarted) cloneKind() EventKind {
	if k.ParentInstance == nil && k.ParentID == nil && k.CarryForwardEvents == nil && k.InitialCustomStatus == nil {
		return nil
	}
	k.ParentInstance = clonePtr(k.ParentInstance)
	k.ParentID = clonePtr(k.ParentID)
	if k.CarryForwardEvents != nil {
		k.CarryForwardEvents = append(make([]CarriedEvent, 0, len(k.CarryForwardEvents)), k.CarryForwardEvents...)
	}
	k.InitialCustomStatus = clonePtr(k.InitialCustomStatus)
	return k
}
func (OrchestrationCompleted) cloneKind() EventKind { return nil }
func (k OrchestrationFailed) cloneKind() EventKind {
	if k.Details == nil || k.Details.cloneDetails() == nil {
		return nil
	}
	k.Details = k.Details.cloneDetails()
	return k
}
func (k ActivityScheduled) cloneKind() EventKind {
	if k.SessionID == nil && k.Tag == nil {
		return nil
	}
	k.SessionID = clonePtr(k.SessionID)
	k.Tag = clonePtr(k.Tag)
	return k
}
func (ActivityCompleted) cloneKind() EventKind { return nil }
func (k ActivityFailed) cloneKind() EventKind {
	if k.Details == nil || k.Details.cloneDetails() == nil {
		return nil
	}
	k.Details = k.Details.cloneDetails()
	return k
}
func (ActivityCancelRequested) cloneKind() EventKind   { return nil }
func (TimerCreated) cloneKind() EventKind              { return nil }
func (TimerFired) cloneKind() EventKind                { return nil }
func (ExternalSubscribed) cloneKind() EventKind        { return nil }
func (ExternalEvent) cloneKind() EventKind             { return nil }
func (OrchestrationChained) cloneKind() EventKind      { return nil }
func (SubOrchestrationScheduled) cloneKind() EventKind { return nil }
func (SubOrchestrationCompleted) cloneKind() EventKind { return nil }
func (k SubOrchestrationFailed) cloneKind() EventKind {
	if k.Details == nil || k.Details.cloneDetails() == nil {
		return nil
	}
	k.Details = k.Details.cloneDetails()
	return k
}
func (SubOrchestrationCancelRequested) cloneKind() EventKind { return nil }
func (OrchestrationContinuedAsNew) cloneKind() EventKind     { return nil }
func (OrchestrationCancelRequested) cloneKind() EventKind    { return nil }
func (ExternalSubscribedCancelled) cloneKind() EventKind     { return nil }
func (QueueSubscribed) cloneKind() EventKind                 { return nil }
func (QueueEventDelivered) cloneKind() EventKind             { return nil }
func (QueueSubscriptionCancelled) cloneKind() EventKind      { return nil }
func (k CustomStatusUpdated) cloneKind() EventKind {
	if k.Status == nil {
		return nil
	}
	k.Status = clonePtr(k.Status)
	return k
}
func (KeyValueSet) cloneKind() EventKind      { return nil }
func (KeyValueCleared) cloneKind() EventKind  { return nil }
func (KeyValuesCleared) cloneKind() EventKind { return nil }

// clonePtr returns a pointer to a copy of *p, or nil.
func clonePtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}
