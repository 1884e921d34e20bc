package host

import (
	"fmt"
	"slices"

	"github.com/duroxide-go/duroxide"
	"github.com/duroxide-go/duroxide/orchestration"
)

// Size limits of a turn, as duroxide's runtime enforces them. A turn that
// exceeds one fails its orchestration with an application error naming the
// limit, instead of committing state other runtimes could not load.
const (
	// MaxCustomStatusBytes bounds a custom status.
	MaxCustomStatusBytes = 256 * 1024
	// MaxKVValueBytes bounds one key/value value.
	MaxKVValueBytes = 16 * 1024
	// MaxKVKeys bounds the keys of an instance's key/value store.
	MaxKVKeys = 100
	// MaxTagBytes bounds an activity's worker tag.
	MaxTagBytes = 256
)

// limitViolation returns why the turn's ack exceeds a size limit, or "".
func limitViolation(ack *duroxide.OrchestrationAck, snapshot map[string]duroxide.KvEntry) string {
	keys := make(map[string]struct{}, len(snapshot))
	for k := range snapshot {
		keys[k] = struct{}{}
	}
	var status *string
	for i := range ack.HistoryDelta {
		switch k := ack.HistoryDelta[i].Kind.(type) {
		case duroxide.CustomStatusUpdated:
			status = k.Status
		case duroxide.ActivityScheduled:
			if k.Tag != nil && len(*k.Tag) > MaxTagBytes {
				return fmt.Sprintf("activity %q tag size (%d bytes) exceeds limit (%d bytes)", k.Name, len(*k.Tag), MaxTagBytes)
			}
		case duroxide.KeyValueSet:
			if len(k.Value) > MaxKVValueBytes {
				return fmt.Sprintf("KV value for key %q (%d bytes) exceeds limit (%d bytes)", k.Key, len(k.Value), MaxKVValueBytes)
			}
			keys[k.Key] = struct{}{}
		case duroxide.KeyValueCleared:
			delete(keys, k.Key)
		case duroxide.KeyValuesCleared:
			clear(keys)
		}
	}
	if status != nil && len(*status) > MaxCustomStatusBytes {
		return fmt.Sprintf("custom status size (%d bytes) exceeds limit (%d bytes)", len(*status), MaxCustomStatusBytes)
	}
	if len(keys) > MaxKVKeys {
		return fmt.Sprintf("KV key count (%d) exceeds limit (%d)", len(keys), MaxKVKeys)
	}
	return ""
}

// failForLimit rewrites a turn's ack so that it fails the orchestration
// with msg: the turn's events up to its end (a terminal event and what
// follows it are dropped), the failure, the cancellation of in-flight
// activities, and the parent's notice. Nothing this turn scheduled is sent.
func (r *Runtime) failForLimit(item *duroxide.OrchestrationItem, batch orchestration.Batch, ack duroxide.OrchestrationAck, msg string) duroxide.OrchestrationAck {
	details := duroxide.Application{Kind: duroxide.AppOrchestrationFailed{}, Message: msg}
	exec := ack.ExecutionID
	var delta []duroxide.Event
	for _, e := range ack.HistoryDelta {
		if e.IsTerminal() {
			break
		}
		delta = append(delta, e)
	}
	persisted := item.History
	if exec != item.ExecutionID {
		persisted = nil // a continue-as-new turn: the delta starts the new execution
	}
	next := duroxide.InitialEventID
	if n := len(delta); n > 0 {
		next = delta[n-1].EventID + 1
	} else if n := len(persisted); n > 0 {
		next = persisted[n-1].EventID + 1
	}
	delta = append(delta, r.event(item.Instance, exec, next, duroxide.OrchestrationFailed{Details: details}))
	next++
	out := duroxide.OrchestrationAck{ExecutionID: exec}
	for _, id := range orchestration.InflightActivities(append(slices.Clip(persisted), delta...)) {
		src := id
		ev := r.event(item.Instance, exec, next, duroxide.ActivityCancelRequested{Reason: "orchestration_terminal_failed"})
		ev.SourceEventID = &src
		delta = append(delta, ev)
		next++
		out.CancelledActivities = append(out.CancelledActivities,
			duroxide.ScheduledActivityIdentifier{Instance: item.Instance, ExecutionID: exec, ActivityID: id})
	}
	out.HistoryDelta = delta
	m := ack.Metadata
	display := details.DisplayMessage()
	m.Status, m.Output = duroxide.StatusFailed, &display
	out.Metadata = m
	if batch.ParentInstance != nil && batch.ParentID != nil {
		out.OrchestratorItems = []duroxide.WorkItem{duroxide.SubOrchFailedItem{ParentInstance: *batch.ParentInstance,
			ParentExecutionID: duroxide.InitialExecutionID, ParentID: *batch.ParentID, Details: details}}
	}
	return out
}
