package faults

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/duroxide-go/duroxide"
)

const inst = "i"

func start() duroxide.WorkItem {
	return duroxide.StartOrchestrationItem{Instance: inst, Orchestration: orchestrationName, Input: inst, ExecutionID: 1}
}

func done(id uint64) duroxide.WorkItem {
	return duroxide.ActivityCompletedItem{Instance: inst, ExecutionID: 1, ID: id, Result: activityResult(inst, id)}
}

func item(history []duroxide.Event, msgs ...duroxide.WorkItem) *duroxide.LockedOrchestrationItem {
	return &duroxide.LockedOrchestrationItem{
		OrchestrationItem: duroxide.OrchestrationItem{Instance: inst, ExecutionID: 1, History: history, Messages: msgs},
		LockToken:         "t",
		AttemptCount:      1,
	}
}

// kinds renders events as "id:Type" or "id:Type<source".
func kinds(events []duroxide.Event) []string {
	out := make([]string, len(events))
	for i, e := range events {
		out[i] = fmt.Sprintf("%d:%s", e.EventID, e.Kind.EventType())
		if e.SourceEventID != nil {
			out[i] += fmt.Sprintf("<%d", *e.SourceEventID)
		}
	}
	return out
}

// TestReplay walks one instance through its turns, with the duplicates a
// faulty store produces: a start enqueued twice, a batch redelivered after
// a lost ack, a completion recorded twice.
func TestReplay(t *testing.T) {
	// Turn 1: two starts in one batch (a retried enqueue whose first attempt
	// took effect).
	t1 := replay(item(nil, start(), start()), 2, 1000, false)
	assert.Equal(t, []string{"1:OrchestrationStarted", "2:ActivityScheduled", "3:ActivityScheduled"}, kinds(t1.ack.HistoryDelta))
	assert.Equal(t, 1, t1.duplicateStarts)
	assert.Equal(t, []duroxide.WorkItem{
		duroxide.ActivityExecuteItem{Instance: inst, ExecutionID: 1, ID: 2, Name: activityName, Input: inst},
		duroxide.ActivityExecuteItem{Instance: inst, ExecutionID: 1, ID: 3, Name: activityName, Input: inst},
	}, t1.ack.WorkerItems)
	require.NotNil(t, t1.ack.Metadata.OrchestrationName)
	assert.Equal(t, orchestrationName, *t1.ack.Metadata.OrchestrationName)
	assert.Empty(t, t1.ack.Metadata.Status)
	for _, e := range t1.ack.HistoryDelta {
		assert.Equal(t, uint64(1000), e.TimestampMs)
		assert.Equal(t, inst, e.InstanceID)
	}

	// The same batch redelivered (the ack never committed) replays to the
	// same delta.
	assert.Equal(t, t1, replay(item(nil, start(), start()), 2, 1000, false))

	// Turn 2: a late duplicate start and one completion.
	h := t1.ack.HistoryDelta
	t2 := replay(item(h, start(), done(3)), 2, 2000, false)
	assert.Equal(t, []string{"4:ActivityCompleted<3"}, kinds(t2.ack.HistoryDelta))
	assert.Equal(t, 1, t2.duplicateStarts)
	assert.Empty(t, t2.ack.WorkerItems)
	assert.Nil(t, t2.ack.Metadata.OrchestrationName)

	// Turn 3: the same completion again, an unknown one, and the last one:
	// the instance completes.
	h = append(h, t2.ack.HistoryDelta...)
	t3 := replay(item(h, done(3), done(9), done(2)), 2, 3000, false)
	assert.Equal(t, []string{"5:ActivityCompleted<2", "6:OrchestrationCompleted"}, kinds(t3.ack.HistoryDelta))
	assert.Equal(t, 2, t3.duplicateCompletions)
	assert.Equal(t, duroxide.StatusCompleted, t3.ack.Metadata.Status)
	require.NotNil(t, t3.ack.Metadata.Output)
	assert.Equal(t, orchestrationOutput(inst), *t3.ack.Metadata.Output)

	// A finished instance ignores everything.
	h = append(h, t3.ack.HistoryDelta...)
	t4 := replay(item(h, start(), done(2)), 2, 4000, true)
	assert.Empty(t, t4.ack.HistoryDelta)
	assert.Equal(t, 1, t4.duplicateStarts)
	assert.Equal(t, 1, t4.duplicateCompletions)
	assert.Empty(t, checkHistory(inst, h, 2), "the final history passes the check")
}

// TestReplayNaiveStarts is the negative control's orchestration: it starts
// again on a duplicate start.
func TestReplayNaiveStarts(t *testing.T) {
	r := replay(item(nil, start(), start()), 1, 0, true)
	assert.Equal(t, []string{"1:OrchestrationStarted", "2:ActivityScheduled", "3:OrchestrationStarted", "4:ActivityScheduled"}, kinds(r.ack.HistoryDelta))
	assert.Zero(t, r.duplicateStarts)
}

// TestCheckHistory lists histories that violate the property.
func TestCheckHistory(t *testing.T) {
	ev := func(id uint64, kind duroxide.EventKind, src ...uint64) duroxide.Event {
		e := duroxide.Event{EventID: id, InstanceID: inst, ExecutionID: 1, Kind: kind}
		if len(src) > 0 {
			e.SourceEventID = &src[0]
		}
		return e
	}
	started := ev(1, duroxide.OrchestrationStarted{Name: orchestrationName})
	sched := func(id uint64) duroxide.Event { return ev(id, duroxide.ActivityScheduled{Name: activityName}) }
	comp := func(id, src uint64) duroxide.Event {
		return ev(id, duroxide.ActivityCompleted{Result: activityResult(inst, src)}, src)
	}
	end := func(id uint64) duroxide.Event {
		return ev(id, duroxide.OrchestrationCompleted{Output: orchestrationOutput(inst)})
	}

	tests := []struct {
		name string
		hist []duroxide.Event
		want []string
	}{
		{"good", []duroxide.Event{started, sched(2), sched(3), comp(4, 3), comp(5, 2), end(6)}, nil},
		{"empty", nil, []string{"no history: the instance never started"}},
		{"not completed", []duroxide.Event{started, sched(2), sched(3), comp(4, 3)}, []string{
			"activity 2 completed 0 times, want exactly once",
			"0 OrchestrationCompleted events (last event ActivityCompleted), want exactly one, last",
		}},
		{"completion twice", []duroxide.Event{started, sched(2), sched(3), comp(4, 3), comp(5, 2), comp(6, 2), end(7)}, []string{
			"activity 2 completed 2 times, want exactly once",
		}},
		{"started twice", []duroxide.Event{started, sched(2), sched(3), ev(4, duroxide.OrchestrationStarted{}), comp(5, 3), comp(6, 2), end(7)}, []string{
			"2 OrchestrationStarted events (first event OrchestrationStarted), want exactly one, first",
		}},
		{"too many activities", []duroxide.Event{started, sched(2), sched(3), sched(4), comp(5, 3), comp(6, 2), comp(7, 4), end(8)}, []string{
			"3 activities scheduled, want 2",
		}},
		{"unknown completion, wrong result", []duroxide.Event{started, sched(2), sched(3), comp(4, 3), comp(5, 2), comp(6, 9),
			ev(7, duroxide.ActivityCompleted{Result: "x"}, 3), end(8)}, []string{
			"event 6 completes unknown activity 9",
			`activity 3 result "x", want "i/3"`,
			"activity 3 completed 2 times, want exactly once",
		}},
		{"gap in ids", []duroxide.Event{started, sched(2), sched(3), comp(4, 3), comp(5, 2), end(7)}, []string{
			"event 5 has id 7, want 6",
		}},
		{"wrong output", []duroxide.Event{started, sched(2), sched(3), comp(4, 3), comp(5, 2), ev(6, duroxide.OrchestrationCompleted{Output: "?"})}, []string{
			`output "?", want "i done"`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, checkHistory(inst, tt.hist, 2))
		})
	}
}
