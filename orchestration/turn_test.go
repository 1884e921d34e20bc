package orchestration

import (
	"errors"
	"testing"
	"time"

	"github.com/duroxide-go/duroxide"
	"github.com/stretchr/testify/require"
)

func turnIn(history []duroxide.Event, execID uint64, msgs []duroxide.WorkItem, h Handler) TurnInput {
	item := duroxide.OrchestrationItem{Instance: testInstance, ExecutionID: execID, History: history, Messages: msgs}
	return TurnInput{Item: item, Batch: ReadBatch(testInstance, history, msgs), Handler: h, Version: testVersion,
		Options: EngineOptions{Now: fixedNow}}
}

func start(input string) duroxide.WorkItem {
	return duroxide.StartOrchestrationItem{Instance: testInstance, Orchestration: testOrch, Input: input, ExecutionID: 1}
}

func TestRunTurn(t *testing.T) {
	now := uint64(testNow.UnixMilli())
	t.Run("new_instance_schedules_activity", func(t *testing.T) {
		out := RunTurn(turnIn(nil, 0, m(start(`"x"`)), singleActivity("Greet", "Alice")))
		require.Equal(t, TurnContinue, out.Result.Kind)
		require.Equal(t, uint64(1), out.Ack.ExecutionID, "an unset execution id is the initial one")
		require.Equal(t, []string{"OrchestrationStarted", "ActivityScheduled"}, eventTypes(out.Ack.HistoryDelta))
		require.Equal(t, duroxide.OrchestrationStarted{Name: testOrch, Version: testVersion, Input: `"x"`}, out.Ack.HistoryDelta[0].Kind)
		require.Equal(t, []duroxide.WorkItem{duroxide.ActivityExecuteItem{Instance: testInstance, ExecutionID: 1, ID: 2, Name: "Greet", Input: "Alice"}}, out.Ack.WorkerItems)
		require.Equal(t, testOrch, *out.Ack.Metadata.OrchestrationName)
		require.Equal(t, testVersion, *out.Ack.Metadata.OrchestrationVersion)
		require.Equal(t, DuroxideVersion, out.Ack.Metadata.PinnedDuroxideVersion.String())
		require.Empty(t, out.Ack.Metadata.Status)
	})
	t.Run("completion_completes_and_notifies_parent", func(t *testing.T) {
		parent, pid := "p", uint64(7)
		hist := h(ev(1, nil, duroxide.OrchestrationStarted{Name: testOrch, Version: testVersion, ParentInstance: &parent, ParentID: &pid}),
			actSched(2, "Greet", "Alice"))
		in := turnIn(hist, 1, m(msgActDone(2, "hi")), singleActivity("Greet", "Alice"))
		in.ParentExecutionID = 3
		out := RunTurn(in)
		require.Equal(t, []string{"ActivityCompleted", "OrchestrationCompleted"}, eventTypes(out.Ack.HistoryDelta))
		require.Equal(t, []uint64{3, 4}, eventIDs(out.Ack.HistoryDelta))
		require.Equal(t, []duroxide.WorkItem{duroxide.SubOrchCompletedItem{ParentInstance: "p", ParentExecutionID: 3, ParentID: 7, Result: "hi"}}, out.Ack.OrchestratorItems)
		require.Equal(t, duroxide.StatusCompleted, out.Ack.Metadata.Status)
		require.Equal(t, "hi", *out.Ack.Metadata.Output)
		require.Nil(t, out.Ack.Metadata.OrchestrationName, "name and version only on the first turn")
	})
	t.Run("timers_children_detached", func(t *testing.T) {
		out := RunTurn(turnIn(h(started(1)), 1, nil, func(ctx *Context, _ string) (string, error) {
			tm := ctx.ScheduleTimer(time.Hour)
			c := ctx.SubOrchestration("Child", "in", WithVersion("2.0.0"))
			ctx.StartOrchestration("Other", "other-1", "o")
			All(tm, c)
			return "", nil
		}))
		v := "2.0.0"
		require.Equal(t, []duroxide.WorkItem{
			duroxide.TimerFiredItem{Instance: testInstance, ExecutionID: 1, ID: 2, FireAtMs: now + 3600000},
			duroxide.StartOrchestrationItem{Instance: testInstance + "::sub::3", Orchestration: "Child", Input: "in", Version: &v,
				ParentInstance: ptr(testInstance), ParentID: u64(3), ExecutionID: 1},
			duroxide.StartOrchestrationItem{Instance: "other-1", Orchestration: "Other", Input: "o", ExecutionID: 1},
		}, out.Ack.OrchestratorItems)
	})
	t.Run("failure_terminal_breadcrumbs_and_inflight_cancel", func(t *testing.T) {
		out := RunTurn(turnIn(h(started(1)), 1, nil, func(ctx *Context, _ string) (string, error) {
			a := ctx.ScheduleActivity("Slow", "s")
			w := ctx.WaitEvent("E")
			_ = a
			w.Cancel()
			return "", errors.New("boom")
		}))
		require.Equal(t, TurnFailed, out.Result.Kind)
		// Scheduled activity and wait, dropped-future breadcrumbs, then the
		// terminal event. The activity was already cancelled as a dropped
		// future, so no terminal breadcrumb repeats it.
		require.Equal(t, []string{"ActivityScheduled", "ExternalSubscribed", "ActivityCancelRequested", "ExternalSubscribedCancelled", "OrchestrationFailed"},
			eventTypes(out.Ack.HistoryDelta))
		failed := out.Ack.HistoryDelta[4]
		require.Equal(t, "", failed.InstanceID, "duroxide writes OrchestrationFailed without instance")
		require.Equal(t, uint64(0), failed.ExecutionID)
		require.Equal(t, duroxide.StatusFailed, out.Ack.Metadata.Status)
		require.Equal(t, "boom", *out.Ack.Metadata.Output)
		require.Equal(t, []duroxide.ScheduledActivityIdentifier{{Instance: testInstance, ExecutionID: 1, ActivityID: 2}}, out.Ack.CancelledActivities)
		require.Empty(t, out.Ack.WorkerItems, "a terminal turn dispatches no new activity")
	})
	t.Run("terminal_cancels_inflight_activity_from_earlier_turn", func(t *testing.T) {
		hist := h(started(1), actSched(2, "Slow", "s"), extSub(3, "Go"))
		out := RunTurn(turnIn(hist, 1, m(msgRaise("Go", "now")), func(ctx *Context, _ string) (string, error) {
			slow := ctx.ScheduleActivity("Slow", "s")
			v, err := ctx.WaitEvent("Go").Get()
			_ = slow
			return v, err
		}))
		require.Equal(t, TurnCompleted, out.Result.Kind)
		require.Equal(t, []string{"ExternalEvent", "ActivityCancelRequested", "OrchestrationCompleted"}, eventTypes(out.Ack.HistoryDelta))
		require.Equal(t, duroxide.ActivityCancelRequested{Reason: "dropped_future"}, out.Ack.HistoryDelta[1].Kind)
		require.Equal(t, []duroxide.ScheduledActivityIdentifier{{Instance: testInstance, ExecutionID: 1, ActivityID: 2}}, out.Ack.CancelledActivities)
	})
	t.Run("terminal_breadcrumb_after_terminal_event", func(t *testing.T) {
		// An activity still open while the code was never told to drop it
		// (the orchestration failed through a system error).
		infra := duroxide.Infrastructure{Operation: "op", Message: "m"}
		hist := h(started(1), actSched(2, "A", "a"), actSched(3, "B", "b"))
		out := RunTurn(turnIn(hist, 1, m(msgActFail(2, infra)), joinActivities("A", "a", "B", "b")))
		require.Equal(t, []string{"ActivityFailed", "OrchestrationFailed", "ActivityCancelRequested"}, eventTypes(out.Ack.HistoryDelta))
		require.Equal(t, duroxide.ActivityCancelRequested{Reason: "orchestration_terminal_failed"}, out.Ack.HistoryDelta[2].Kind)
		require.Equal(t, u64(3), out.Ack.HistoryDelta[2].SourceEventID)
		require.Equal(t, []duroxide.ScheduledActivityIdentifier{{Instance: testInstance, ExecutionID: 1, ActivityID: 3}}, out.Ack.CancelledActivities)
	})
	t.Run("continue_as_new_carries_queue_and_status", func(t *testing.T) {
		out := RunTurn(turnIn(h(started(1)), 1, m(msgQueue("Q", "m1"), msgQueue("Q", "m2"), msgQueue("R", "r1")), func(ctx *Context, _ string) (string, error) {
			v, _ := ctx.DequeueEvent("Q").Get()
			ctx.SetCustomStatus("at " + v)
			return "", ctx.ContinueAsNew("next", ToVersion("2.0.0"))
		}))
		require.Equal(t, TurnContinueAsNew, out.Result.Kind)
		status, v := "at m1", "2.0.0"
		require.Equal(t, []duroxide.WorkItem{duroxide.ContinueAsNewItem{Instance: testInstance, Orchestration: testOrch, Input: "next", Version: &v,
			CarryForwardEvents: []duroxide.CarriedEvent{{Name: "Q", Data: "m2"}, {Name: "R", Data: "r1"}}, InitialCustomStatus: &status}}, out.Ack.OrchestratorItems)
		require.Equal(t, duroxide.StatusContinuedAsNew, out.Ack.Metadata.Status)
		require.Equal(t, "next", *out.Ack.Metadata.Output)
		last := out.Ack.HistoryDelta[len(out.Ack.HistoryDelta)-1]
		require.Equal(t, duroxide.OrchestrationContinuedAsNew{Input: "next"}, last.Kind)

		// The next execution starts from the ContinueAsNew item.
		next := RunTurn(turnIn(h(started(1), last), 1, out.Ack.OrchestratorItems, func(ctx *Context, in string) (string, error) {
			s, _ := ctx.CustomStatus()
			a, _ := ctx.DequeueEvent("Q").Get()
			b, _ := ctx.DequeueEvent("R").Get()
			return in + "|" + s + "|" + a + "|" + b, nil
		}))
		require.Equal(t, uint64(2), next.Ack.ExecutionID)
		require.Equal(t, TurnCompleted, next.Result.Kind, "%+v", next.Result)
		require.Equal(t, "next|at m1|m2|r1", next.Result.Output)
		st := next.Ack.HistoryDelta[0]
		require.Equal(t, uint64(2), st.ExecutionID)
		require.Equal(t, duroxide.OrchestrationStarted{Name: testOrch, Version: testVersion, Input: "next",
			CarryForwardEvents: []duroxide.CarriedEvent{{Name: "Q", Data: "m2"}, {Name: "R", Data: "r1"}}, InitialCustomStatus: &status}, st.Kind)
	})
	t.Run("carry_forward_capped", func(t *testing.T) {
		var msgs []duroxide.WorkItem
		for i := range MaxCarryForwardEvents + 5 {
			msgs = append(msgs, msgQueue("Q", itoa(uint64(i))))
		}
		out := RunTurn(turnIn(h(started(1)), 1, msgs, continueAsNew("n")))
		require.Len(t, out.Ack.OrchestratorItems[0].(duroxide.ContinueAsNewItem).CarryForwardEvents, MaxCarryForwardEvents)
	})
	t.Run("cancel_propagates_to_children", func(t *testing.T) {
		hist := h(started(1), subSched(2, "Child", "sub::2", "in"), extSub(3, "E"))
		out := RunTurn(turnIn(hist, 1, m(msgCancel("by user")), func(ctx *Context, _ string) (string, error) {
			c := ctx.SubOrchestration("Child", "in")
			All(c, ctx.WaitEvent("E"))
			return c.Get()
		}))
		require.Equal(t, TurnCancelled, out.Result.Kind)
		require.Equal(t, []string{"OrchestrationCancelRequested", "ExternalSubscribedCancelled", "OrchestrationFailed"}, eventTypes(out.Ack.HistoryDelta))
		require.Equal(t, duroxide.ExternalSubscribedCancelled{Reason: "orchestration_terminal"}, out.Ack.HistoryDelta[1].Kind)
		require.Equal(t, duroxide.OrchestrationFailed{Details: duroxide.Application{Kind: duroxide.AppCancelled{Reason: "by user"}}}, out.Ack.HistoryDelta[2].Kind)
		require.Equal(t, []duroxide.WorkItem{duroxide.CancelInstanceItem{Instance: testInstance + "::sub::2", Reason: "parent canceled"}}, out.Ack.OrchestratorItems)
		require.Equal(t, "canceled: by user", *out.Ack.Metadata.Output)
	})
	t.Run("dropped_child_gets_cancel_instance", func(t *testing.T) {
		out := RunTurn(turnIn(h(started(1)), 1, nil, func(ctx *Context, _ string) (string, error) {
			ctx.SubOrchestration("Child", "in", WithInstanceID("fixed")).Cancel()
			return ctx.ScheduleActivity("A", "a").Get()
		}))
		// As in duroxide the child is started and cancelled in the same ack.
		require.Equal(t, []duroxide.WorkItem{
			duroxide.StartOrchestrationItem{Instance: "fixed", Orchestration: "Child", Input: "in", ParentInstance: ptr(testInstance), ParentID: u64(2), ExecutionID: 1},
			duroxide.CancelInstanceItem{Instance: "fixed", Reason: "parent dropped sub-orchestration future"},
		}, out.Ack.OrchestratorItems)
	})
	t.Run("terminal_history_acks_empty", func(t *testing.T) {
		out := RunTurn(turnIn(h(started(1), orchDone(2, "x")), 1, m(msgRaise("E", "late")), immediateOK("y")))
		require.Empty(t, out.Ack.HistoryDelta)
		require.Equal(t, uint64(1), out.Ack.ExecutionID)
	})
	t.Run("unstarted_instance_acks_empty", func(t *testing.T) {
		out := RunTurn(turnIn(nil, 0, m(msgQueue("Q", "early")), immediateOK("y")))
		require.Empty(t, out.Ack.HistoryDelta)
		require.Empty(t, ReadBatch(testInstance, nil, m(msgQueue("Q", "early"))).Name)
	})
}

func eventTypes(events []duroxide.Event) []string {
	var out []string
	for _, e := range events {
		out = append(out, e.Kind.EventType())
	}
	return out
}

func eventIDs(events []duroxide.Event) []uint64 {
	var out []uint64
	for _, e := range events {
		out = append(out, e.EventID)
	}
	return out
}
