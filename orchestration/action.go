package orchestration

// Action is a decision an orchestration turn produced: the engine turns each
// new action into a history event (except [ContinueAsNewAction]) and the
// dispatcher turns the scheduling ones into work items. It is a closed sum
// type of the *Action structs of this package.
//
// Actions are plain data, not synchronized.
type Action interface{ isAction() }

// CallActivityAction schedules an activity. Worker item: ActivityExecute with
// ID SchedulingEventID.
//
// Plain data, not synchronized.
type CallActivityAction struct {
	SchedulingEventID uint64
	Name              string
	Input             string
	SessionID         *string
	Tag               *string
}

// CreateTimerAction creates a durable timer. Orchestrator item: TimerFired
// with FireAtMs.
//
// Plain data, not synchronized.
type CreateTimerAction struct {
	SchedulingEventID uint64
	FireAtMs          uint64
}

// WaitExternalAction subscribes to a positional external event.
//
// Plain data, not synchronized.
type WaitExternalAction struct {
	SchedulingEventID uint64
	Name              string
}

// DequeueEventAction subscribes to the next message of a persistent event
// queue.
//
// Plain data, not synchronized.
type DequeueEventAction struct {
	SchedulingEventID uint64
	Name              string
}

// StartSubOrchestrationAction starts a child whose result routes back.
// Instance is the history form ("sub::<event id>" when generated); the
// child's real instance id is [ChildInstanceID](parent, Instance).
//
// Plain data, not synchronized.
type StartSubOrchestrationAction struct {
	SchedulingEventID uint64
	Name              string
	Version           *string
	Instance          string
	Input             string
}

// StartDetachedAction starts an independent orchestration (fire and forget)
// with exactly the given instance id.
//
// Plain data, not synchronized.
type StartDetachedAction struct {
	SchedulingEventID uint64
	Name              string
	Version           *string
	Instance          string
	Input             string
}

// ContinueAsNewAction ends the execution and starts the next one with Input
// (and Version when set). It has no history event of its own.
//
// Plain data, not synchronized.
type ContinueAsNewAction struct {
	Input   string
	Version *string
}

// UpdateCustomStatusAction sets (Status non-nil) or clears the custom status.
//
// Plain data, not synchronized.
type UpdateCustomStatusAction struct{ Status *string }

// SetKeyValueAction sets a key of the instance's key/value store.
//
// Plain data, not synchronized.
type SetKeyValueAction struct {
	Key             string
	Value           string
	LastUpdatedAtMs uint64
}

// ClearKeyValueAction removes one key of the instance's key/value store.
//
// Plain data, not synchronized.
type ClearKeyValueAction struct{ Key string }

// ClearKeyValuesAction removes every key of the instance's key/value store.
//
// Plain data, not synchronized.
type ClearKeyValuesAction struct{}

func (CallActivityAction) isAction()          {}
func (CreateTimerAction) isAction()           {}
func (WaitExternalAction) isAction()          {}
func (DequeueEventAction) isAction()          {}
func (StartSubOrchestrationAction) isAction() {}
func (StartDetachedAction) isAction()         {}
func (ContinueAsNewAction) isAction()         {}
func (UpdateCustomStatusAction) isAction()    {}
func (SetKeyValueAction) isAction()           {}
func (ClearKeyValueAction) isAction()         {}
func (ClearKeyValuesAction) isAction()        {}
