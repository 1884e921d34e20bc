package duroxide

// WorkItem is a message on one of the provider's two queues. It is a sealed
// sum type: the variants are exactly the 11 struct values listed by
// [WorkItemVariants]; a pointer to one satisfies the interface but is not a
// variant, and is refused by the encoder and by providers
// ([ValidateWorkItem]). [ActivityExecuteItem] goes to the worker queue; every
// other variant goes to the orchestrator queue of its routing instance (see
// [OrchestratorInstance]). On the wire a work item is externally tagged:
// {"StartOrchestration": {...}}.
//
// Every variant is plain data, not synchronized (see the package doc,
// Concurrency).
//
//sumtype:decl
type WorkItem interface {
	// Variant returns the variant's wire name, e.g. "StartOrchestration".
	Variant() string
	// cloneItem returns a deep copy, or nil when the value can be shared.
	cloneItem() WorkItem
}

// CloneWorkItem returns a deep copy of w (nil for nil). w must be valid
// ([ValidateWorkItem]): the copy of a pointer variant shares its pointee.
func CloneWorkItem(w WorkItem) WorkItem {
	if w == nil {
		return nil
	}
	if c := w.cloneItem(); c != nil {
		return c
	}
	return w
}

// CloneWorkItems returns a deep copy of items (nil for nil).
func CloneWorkItems(items []WorkItem) []WorkItem {
	if items == nil {
		return nil
	}
	out := make([]WorkItem, len(items))
	for i, w := range items {
		out[i] = CloneWorkItem(w)
	}
	return out
}

// OrchestratorInstance returns the instance whose orchestrator queue w belongs
// to: the instance field for most variants, ParentInstance for
// [SubOrchCompletedItem] and [SubOrchFailedItem]. It returns false for
// [ActivityExecuteItem] (a worker-queue item) and for nil.
func OrchestratorInstance(w WorkItem) (string, bool) {
	switch v := w.(type) {
	case StartOrchestrationItem:
		return v.Instance, true
	case ActivityCompletedItem:
		return v.Instance, true
	case ActivityFailedItem:
		return v.Instance, true
	case TimerFiredItem:
		return v.Instance, true
	case ExternalRaisedItem:
		return v.Instance, true
	case SubOrchCompletedItem:
		return v.ParentInstance, true
	case SubOrchFailedItem:
		return v.ParentInstance, true
	case CancelInstanceItem:
		return v.Instance, true
	case ContinueAsNewItem:
		return v.Instance, true
	case QueueMessageItem:
		return v.Instance, true
	}
	return "", false
}

// StartOrchestrationItem starts an orchestration instance. Enqueuing it does
// not create the instance; the first ack with name and version does.
type StartOrchestrationItem struct {
	Instance      string
	Orchestration string
	Input         string
	// Version nil means the runtime resolves the latest version.
	Version        *string
	ParentInstance *string
	ParentID       *uint64
	ExecutionID    uint64
}

// ActivityExecuteItem asks a worker to run an activity. Its
// (Instance, ExecutionID, ID) triple is the activity identity used for
// cancellation.
type ActivityExecuteItem struct {
	Instance    string
	ExecutionID uint64
	// ID is the event id of the ActivityScheduled event.
	ID        uint64
	Name      string
	Input     string
	SessionID *string
	Tag       *string
}

// ActivityCompletedItem reports an activity's result to its orchestration.
type ActivityCompletedItem struct {
	Instance    string
	ExecutionID uint64
	ID          uint64
	Result      string
}

// ActivityFailedItem reports an activity's failure to its orchestration.
type ActivityFailedItem struct {
	Instance    string
	ExecutionID uint64
	ID          uint64
	Details     ErrorDetails
}

// TimerFiredItem fires a durable timer. Enqueued through an ack it becomes
// visible at FireAtMs; enqueued directly only the enqueue delay counts.
type TimerFiredItem struct {
	Instance    string
	ExecutionID uint64
	ID          uint64
	FireAtMs    uint64
}

// ExternalRaisedItem raises an external event on an instance.
type ExternalRaisedItem struct {
	Instance string
	Name     string
	Data     string
}

// SubOrchCompletedItem reports a child's result; it routes to ParentInstance.
type SubOrchCompletedItem struct {
	ParentInstance    string
	ParentExecutionID uint64
	ParentID          uint64
	Result            string
}

// SubOrchFailedItem reports a child's failure; it routes to ParentInstance.
type SubOrchFailedItem struct {
	ParentInstance    string
	ParentExecutionID uint64
	ParentID          uint64
	Details           ErrorDetails
}

// CancelInstanceItem cancels an instance.
type CancelInstanceItem struct {
	Instance string
	Reason   string
}

// ContinueAsNewItem starts the next execution of an instance.
type ContinueAsNewItem struct {
	Instance      string
	Orchestration string
	Input         string
	Version       *string
	// CarryForwardEvents is always present on the wire (empty when nil).
	CarryForwardEvents  []CarriedEvent
	InitialCustomStatus *string
}

// QueueMessageItem delivers a persistent (mailbox) event. Batches made only
// of QueueMessageItem for an instance that was never started are dropped by
// fetch.
type QueueMessageItem struct {
	Instance string
	Name     string
	Data     string
}

// WorkItemVariants returns one zero value of every WorkItem variant. It is the
// authoritative list of variants.
func WorkItemVariants() []WorkItem {
	return []WorkItem{
		StartOrchestrationItem{}, ActivityExecuteItem{}, ActivityCompletedItem{},
		ActivityFailedItem{}, TimerFiredItem{}, ExternalRaisedItem{}, SubOrchCompletedItem{},
		SubOrchFailedItem{}, CancelInstanceItem{}, ContinueAsNewItem{}, QueueMessageItem{},
	}
}

// Variant implements WorkItem.
func (StartOrchestrationItem) Variant() string { return "StartOrchestration" }

// Variant implements WorkItem.
func (ActivityExecuteItem) Variant() string { return "ActivityExecute" }

// Variant implements WorkItem.
func (ActivityCompletedItem) Variant() string { return "ActivityCompleted" }

// Variant implements WorkItem.
func (ActivityFailedItem) Variant() string { return "ActivityFailed" }

// Variant implements WorkItem.
func (TimerFiredItem) Variant() string { return "TimerFired" }

// Variant implements WorkItem.
func (ExternalRaisedItem) Variant() string { return "ExternalRaised" }

// Variant implements WorkItem.
func (SubOrchCompletedItem) Variant() string { return "SubOrchCompleted" }

// Variant implements WorkItem.
func (SubOrchFailedItem) Variant() string { return "SubOrchFailed" }

// Variant implements WorkItem.
func (CancelInstanceItem) Variant() string { return "CancelInstance" }

// Variant implements WorkItem.
func (ContinueAsNewItem) Variant() string { return "ContinueAsNew" }

// Variant implements WorkItem.
func (QueueMessageItem) Variant() string { return "QueueMessage" }

func (w StartOrchestrationItem) cloneItem() WorkItem {
	if w.Version == nil && w.ParentInstance == nil && w.ParentID == nil {
		return nil
	}
	w.Version = clonePtr(w.Version)
	w.ParentInstance = clonePtr(w.ParentInstance)
	w.ParentID = clonePtr(w.ParentID)
	return w
}
func (w ActivityExecuteItem) cloneItem() WorkItem {
	if w.SessionID == nil && w.Tag == nil {
		return nil
	}
	w.SessionID = clonePtr(w.SessionID)
	w.Tag = clonePtr(w.Tag)
	return w
}
func (ActivityCompletedItem) cloneItem() WorkItem { return nil }
func (w ActivityFailedItem) cloneItem() WorkItem {
	if w.Details == nil || w.Details.cloneDetails() == nil {
		return nil
	}
	w.Details = w.Details.cloneDetails()
	return w
}
func (TimerFiredItem) cloneItem() WorkItem       { return nil }
func (ExternalRaisedItem) cloneItem() WorkItem   { return nil }
func (SubOrchCompletedItem) cloneItem() WorkItem { return nil }
func (w SubOrchFailedItem) cloneItem() WorkItem {
	if w.Details == nil || w.Details.cloneDetails() == nil {
		return nil
	}
	w.Details = w.Details.cloneDetails()
	return w
}
func (CancelInstanceItem) cloneItem() WorkItem { return nil }
func (w ContinueAsNewItem) cloneItem() WorkItem {
	if w.Version == nil && w.CarryForwardEvents == nil && w.InitialCustomStatus == nil {
		return nil
	}
	w.Version = clonePtr(w.Version)
	if w.CarryForwardEvents != nil {
		w.CarryForwardEvents = append(make([]CarriedEvent, 0, len(w.CarryForwardEvents)), w.CarryForwardEvents...)
	}
	w.InitialCustomStatus = clonePtr(w.InitialCustomStatus)
	return w
}
func (QueueMessageItem) cloneItem() WorkItem { return nil }
