package faults

import (
	"fmt"

	"github.com/duroxide-go/duroxide"
)

// The workload's orchestration: names and values it writes, so that the
// check can recompute what every instance's history must hold.
const (
	orchestrationName    = "FaultWorkload"
	orchestrationVersion = "1.0.0"
	activityName         = "Work"
	// duroxideVersion is the runtime version stamped on every event.
	duroxideVersion = "0.1.26"
)

// activityResult is the result the workload's activity returns for one
// activity of an instance.
func activityResult(instance string, id uint64) string { return fmt.Sprintf("%s/%d", instance, id) }

// orchestrationOutput is an instance's output on completion.
func orchestrationOutput(instance string) string { return instance + " done" }

// turnResult is one orchestration turn: the ack that commits it and what
// the replay ignored.
type turnResult struct {
	ack duroxide.OrchestrationAck
	// duplicateStarts counts StartOrchestration messages ignored because the
	// instance had already started.
	duplicateStarts int
	// duplicateCompletions counts ActivityCompleted messages ignored because
	// their activity's completion was already recorded (or unknown).
	duplicateCompletions int
}

// replay runs the workload's orchestration over one fetched item, as
// duroxide's runtime replays an orchestration: the history says what
// already happened, the messages are new, and new events get ids following
// the history's (len(history)+1, +2, ...), so a batch redelivered after a
// lost ack is turned into the same delta again.
//
// The orchestration starts on its first StartOrchestration by scheduling
// activities activities, records each activity's first completion, and
// completes when every scheduled activity has completed. It ignores
// duplicates: a StartOrchestration for an instance whose history (or this
// turn) already holds OrchestrationStarted — unless naiveStarts, the
// negative control — and completions already recorded. A finished instance
// ignores everything. nowMs stamps the new events.
func replay(item *duroxide.LockedOrchestrationItem, activities int, nowMs uint64, naiveStarts bool) turnResult {
	execID := item.ExecutionID
	if execID == 0 {
		execID = duroxide.InitialExecutionID
	}
	var (
		started, finished bool
		scheduled         = map[uint64]bool{}
		completed         = map[uint64]bool{}
	)
	for _, e := range item.History {
		finished = finished || e.IsTerminal()
		switch e.Kind.(type) {
		case duroxide.OrchestrationStarted:
			started = true
		case duroxide.ActivityScheduled:
			scheduled[e.EventID] = true
		case duroxide.ActivityCompleted:
			if e.SourceEventID != nil {
				completed[*e.SourceEventID] = true
			}
		}
	}

	var r turnResult
	r.ack.ExecutionID = execID
	next := uint64(len(item.History)) + 1
	emit := func(kind duroxide.EventKind, source *uint64) uint64 {
		id := next
		next++
		r.ack.HistoryDelta = append(r.ack.HistoryDelta, duroxide.Event{
			EventID:         id,
			SourceEventID:   source,
			InstanceID:      item.Instance,
			ExecutionID:     execID,
			TimestampMs:     nowMs,
			DuroxideVersion: duroxideVersion,
			Kind:            kind,
		})
		return id
	}

	for _, m := range item.Messages {
		switch m := m.(type) {
		case duroxide.StartOrchestrationItem:
			if finished || (started && !naiveStarts) {
				r.duplicateStarts++
				continue
			}
			started = true
			emit(duroxide.OrchestrationStarted{Name: orchestrationName, Version: orchestrationVersion, Input: m.Input}, nil)
			name, version := orchestrationName, orchestrationVersion
			r.ack.Metadata.OrchestrationName, r.ack.Metadata.OrchestrationVersion = &name, &version
			for range activities {
				id := emit(duroxide.ActivityScheduled{Name: activityName, Input: item.Instance}, nil)
				scheduled[id] = true
				r.ack.WorkerItems = append(r.ack.WorkerItems, duroxide.ActivityExecuteItem{
					Instance: item.Instance, ExecutionID: execID, ID: id, Name: activityName, Input: item.Instance,
				})
			}
		case duroxide.ActivityCompletedItem:
			if finished || !scheduled[m.ID] || completed[m.ID] {
				r.duplicateCompletions++
				continue
			}
			completed[m.ID] = true
			source := m.ID
			emit(duroxide.ActivityCompleted{Result: m.Result}, &source)
		}
	}

	if started && !finished && len(scheduled) > 0 && len(completed) == len(scheduled) {
		out := orchestrationOutput(item.Instance)
		emit(duroxide.OrchestrationCompleted{Output: out}, nil)
		r.ack.Metadata.Status = duroxide.StatusCompleted
		r.ack.Metadata.Output = &out
	}
	return r
}
