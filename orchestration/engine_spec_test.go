package orchestration

import (
	"strings"
	"testing"
	"time"

	"github.com/duroxide-go/duroxide"
	"github.com/stretchr/testify/require"
)

// The cases of duroxide's replay-engine test specification, section by
// section, under the same names: history and messages in, delta, actions
// and result out.

// 1. Fresh execution.
func TestFreshExecution(t *testing.T) {
	runCases(t, []engineCase{
		{name: "immediate_return_ok", history: h(started(1)), h: immediateOK("success"), check: func(t *testing.T, r run) {
			r.completed(t, "success")
			require.Empty(t, r.e.PendingActions())
			require.Empty(t, r.e.HistoryDelta())
		}},
		{name: "immediate_return_err", history: h(started(1)), h: immediateErr("failure"), check: func(t *testing.T, r run) {
			d := r.failed(t)
			require.Equal(t, duroxide.Application{Kind: duroxide.AppOrchestrationFailed{}, Message: "failure"}, d)
			require.Empty(t, r.e.PendingActions())
		}},
		{name: "schedule_activity_pending", history: h(started(1)), h: singleActivity("Greet", "Alice"), check: func(t *testing.T, r run) {
			r.cont(t)
			require.Equal(t, []Action{CallActivityAction{SchedulingEventID: 2, Name: "Greet", Input: "Alice"}}, r.e.PendingActions())
			require.Equal(t, []duroxide.Event{{EventID: 2, InstanceID: testInstance, ExecutionID: testExec,
				TimestampMs: uint64(testNow.UnixMilli()), DuroxideVersion: DuroxideVersion,
				Kind: duroxide.ActivityScheduled{Name: "Greet", Input: "Alice"}}}, r.e.HistoryDelta())
		}},
		{name: "schedule_timer_pending", history: h(started(1)), h: singleTimer(60 * time.Second), check: func(t *testing.T, r run) {
			r.cont(t)
			at := uint64(testNow.UnixMilli()) + 60000
			require.Equal(t, []Action{CreateTimerAction{SchedulingEventID: 2, FireAtMs: at}}, r.e.PendingActions())
			require.Equal(t, duroxide.TimerCreated{FireAtMs: at}, r.e.HistoryDelta()[0].Kind)
			require.Len(t, r.e.HistoryDelta(), 1)
		}},
		{name: "schedule_external_pending", history: h(started(1)), h: waitExternal("Approval"), check: func(t *testing.T, r run) {
			r.cont(t)
			require.Equal(t, []Action{WaitExternalAction{SchedulingEventID: 2, Name: "Approval"}}, r.e.PendingActions())
			require.Equal(t, []string{"ExternalSubscribed"}, r.kinds())
		}},
		{name: "schedule_sub_orch_pending", history: h(started(1)), h: subOrch("ChildOrch", "child-input"), check: func(t *testing.T, r run) {
			r.cont(t)
			require.Equal(t, []Action{StartSubOrchestrationAction{SchedulingEventID: 2, Name: "ChildOrch", Instance: "sub::2", Input: "child-input"}}, r.e.PendingActions())
			require.Equal(t, duroxide.SubOrchestrationScheduled{Name: "ChildOrch", Instance: "sub::2", Input: "child-input"}, r.e.HistoryDelta()[0].Kind)
		}},
		{name: "continue_as_new", history: h(started(1)), h: continueAsNew("new-input"), check: func(t *testing.T, r run) {
			r.can(t, "new-input")
			require.Equal(t, []Action{ContinueAsNewAction{Input: "new-input"}}, r.e.PendingActions())
			require.Empty(t, r.e.HistoryDelta(), "continue-as-new has no event of its own")
		}},
		{name: "multiple_schedules_no_await", history: h(started(1)), h: multiNoAwait("A", "a", "B", "b", "C", "c"), check: func(t *testing.T, r run) {
			r.completed(t, "done")
			require.Len(t, r.e.PendingActions(), 3)
			require.Equal(t, []string{"ActivityScheduled", "ActivityScheduled", "ActivityScheduled",
				"ActivityCancelRequested", "ActivityCancelRequested", "ActivityCancelRequested"}, r.kinds())
			require.Equal(t, []uint64{2, 3, 4}, r.e.CancelledActivityIDs())
		}},
	})
}

// 2. Replay with completions in history.
func TestReplayWithCompletions(t *testing.T) {
	runCases(t, []engineCase{
		{name: "activity_completed_in_history", history: h(started(1), actSched(2, "Greet", "Alice"), actDone(3, 2, "Hello, Alice!")),
			h: singleActivity("Greet", "Alice"), check: func(t *testing.T, r run) {
				r.completed(t, "Hello, Alice!")
				require.Empty(t, r.e.PendingActions())
				require.Empty(t, r.e.HistoryDelta())
			}},
		{name: "activity_failed_in_history", history: h(started(1), actSched(2, "Greet", "Alice"), actFail(3, 2, "activity error")),
			h: singleActivity("Greet", "Alice"), check: func(t *testing.T, r run) {
				require.Equal(t, duroxide.Application{Kind: duroxide.AppOrchestrationFailed{}, Message: "activity error"}, r.failed(t))
			}},
		{name: "timer_fired_in_history", history: h(started(1), timerCreated(2, 1000), timerFired(3, 2, 1000)),
			h: singleTimer(60 * time.Second), check: func(t *testing.T, r run) { r.completed(t, "timer_done") }},
		{name: "external_received_in_history", history: h(started(1), extSub(2, "Approval"), extEvent(3, "Approval", "approved-data")),
			h: waitExternal("Approval"), check: func(t *testing.T, r run) { r.completed(t, "approved-data") }},
		{name: "sub_orch_completed_in_history", history: h(started(1), subSched(2, "ChildOrch", "sub::2", "child-input"), subDone(3, 2, "child-result")),
			h: subOrch("ChildOrch", "child-input"), check: func(t *testing.T, r run) { r.completed(t, "child-result") }},
		{name: "system_call_in_history", history: h(started(1), actSched(2, SyscallUtcNowMs, ""), actDone(3, 2, "1767225600000"),
			actSched(4, SyscallNewGUID, ""), actDone(5, 4, "guid-1")),
			h: func(ctx *Context, _ string) (string, error) {
				now, err := ctx.UtcNow().Get()
				if err != nil {
					return "", err
				}
				g, err := ctx.NewGUID().Get()
				return now.Format(time.RFC3339) + "|" + g, err
			}, check: func(t *testing.T, r run) {
				r.completed(t, "2026-01-01T00:00:00Z|guid-1")
				require.Empty(t, r.e.HistoryDelta())
			}},
	})
}

// 3. Partial completion: schedules in history, no completion yet.
func TestPartialCompletion(t *testing.T) {
	noNew := func(t *testing.T, r run) {
		r.cont(t)
		require.Empty(t, r.e.PendingActions())
		require.Empty(t, r.e.HistoryDelta())
	}
	runCases(t, []engineCase{
		{name: "activity_scheduled_no_completion", history: h(started(1), actSched(2, "Task", "input")), h: singleActivity("Task", "input"), check: noNew},
		{name: "timer_created_no_fire", history: h(started(1), timerCreated(2, 1000)), h: singleTimer(time.Minute), check: noNew},
		{name: "external_subscribed_no_event", history: h(started(1), extSub(2, "E")), h: waitExternal("E"), check: noNew},
		{name: "sub_orch_scheduled_no_completion", history: h(started(1), subSched(2, "Child", "sub::2", "in")), h: subOrch("Child", "in"), check: noNew},
	})
}

// 4. Sequential progress.
func TestSequentialProgress(t *testing.T) {
	many := func(ctx *Context, _ string) (string, error) {
		var out []string
		for i := range 10 {
			r, err := ctx.ScheduleActivity("Step", string(rune('0'+i))).Get()
			if err != nil {
				return "", err
			}
			out = append(out, r)
		}
		return strings.Join(out, ","), nil
	}
	manyHist := h(started(1))
	for i := range 10 {
		id := uint64(2 + 2*i)
		manyHist = append(manyHist, actSched(id, "Step", string(rune('0'+i))), actDone(id+1, id, "r"+string(rune('0'+i))))
	}
	runCases(t, []engineCase{
		{name: "two_activities_first_done", history: h(started(1), actSched(2, "A1", "x"), actDone(3, 2, "r1")),
			h: twoActivities("A1", "x", "A2", "y"), check: func(t *testing.T, r run) {
				r.cont(t)
				require.Equal(t, []Action{CallActivityAction{SchedulingEventID: 4, Name: "A2", Input: "y"}}, r.e.PendingActions())
			}},
		{name: "two_activities_both_done", history: h(started(1), actSched(2, "A1", "x"), actDone(3, 2, "r1"), actSched(4, "A2", "y"), actDone(5, 4, "r2")),
			h: twoActivities("A1", "x", "A2", "y"), check: func(t *testing.T, r run) { r.completed(t, "r1,r2") }},
		{name: "activity_then_timer", history: h(started(1), actSched(2, "Task", "in"), actDone(3, 2, "r")),
			h: activityThenTimer("Task", "in", time.Second), check: func(t *testing.T, r run) {
				r.cont(t)
				require.Equal(t, []string{"CreateTimer"}, r.actionTypes())
				require.Equal(t, []uint64{4}, r.ids())
			}},
		{name: "timer_then_activity", history: h(started(1), timerCreated(2, 1000), timerFired(3, 2, 1000)),
			h: timerThenActivity(time.Second, "Task", "in"), check: func(t *testing.T, r run) {
				r.cont(t)
				require.Equal(t, []Action{CallActivityAction{SchedulingEventID: 4, Name: "Task", Input: "in"}}, r.e.PendingActions())
			}},
		{name: "many_sequential_activities", history: manyHist, h: many, check: func(t *testing.T, r run) {
			r.completed(t, "r0,r1,r2,r3,r4,r5,r6,r7,r8,r9")
			require.Empty(t, r.e.HistoryDelta())
		}},
	})
}

// 5. Completion message processing.
func TestCompletionMessages(t *testing.T) {
	runCases(t, []engineCase{
		{name: "activity_completed_message", history: h(started(1), actSched(2, "Task", "in")), msgs: m(msgActDone(2, "result")),
			h: singleActivity("Task", "in"), check: func(t *testing.T, r run) {
				r.completed(t, "result")
				d := r.e.HistoryDelta()
				require.Len(t, d, 1)
				require.Equal(t, uint64(3), d[0].EventID)
				require.Equal(t, u64(2), d[0].SourceEventID)
				require.Equal(t, duroxide.ActivityCompleted{Result: "result"}, d[0].Kind)
			}},
		{name: "timer_fired_message", history: h(started(1), timerCreated(2, 1000)), msgs: m(msgTimer(2, 1000)),
			h: singleTimer(time.Second), check: func(t *testing.T, r run) {
				r.completed(t, "timer_done")
				require.Equal(t, duroxide.TimerFired{FireAtMs: 1000}, r.e.HistoryDelta()[0].Kind)
			}},
		{name: "external_raised_message", history: h(started(1), extSub(2, "MyEvent")), msgs: m(msgRaise("MyEvent", "event-data")),
			h: waitExternal("MyEvent"), check: func(t *testing.T, r run) {
				r.completed(t, "event-data")
				d := r.e.HistoryDelta()
				require.Len(t, d, 1)
				require.Nil(t, d[0].SourceEventID)
				require.Equal(t, duroxide.ExternalEvent{Name: "MyEvent", Data: "event-data"}, d[0].Kind)
			}},
		{name: "sub_orch_completed_message", history: h(started(1), subSched(2, "Child", "sub::2", "in")), msgs: m(msgSubDone(2, "child-result")),
			h: subOrch("Child", "in"), check: func(t *testing.T, r run) {
				r.completed(t, "child-result")
				require.Equal(t, duroxide.SubOrchestrationCompleted{Result: "child-result"}, r.e.HistoryDelta()[0].Kind)
			}},
		{name: "duplicate_completion_filtered", history: h(started(1), actSched(2, "Task", "in"), actDone(3, 2, "result")), msgs: m(msgActDone(2, "result")),
			h: singleActivity("Task", "in"), check: func(t *testing.T, r run) {
				r.completed(t, "result")
				require.Empty(t, r.e.HistoryDelta())
			}},
		{name: "duplicate_in_same_batch", history: h(started(1), actSched(2, "Task", "in")), msgs: m(msgActDone(2, "first"), msgActDone(2, "second")),
			h: singleActivity("Task", "in"), check: func(t *testing.T, r run) {
				r.completed(t, "first")
				require.Len(t, r.e.HistoryDelta(), 1)
			}},
		{name: "wrong_execution_filtered", history: h(started(1), actSched(2, "Task", "in")),
			msgs: m(duroxide.ActivityCompletedItem{Instance: testInstance, ExecutionID: 999, ID: 2, Result: "r"}),
			h:    singleActivity("Task", "in"), check: func(t *testing.T, r run) {
				r.cont(t)
				require.Empty(t, r.e.HistoryDelta())
			}},
		{name: "external_without_subscription", history: h(started(1)), msgs: m(msgRaise("X", "data")),
			check: func(t *testing.T, r run) {
				// duroxide records the arrival for audit; replay ignores it.
				r.completed(t, "done")
				require.Equal(t, []string{"ExternalEvent"}, r.kinds())
			}},
		{name: "multiple_completions_batch", history: h(started(1), actSched(2, "A", "a"), actSched(3, "B", "b")),
			msgs: m(msgActDone(2, "ra"), msgActDone(3, "rb")), h: joinActivities("A", "a", "B", "b"), check: func(t *testing.T, r run) {
				r.completed(t, "ra,rb")
				require.Equal(t, []uint64{4, 5}, r.ids())
			}},
	})
}

// 6. Cancellation.
func TestCancellation(t *testing.T) {
	runCases(t, []engineCase{
		{name: "cancel_via_message", history: h(started(1)), msgs: m(msgCancel("user requested")), h: singleActivity("T", "i"),
			check: func(t *testing.T, r run) {
				r.cancelled(t, "user requested")
				require.Equal(t, duroxide.OrchestrationCancelRequested{Reason: "user requested"}, r.e.HistoryDelta()[0].Kind)
			}},
		{name: "cancel_in_history", history: h(started(1), cancelReq(2, "admin cancelled")), h: singleActivity("T", "i"),
			check: func(t *testing.T, r run) { r.cancelled(t, "admin cancelled") }},
		{name: "cancel_precedence_over_completion", history: h(started(1)), msgs: m(msgCancel("cancelled")), h: immediateOK("ok"),
			check: func(t *testing.T, r run) { r.cancelled(t, "cancelled") }},
		{name: "cancel_with_pending_activity", history: h(started(1), actSched(2, "Task", "input")), msgs: m(msgCancel("cancelled")),
			h: singleActivity("Task", "input"), check: func(t *testing.T, r run) { r.cancelled(t, "cancelled") }},
		{name: "cancel_duplicate_filtered", history: h(started(1), cancelReq(2, "first")), msgs: m(msgCancel("second cancel")),
			check: func(t *testing.T, r run) {
				r.cancelled(t, "first")
				require.Empty(t, r.e.HistoryDelta())
			}},
	})
}

// 7. Nondeterminism detection.
func TestNondeterminism(t *testing.T) {
	nd := func(t *testing.T, r run) { r.nondeterminism(t) }
	runCases(t, []engineCase{
		{name: "schedule_mismatch_activity_vs_timer", history: h(started(1), actSched(2, "Task", "in")), h: singleTimer(time.Second), check: nd},
		{name: "schedule_mismatch_timer_vs_activity", history: h(started(1), timerCreated(2, 1000)), h: singleActivity("Task", "in"), check: nd},
		{name: "schedule_mismatch_wrong_activity_name", history: h(started(1), actSched(2, "A", "in")), h: singleActivity("B", "in"), check: nd},
		{name: "schedule_mismatch_wrong_input", history: h(started(1), actSched(2, "A", "x")), h: singleActivity("A", "y"), check: nd},
		{name: "schedule_mismatch_wrong_external_name", history: h(started(1), extSub(2, "X")), h: waitExternal("Y"), check: nd},
		{name: "history_schedule_no_emitted_action", history: h(started(1), actSched(2, "A", "in")), h: immediateOK("done"), check: func(t *testing.T, r run) {
			// The code finished before reaching the recorded schedule: the
			// output wins and the extra history is ignored.
			r.completed(t, "done")
		}},
		{name: "completion_without_schedule", history: h(started(1)), msgs: m(msgActDone(999, "r")), check: func(t *testing.T, r run) {
			r.nondeterminism(t)
			require.Contains(t, r.r.Details.DisplayMessage(), "no matching schedule for completion id=999")
		}},
		{name: "completion_kind_mismatch", history: h(started(1), actSched(2, "A", "in")), msgs: m(msgTimer(2, 1000)), h: singleActivity("A", "in"),
			check: func(t *testing.T, r run) {
				r.nondeterminism(t)
				require.Equal(t, "nondeterministic: completion kind mismatch for id=2, expected 'activity', got 'timer'", r.r.Details.DisplayMessage())
			}},
	})
}

// 9. Select/join composition.
func TestComposition(t *testing.T) {
	runCases(t, []engineCase{
		{name: "select2_activity_wins", history: h(started(1), actSched(2, "Task", "input"), timerCreated(3, 1000), actDone(4, 2, "activity-result")),
			h: select2("Task", "input", time.Minute), check: func(t *testing.T, r run) {
				r.completed(t, "activity:activity-result")
				require.Empty(t, r.kinds(), "a losing timer leaves no breadcrumb")
			}},
		{name: "select2_timer_wins", history: h(started(1), actSched(2, "Task", "input"), timerCreated(3, 1000), timerFired(4, 3, 1000)),
			h: select2("Task", "input", time.Minute), check: func(t *testing.T, r run) {
				r.completed(t, "timeout")
				require.Equal(t, []string{"ActivityCancelRequested"}, r.kinds())
				d := r.e.HistoryDelta()[0]
				require.Equal(t, u64(2), d.SourceEventID)
				require.Equal(t, duroxide.ActivityCancelRequested{Reason: "dropped_future"}, d.Kind)
				require.Equal(t, []uint64{2}, r.e.CancelledActivityIDs())
			}},
		{name: "select2_both_pending", history: h(started(1), actSched(2, "Task", "input"), timerCreated(3, 1000)),
			h: select2("Task", "input", time.Minute), check: func(t *testing.T, r run) {
				r.cont(t)
				require.Empty(t, r.e.HistoryDelta())
			}},
		{name: "join_all_complete", history: h(started(1), actSched(2, "A", "a"), actSched(3, "B", "b"), actDone(4, 2, "result-a"), actDone(5, 3, "result-b")),
			h: joinActivities("A", "a", "B", "b"), check: func(t *testing.T, r run) { r.completed(t, "result-a,result-b") }},
		{name: "join_partial_complete", history: h(started(1), actSched(2, "A", "a"), actSched(3, "B", "b"), actDone(4, 2, "result-a")),
			h: joinActivities("A", "a", "B", "b"), check: func(t *testing.T, r run) { r.cont(t) }},
		{name: "join_fresh_schedule", history: h(started(1)), h: joinActivities("A", "a", "B", "b", "C", "c"), check: func(t *testing.T, r run) {
			r.cont(t)
			require.Equal(t, []string{"CallActivity", "CallActivity", "CallActivity"}, r.actionTypes())
			require.Equal(t, []uint64{2, 3, 4}, r.ids())
		}},
	})
}

// 10. Event id allocation.
func TestEventAllocation(t *testing.T) {
	runCases(t, []engineCase{
		{name: "sequential_allocation", history: h(started(1)), h: multiNoAwait("A", "a", "B", "b", "C", "c"), check: func(t *testing.T, r run) {
			r.completed(t, "done")
			require.Equal(t, []uint64{2, 3, 4, 5, 6, 7}, r.ids())
		}},
		{name: "allocation_after_replay", history: h(started(1), actSched(2, "First", "input"), actDone(3, 2, "r")),
			h: twoActivities("First", "input", "Second", "input2"), check: func(t *testing.T, r run) {
				r.cont(t)
				require.Equal(t, []uint64{4}, r.ids())
			}},
		{name: "allocation_with_gaps", history: h(started(1), actSched(5, "Task", "input")), msgs: m(msgActDone(5, "result")),
			h: twoActivities("Task", "input", "Next", "next"), check: func(t *testing.T, r run) {
				r.cont(t)
				require.Equal(t, []uint64{6, 7}, r.ids())
			}},
	})
}

// 11. is_replaying.
func TestIsReplaying(t *testing.T) {
	var states []bool
	probe := func(ctx *Context, _ string) (string, error) {
		states = append(states, ctx.IsReplaying())
		if ctx.ExecutionID() == 0 {
			return "", nil
		}
		r, err := ctx.ScheduleActivity("Task", "input").Get()
		states = append(states, ctx.IsReplaying())
		return r, err
	}
	cases := []struct {
		name      string
		history   []duroxide.Event
		persisted int
		want      []bool
		cont      bool
	}{
		{"fresh_execution_not_replaying", h(started(1)), 0, []bool{false}, true},
		{"replay_is_replaying", h(started(1), actSched(2, "Task", "input"), actDone(3, 2, "r")), 3, []bool{true, false}, false},
		{"transitions_after_history", h(started(1), actSched(2, "Task", "input")), 2, []bool{true}, true},
		{"fresh_start_with_zero_persisted", h(started(1), actSched(2, "Task", "input"), actDone(3, 2, "r")), 0, []bool{false, false}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			states = nil
			r := runEngineOpts(t, tc.history, nil, probe, EngineOptions{PersistedLen: tc.persisted})
			require.Equal(t, tc.want, states)
			if tc.cont {
				r.cont(t)
			} else {
				r.completed(t, "r")
			}
		})
	}
}

// 12. Sub-orchestration instance ids.
func TestSubOrchestrationInstanceIDs(t *testing.T) {
	runCases(t, []engineCase{
		{name: "auto_instance_id", history: h(started(1)), h: subOrch("Child", "child-input"), check: func(t *testing.T, r run) {
			r.cont(t)
			a := r.e.PendingActions()[0].(StartSubOrchestrationAction)
			require.Equal(t, "sub::2", a.Instance)
			require.Equal(t, "test-instance::sub::2", ChildInstanceID(testInstance, a.Instance))
		}},
		{name: "explicit_instance_preserved", history: h(started(1)), h: func(ctx *Context, _ string) (string, error) {
			return ctx.SubOrchestration("Child", "in", WithInstanceID("my-custom-instance")).Get()
		}, check: func(t *testing.T, r run) {
			r.cont(t)
			a := r.e.PendingActions()[0].(StartSubOrchestrationAction)
			require.Equal(t, "my-custom-instance", a.Instance)
			require.Equal(t, "my-custom-instance", ChildInstanceID(testInstance, a.Instance))
		}},
		{name: "replay_uses_history_instance", history: h(started(1), subSched(2, "Child", "sub::2", "child-input"), subDone(3, 2, "child-result")),
			h: subOrch("Child", "child-input"), check: func(t *testing.T, r run) { r.completed(t, "child-result") }},
		{name: "multiple_sub_orchs_unique_ids", history: h(started(1)), h: func(ctx *Context, _ string) (string, error) {
			ctx.SubOrchestration("C", "1")
			ctx.SubOrchestration("C", "2")
			return "done", nil
		}, check: func(t *testing.T, r run) {
			r.completed(t, "done")
			require.Equal(t, "sub::2", r.e.PendingActions()[0].(StartSubOrchestrationAction).Instance)
			require.Equal(t, "sub::3", r.e.PendingActions()[1].(StartSubOrchestrationAction).Instance)
			require.Equal(t, []string{"sub::2", "sub::3"}, r.e.CancelledSubOrchestrations())
		}},
	})
}

// 13. Activity failure handling.
func TestFailureHandling(t *testing.T) {
	infra := duroxide.Infrastructure{Operation: "test", Message: "database connection lost"}
	msg := "activity not registered"
	config := duroxide.Configuration{Kind: duroxide.Nondeterminism, Resource: "test", Message: &msg}
	runCases(t, []engineCase{
		{name: "application_error_propagates", history: h(started(1), actSched(2, "Task", "input")),
			msgs: m(msgActFail(2, appErr(duroxide.AppActivityFailed{}, "business rule violated"))), h: singleActivity("Task", "input"),
			check: func(t *testing.T, r run) {
				require.Equal(t, duroxide.Application{Kind: duroxide.AppOrchestrationFailed{}, Message: "business rule violated"}, r.failed(t))
				require.Equal(t, []string{"ActivityFailed"}, r.kinds())
			}},
		{name: "infrastructure_error_aborts", history: h(started(1), actSched(2, "Task", "input")), msgs: m(msgActFail(2, infra)),
			h: singleActivity("Task", "input"), check: func(t *testing.T, r run) {
				require.Equal(t, infra, r.failed(t))
				require.Equal(t, []string{"ActivityFailed"}, r.kinds(), "the failure is still recorded")
			}},
		{name: "configuration_error_aborts", history: h(started(1), actSched(2, "Task", "input")), msgs: m(msgActFail(2, config)),
			h: singleActivity("Task", "input"), check: func(t *testing.T, r run) { require.Equal(t, config, r.failed(t)) }},
		{name: "sub_orch_infra_error_aborts_parent", history: h(started(1), subSched(2, "Child", "sub::2", "input")), msgs: m(msgSubFail(2, infra)),
			h: subOrch("Child", "input"), check: func(t *testing.T, r run) { require.Equal(t, infra, r.failed(t)) }},
		{name: "sub_orch_app_error_propagates", history: h(started(1), subSched(2, "Child", "sub::2", "input")),
			msgs: m(msgSubFail(2, appErr(duroxide.AppOrchestrationFailed{}, "child business error"))), h: subOrch("Child", "input"),
			check: func(t *testing.T, r run) {
				require.Equal(t, duroxide.Application{Kind: duroxide.AppOrchestrationFailed{}, Message: "child business error"}, r.failed(t))
			}},
	})
}

// 14. Panics.
func TestPanicHandling(t *testing.T) {
	runCases(t, []engineCase{
		{name: "panic_string", history: h(started(1)), h: panicking("oops something went wrong"),
			check: func(t *testing.T, r run) { r.panicked(t, "oops something went wrong") }},
		{name: "panic_other", history: h(started(1)), h: panicking(42), check: func(t *testing.T, r run) {
			r.panicked(t, "42")
			require.Equal(t, "orchestration panicked: 42", r.r.Details.DisplayMessage())
		}},
		{name: "panic_during_await", history: h(started(1), actSched(2, "Task", "input"), actDone(3, 2, "result")),
			h: func(ctx *Context, _ string) (string, error) {
				_, _ = ctx.ScheduleActivity("Task", "input").Get()
				panic("panic after activity")
			}, check: func(t *testing.T, r run) {
				r.panicked(t, "panic after activity")
				require.Empty(t, r.e.HistoryDelta())
			}},
	})
}

// 15. Edge cases.
func TestEdgeCases(t *testing.T) {
	large := strings.Repeat("x", 1<<20)
	count := 0
	runCases(t, []engineCase{
		{name: "zero_delay_timer", history: h(started(1)), h: singleTimer(0), check: func(t *testing.T, r run) {
			r.cont(t)
			require.Equal(t, []Action{CreateTimerAction{SchedulingEventID: 2, FireAtMs: uint64(testNow.UnixMilli())}}, r.e.PendingActions())
		}},
		{name: "empty_activity_input", history: h(started(1), actSched(2, "Task", ""), actDone(3, 2, "result")),
			h: singleActivity("Task", ""), check: func(t *testing.T, r run) { r.completed(t, "result") }},
		{name: "large_result_string", history: h(started(1), actSched(2, "Task", "input"), actDone(3, 2, large)),
			h: singleActivity("Task", "input"), check: func(t *testing.T, r run) { r.completed(t, large) }},
		{name: "unicode_in_names", history: h(started(1), actSched(2, "Grüß Gott 🎉", "日本語入力"), actDone(3, 2, "emoji result 👍")),
			h: singleActivity("Grüß Gott 🎉", "日本語入力"), check: func(t *testing.T, r run) { r.completed(t, "emoji result 👍") }},
		{name: "handler_invoked_once", history: h(started(1)), h: func(*Context, string) (string, error) { count++; return "done", nil },
			check: func(t *testing.T, r run) {
				r.completed(t, "done")
				require.Equal(t, 1, count)
			}},
		{name: "empty_external_event_data", history: h(started(1), extSub(2, "Event"), extEvent(3, "Event", "")),
			h: waitExternal("Event"), check: func(t *testing.T, r run) { r.completed(t, "") }},
		{name: "multiple_external_events_same_name", history: h(started(1), extSub(2, "Event"), extEvent(3, "Event", "first-data"), extEvent(4, "Event", "second-data")),
			h: waitExternal("Event"), check: func(t *testing.T, r run) { r.completed(t, "first-data") }},
	})
}
