package proptest

import (
	"github.com/duroxide-go/duroxide"
)

// The contract's ownership rule: a provider never retains what it is passed
// and never returns values that alias its state. The state machine checks it
// by scribbling over every argument after the call and over every result
// after checking it; a provider that kept or shared them shows the scribbles
// in a later answer.

// scribble is the value written over strings the caller owns.
const scribble = "scribbled-by-proptest"

// scribbleOp overwrites the memory a call's arguments reach (slices and the
// targets of pointers) once the call has returned and the model has copied
// what it keeps.
func scribbleOp(o *op) {
	o.item = scribbleItem(o.item)
	scribbleEvents(o.events)
	scribbleEvents(o.ack.HistoryDelta)
	for i := range o.ack.WorkerItems {
		o.ack.WorkerItems[i] = scribbleItem(o.ack.WorkerItems[i])
	}
	for i := range o.ack.OrchestratorItems {
		o.ack.OrchestratorItems[i] = scribbleItem(o.ack.OrchestratorItems[i])
	}
	for i := range o.ack.CancelledActivities {
		o.ack.CancelledActivities[i] = duroxide.ScheduledActivityIdentifier{Instance: scribble, ExecutionID: 99, ActivityID: 99}
	}
	md := &o.ack.Metadata
	for _, s := range []*string{md.Output, md.OrchestrationName, md.OrchestrationVersion, md.ParentInstanceID} {
		if s != nil {
			*s = scribble
		}
	}
	if md.PinnedDuroxideVersion != nil {
		*md.PinnedDuroxideVersion = duroxide.Semver{Major: 99}
	}
	if o.session != nil {
		o.session.OwnerID = scribble
	}
	for i := range o.owners {
		o.owners[i] = scribble
	}
	for i := range o.ids {
		o.ids[i] = scribble
	}
	if o.prune.KeepLast != nil {
		*o.prune.KeepLast = 99
	}
	if o.prune.CompletedBefore != nil {
		*o.prune.CompletedBefore = 1
	}
	for i := range o.bulk.InstanceIDs {
		o.bulk.InstanceIDs[i] = scribble
	}
	if o.bulk.CompletedBefore != nil {
		*o.bulk.CompletedBefore = 1
	}
	if o.bulk.Limit != nil {
		*o.bulk.Limit = 99
	}
}

// scribbleResult overwrites everything a result holds.
func scribbleResult(r *result) {
	if it := r.orch; it != nil {
		scribbleEvents(it.History)
		for i := range it.Messages {
			it.Messages[i] = scribbleItem(it.Messages[i])
		}
		for k := range it.KVSnapshot {
			it.KVSnapshot[k] = duroxide.KvEntry{Value: scribble}
		}
		if it.KVSnapshot != nil {
			it.KVSnapshot[scribble] = duroxide.KvEntry{Value: scribble}
		}
	}
	if w := r.work; w != nil {
		w.Item = scribbleItem(w.Item)
	}
	scribbleEvents(r.events)
	for k := range r.kv {
		r.kv[k] = scribble
	}
	if r.kv != nil {
		r.kv[scribble] = scribble
	}
	if r.status.Status != nil {
		*r.status.Status = scribble
	}
}

// scribbleEvents overwrites each event's pointer targets, then the event.
func scribbleEvents(events []duroxide.Event) {
	for i := range events {
		e := &events[i]
		if e.SourceEventID != nil {
			*e.SourceEventID = 99
		}
		switch k := e.Kind.(type) {
		case duroxide.OrchestrationStarted:
			for _, s := range []*string{k.ParentInstance, k.InitialCustomStatus} {
				if s != nil {
					*s = scribble
				}
			}
			if k.ParentID != nil {
				*k.ParentID = 99
			}
			for j := range k.CarryForwardEvents {
				k.CarryForwardEvents[j] = duroxide.CarriedEvent{Name: scribble}
			}
		case duroxide.ActivityScheduled:
			for _, s := range []*string{k.SessionID, k.Tag} {
				if s != nil {
					*s = scribble
				}
			}
		case duroxide.CustomStatusUpdated:
			if k.Status != nil {
				*k.Status = scribble
			}
		}
		*e = duroxide.Event{EventID: 99, InstanceID: scribble, Kind: duroxide.ExternalEvent{Name: scribble}}
	}
}

// scribbleItem overwrites w's pointer targets and returns a replacement
// value for the slot that held it.
func scribbleItem(w duroxide.WorkItem) duroxide.WorkItem {
	if w == nil {
		return nil
	}
	var ptrs []*string
	switch v := w.(type) {
	case duroxide.StartOrchestrationItem:
		ptrs = []*string{v.Version, v.ParentInstance}
		if v.ParentID != nil {
			*v.ParentID = 99
		}
	case duroxide.ActivityExecuteItem:
		ptrs = []*string{v.SessionID, v.Tag}
	case duroxide.ContinueAsNewItem:
		ptrs = []*string{v.Version, v.InitialCustomStatus}
		for j := range v.CarryForwardEvents {
			v.CarryForwardEvents[j] = duroxide.CarriedEvent{Name: scribble}
		}
	}
	for _, s := range ptrs {
		if s != nil {
			*s = scribble
		}
	}
	return duroxide.QueueMessageItem{Instance: scribble, Name: scribble, Data: scribble}
}
