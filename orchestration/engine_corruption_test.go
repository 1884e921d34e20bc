package orchestration

import (
	"strings"
	"testing"
	"time"

	"github.com/duroxide-go/duroxide"
	"github.com/stretchr/testify/require"
)

// 8. Corrupted history.
func TestCorruptedHistory(t *testing.T) {
	nd := func(t *testing.T, r run) { r.nondeterminism(t) }
	noop := func(t *testing.T, r run) {
		r.cont(t)
		require.Empty(t, r.e.HistoryDelta())
		require.Empty(t, r.e.PendingActions())
	}
	long := strings.Repeat("x", 10<<20)
	otherExec := duroxide.ActivityCompletedItem{Instance: testInstance, ExecutionID: 999, ID: 2, Result: "r"}
	exec2 := func(e duroxide.Event) duroxide.Event { e.ExecutionID = 2; return e }
	runCases(t, []engineCase{
		// 8.1 Structural corruption.
		{name: "empty_history", history: h(), check: func(t *testing.T, r run) {
			r.nondeterminism(t)
			r.failedWith(t, "corrupted history: empty")
		}},
		{name: "missing_started_event", history: h(actSched(1, "Task", "input")), check: func(t *testing.T, r run) {
			r.failedWith(t, "first event must be OrchestrationStarted")
		}},
		{name: "started_not_first", history: h(actSched(1, "Task", "input"), started(2)), check: func(t *testing.T, r run) {
			r.failedWith(t, "first event must be OrchestrationStarted")
		}},
		{name: "duplicate_event_ids", history: h(started(1), actSched(2, "A", "in"), actSched(2, "A", "in")),
			h: singleActivity("A", "in"), check: nd},
		{name: "non_monotonic_event_ids", history: h(started(1), actSched(5, "Task", "input"), actDone(3, 5, "result")),
			h: twoActivities("Task", "input", "Next", "n"), check: func(t *testing.T, r run) {
				r.cont(t)
				require.Equal(t, []uint64{4}, r.ids(), "the next id follows the last event")
			}},
		{name: "event_id_zero", history: h(started(0)), check: func(t *testing.T, r run) { r.completed(t, "done") }},
		{name: "event_id_gap", history: h(started(1), actSched(100, "Task", "input"), actDone(200, 100, "result")),
			h: singleActivity("Task", "input"), check: func(t *testing.T, r run) { r.completed(t, "result") }},

		// 8.2 Completion linkage corruption.
		{name: "completion_missing_source_id", history: h(started(1), actSched(2, "Task", "in"), ev(3, nil, duroxide.ActivityCompleted{Result: "r"})),
			h: singleActivity("Task", "in"), check: func(t *testing.T, r run) { r.cont(t) }},
		{name: "completion_source_not_found", history: h(started(1), actSched(2, "Task", "input")), msgs: m(msgActDone(99, "result")),
			h: singleActivity("Task", "input"), check: nd},
		{name: "completion_source_wrong_type", history: h(started(1), timerCreated(2, 1000)), msgs: m(msgActDone(2, "result")),
			h: singleTimer(time.Minute), check: nd},
		{name: "completion_before_schedule", history: h(started(1), actDone(2, 3, "result"), actSched(3, "Task", "input")),
			h: singleActivity("Task", "input"), check: nd},
		{name: "multiple_completions_same_source", history: h(started(1), actSched(2, "Task", "input"), actDone(3, 2, "first"), actDone(4, 2, "second")),
			h: singleActivity("Task", "input"), check: func(t *testing.T, r run) {
				// The first completion resolves the code; the second is
				// never reached.
				r.completed(t, "first")
			}},
		{name: "multiple_completions_same_source_message", history: h(started(1), actSched(2, "Task", "input"), actDone(3, 2, "first")),
			msgs: m(msgActDone(2, "second")), h: singleActivity("Task", "input"), check: func(t *testing.T, r run) {
				r.completed(t, "first")
				require.Empty(t, r.e.HistoryDelta())
			}},
		{name: "completion_for_different_instance", history: h(started(1), actSched(2, "Task", "input")), msgs: m(otherExec),
			h: singleActivity("Task", "input"), check: noop},

		// 8.3 Terminal event corruption.
		{name: "terminal_completed", history: h(started(1), orchDone(2, "done")), check: noop},
		{name: "terminal_failed", history: h(started(1), orchFailed(2, "error")), check: noop},
		{name: "terminal_continued_as_new", history: h(started(1), orchCAN(2, "new input")), check: noop},
		{name: "multiple_terminal_events", history: h(started(1), orchDone(2, "first"), orchFailed(3, "second")), check: noop},
		{name: "events_after_terminal", history: h(started(1), orchDone(2, "done"), actSched(3, "Task", "input")), check: noop},
		{name: "terminal_not_last", history: h(started(1), orchDone(2, "done"), timerCreated(3, 1000)), check: noop},
		{name: "cancel_after_completed", history: h(started(1), orchDone(2, "done"), cancelReq(3, "too late")), check: noop},
		{name: "cancel_message_after_completed", history: h(started(1), orchDone(2, "done")), msgs: m(msgCancel("late")), check: noop},

		// 8.4 Execution id corruption.
		{name: "wrong_execution_id_in_event", history: h(started(1), exec2(actSched(2, "Task", "input")), exec2(actDone(3, 2, "r"))),
			h: singleActivity("Task", "input"), check: func(t *testing.T, r run) {
				// Events are replayed by position; their envelope is not
				// re-validated.
				r.completed(t, "r")
			}},
		{name: "mixed_execution_ids", history: h(started(1), exec2(actSched(2, "A", "a")), actDone(3, 2, "ra"), exec2(actSched(4, "B", "b"))),
			h: twoActivities("A", "a", "B", "b"), check: func(t *testing.T, r run) { r.cont(t) }},
		{name: "completion_wrong_execution", history: h(started(1), actSched(2, "Task", "input")), msgs: m(otherExec),
			h: singleActivity("Task", "input"), check: noop},

		// 8.5 Field value corruption.
		{name: "empty_activity_name", history: h(started(1), actSched(2, "", "input"), actDone(3, 2, "result")),
			h: singleActivity("", "input"), check: func(t *testing.T, r run) { r.completed(t, "result") }},
		{name: "empty_orchestration_name", history: h(ev(1, nil, duroxide.OrchestrationStarted{})),
			check: func(t *testing.T, r run) { r.completed(t, "done") }},
		{name: "null_equivalent_strings", history: h(started(1), actSched(2, "null", "None"), actDone(3, 2, "nil")),
			h: singleActivity("null", "None"), check: func(t *testing.T, r run) { r.completed(t, "nil") }},
		{name: "very_long_strings", history: h(started(1), actSched(2, long, long), actDone(3, 2, long)),
			h: singleActivity(long, long), check: func(t *testing.T, r run) { r.completed(t, long) }},
		{name: "special_characters", history: h(started(1), actSched(2, "Name\nWith\tSpecial", "Input\r\nCRLF"), actDone(3, 2, "Result\x00WithNull")),
			h: singleActivity("Name\nWith\tSpecial", "Input\r\nCRLF"), check: func(t *testing.T, r run) { r.completed(t, "Result\x00WithNull") }},

		// 8.6 Event order corruption.
		{name: "timer_fired_before_created", history: h(started(1), timerFired(2, 3, 1000), timerCreated(3, 1000)),
			h: singleTimer(time.Minute), check: nd},
		{name: "external_event_before_subscription", history: h(started(1), extEvent(2, "E", "early"), extSub(3, "E")),
			h: waitExternal("E"), check: func(t *testing.T, r run) {
				// No open slot when it arrived: recorded, ignored.
				r.cont(t)
			}},
		{name: "sub_orch_completed_before_scheduled", history: h(started(1), subDone(2, 3, "r"), subSched(3, "Child", "sub::3", "in")),
			h: subOrch("Child", "in"), check: nd},

		// 8.7 Orphaned events.
		{name: "orphan_completion_no_schedule", history: h(started(1), actDone(2, 99, "orphan")), check: func(t *testing.T, r run) {
			// The code returns before the orphan is applied.
			r.completed(t, "done")
		}},
		{name: "orphan_completion_no_schedule_message", history: h(started(1)), msgs: m(msgActDone(99, "orphan")), check: nd},
		{name: "orphan_timer_fired", history: h(started(1)), msgs: m(msgTimer(99, 1000)), check: nd},
		{name: "orphan_external_event", history: h(started(1)), msgs: m(msgRaise("UnknownEvent", "data")), check: func(t *testing.T, r run) {
			r.completed(t, "done")
			require.Len(t, r.e.HistoryDelta(), 1)
		}},
		{name: "orphan_sub_orch_completed", history: h(started(1)), msgs: m(msgSubDone(99, "result")), check: nd},
		{name: "orphan_completion_while_waiting", history: h(started(1), actSched(2, "A", "in"), actDone(3, 99, "orphan")),
			h: singleActivity("A", "in"), check: nd},

		// 8.8 Duplicate schedule events.
		{name: "duplicate_activity_schedule", history: h(started(1), actSched(2, "A", "input"), actSched(3, "A", "input")),
			h: singleActivity("A", "input"), check: nd},
		{name: "duplicate_timer_schedule", history: h(started(1), timerCreated(2, 1000), timerCreated(3, 1000)),
			h: singleTimer(time.Minute), check: nd},
		{name: "duplicate_external_subscription", history: h(started(1), extSub(2, "E"), extSub(3, "E")),
			h: waitExternal("E"), check: nd},
	})
}
