package orchestration

import (
	"testing"
	"time"

	"github.com/duroxide-go/duroxide"
	"github.com/stretchr/testify/require"
)

func actCancel(id, src uint64, reason string) duroxide.Event {
	return ev(id, u64(src), duroxide.ActivityCancelRequested{Reason: reason})
}
func subCancel(id, src uint64, reason string) duroxide.Event {
	return ev(id, u64(src), duroxide.SubOrchestrationCancelRequested{Reason: reason})
}

func select2Labelled(name, input string, d time.Duration) Handler {
	return func(ctx *Context, _ string) (string, error) {
		act := ctx.ScheduleActivity(name, input)
		timer := ctx.ScheduleTimer(d)
		if Select(act, timer) == 0 {
			r, err := act.Get()
			return "activity_won:" + r, err
		}
		return "timer_won", nil
	}
}

func subOrchSelectLoser(name, input string, d time.Duration) Handler {
	return func(ctx *Context, _ string) (string, error) {
		sub := ctx.SubOrchestration(name, input)
		timer := ctx.ScheduleTimer(d)
		if Select(sub, timer) == 0 {
			return sub.Get()
		}
		return "timer_won_sub_orch_cancelled", nil
	}
}

// cancelEvents returns the delta's cancellation breadcrumbs as
// "<type>:<source>:<reason>".
func (r run) cancelEvents() []string {
	var out []string
	for _, e := range r.e.HistoryDelta() {
		var reason string
		switch k := e.Kind.(type) {
		case duroxide.ActivityCancelRequested:
			reason = k.Reason
		case duroxide.SubOrchestrationCancelRequested:
			reason = k.Reason
		case duroxide.ExternalSubscribedCancelled:
			reason = k.Reason
		case duroxide.QueueSubscriptionCancelled:
			reason = k.Reason
		default:
			continue
		}
		out = append(out, e.Kind.EventType()+":"+itoa(*e.SourceEventID)+":"+reason)
	}
	return out
}

func itoa(v uint64) string {
	if v == 0 {
		return "0"
	}
	var b []byte
	for ; v > 0; v /= 10 {
		b = append([]byte{byte('0' + v%10)}, b...)
	}
	return string(b)
}

// Unobserved futures: select losers, explicit Cancel and futures left
// unobserved when the orchestration returns (duroxide's dropped futures).
func TestUnobservedFutures(t *testing.T) {
	withPersisted := h(started(1), actSched(2, "Task", "input"), timerCreated(3, 1000), timerFired(4, 3, 1000), actCancel(5, 2, "dropped_future"))
	subPersisted := h(started(1), subSched(2, "ChildOrch", "sub::2", "input"), timerCreated(3, 1000), timerFired(4, 3, 1000), subCancel(5, 2, "dropped_future"))
	runCases(t, []engineCase{
		{name: "select2_timer_wins_activity_cancelled", history: h(started(1), actSched(2, "LongTask", "input"), timerCreated(3, 1000)),
			msgs: m(msgTimer(3, 1000)), h: select2Labelled("LongTask", "input", time.Millisecond), check: func(t *testing.T, r run) {
				r.completed(t, "timer_won")
				require.Equal(t, []uint64{2}, r.e.CancelledActivityIDs())
				require.Equal(t, []string{"TimerFired", "ActivityCancelRequested"}, r.kinds())
				require.Equal(t, []uint64{4, 5}, r.ids())
			}},
		{name: "select2_activity_wins_timer_not_cancelled", history: h(started(1), actSched(2, "FastTask", "input"), timerCreated(3, 5000)),
			msgs: m(msgActDone(2, "done")), h: select2Labelled("FastTask", "input", 5*time.Millisecond), check: func(t *testing.T, r run) {
				r.completed(t, "activity_won:done")
				require.Empty(t, r.e.CancelledActivityIDs())
				require.Empty(t, r.cancelEvents())
			}},
		{name: "select3_two_activities_cancelled", history: h(started(1), actSched(2, "Task1", "input1"), actSched(3, "Task2", "input2"), timerCreated(4, 1000)),
			msgs: m(msgTimer(4, 1000)), h: func(ctx *Context, _ string) (string, error) {
				a1, a2 := ctx.ScheduleActivity("Task1", "input1"), ctx.ScheduleActivity("Task2", "input2")
				timer := ctx.ScheduleTimer(time.Millisecond)
				switch Select(a1, a2, timer) {
				case 0:
					return a1.Get()
				case 1:
					return a2.Get()
				}
				return "timer_won", nil
			}, check: func(t *testing.T, r run) {
				r.completed(t, "timer_won")
				require.Equal(t, []uint64{2, 3}, r.e.CancelledActivityIDs())
			}},
		{name: "completed_future_not_in_cancelled_list", history: h(started(1), actSched(2, "Task", "input"), actDone(3, 2, "result")),
			h: singleActivity("Task", "input"), check: func(t *testing.T, r run) {
				r.completed(t, "result")
				require.Empty(t, r.e.CancelledActivityIDs())
			}},
		{name: "explicit_drop_activity_gets_cancelled", history: h(started(1)), h: func(ctx *Context, _ string) (string, error) {
			ctx.ScheduleActivity("DroppedTask", "input").Cancel()
			return "completed_after_dropping_activity", nil
		}, check: func(t *testing.T, r run) {
			r.completed(t, "completed_after_dropping_activity")
			require.Equal(t, []string{"ActivityScheduled", "ActivityCancelRequested"}, r.kinds())
			require.Equal(t, []string{"ActivityCancelRequested:2:dropped_future"}, r.cancelEvents())
			require.Equal(t, []uint64{2}, r.e.CancelledActivityIDs())
		}},
		{name: "explicit_drop_timer_no_cancel_needed", history: h(started(1)), h: func(ctx *Context, _ string) (string, error) {
			ctx.ScheduleTimer(time.Minute).Cancel()
			return "timer_dropped", nil
		}, check: func(t *testing.T, r run) {
			r.completed(t, "timer_dropped")
			require.Empty(t, r.e.CancelledActivityIDs())
			require.Equal(t, []string{"TimerCreated"}, r.kinds())
		}},
		{name: "explicit_drop_external_wait", history: h(started(1)), h: func(ctx *Context, _ string) (string, error) {
			ctx.WaitEvent("MyEvent").Cancel()
			return "wait_dropped", nil
		}, check: func(t *testing.T, r run) {
			r.completed(t, "wait_dropped")
			require.Empty(t, r.e.CancelledActivityIDs())
			require.Equal(t, []string{"ExternalSubscribedCancelled:2:dropped_future"}, r.cancelEvents())
		}},
		{name: "multiple_dropped_activities_all_cancelled", history: h(started(1)), h: func(ctx *Context, _ string) (string, error) {
			ctx.ScheduleActivity("Task1", "input1")
			ctx.ScheduleActivity("Task2", "input2")
			ctx.ScheduleTimer(10 * time.Second)
			return "all_dropped", nil
		}, check: func(t *testing.T, r run) {
			r.completed(t, "all_dropped")
			require.Equal(t, []uint64{2, 3}, r.e.CancelledActivityIDs())
		}},
		{name: "sub_orch_drop_after_schedule_cancelled", history: h(started(1)), h: func(ctx *Context, _ string) (string, error) {
			ctx.SubOrchestration("ChildOrch", "child_input").Cancel()
			return "sub_orch_dropped", nil
		}, check: func(t *testing.T, r run) {
			r.completed(t, "sub_orch_dropped")
			require.Equal(t, []string{"sub::2"}, r.e.CancelledSubOrchestrations())
			require.Equal(t, []string{"SubOrchestrationCancelRequested:2:dropped_future"}, r.cancelEvents())
		}},
		{name: "sub_orch_select_loser_child_cancelled", history: h(started(1), subSched(2, "ChildOrch", "sub::2", "child_input"), timerCreated(3, 1000)),
			msgs: m(msgTimer(3, 1000)), h: subOrchSelectLoser("ChildOrch", "child_input", time.Millisecond), check: func(t *testing.T, r run) {
				r.completed(t, "timer_won_sub_orch_cancelled")
				require.Equal(t, []string{"sub::2"}, r.e.CancelledSubOrchestrations())
			}},
		{name: "replay_select_loser_same_cancellation", history: h(started(1), actSched(2, "Task", "input"), timerCreated(3, 1000), timerFired(4, 3, 1000)),
			h: select2Labelled("Task", "input", time.Millisecond), check: func(t *testing.T, r run) {
				r.completed(t, "timer_won")
				require.Equal(t, []uint64{2}, r.e.CancelledActivityIDs())
			}},
		{name: "completed_sub_orch_not_cancelled", history: h(started(1), subSched(2, "ChildOrch", "sub::2", "input"), subDone(3, 2, "child_result")),
			h: subOrch("ChildOrch", "input"), check: func(t *testing.T, r run) {
				r.completed(t, "child_result")
				require.Empty(t, r.e.CancelledSubOrchestrations())
			}},
		{name: "explicit_drop_then_await_captures_cancellation", history: h(started(1), actSched(2, "DroppedTask", "input"), timerCreated(3, 100)),
			h: func(ctx *Context, _ string) (string, error) {
				ctx.ScheduleActivity("DroppedTask", "input").Cancel()
				if _, err := ctx.ScheduleTimer(100 * time.Millisecond).Get(); err != nil {
					return "", err
				}
				return "done_after_drop", nil
			}, check: func(t *testing.T, r run) {
				r.cont(t)
				require.Equal(t, []uint64{2}, r.e.CancelledActivityIDs())
			}},
		{name: "replay_tolerates_completion_after_cancel_request", history: h(started(1), actSched(2, "Task", "input"), timerCreated(3, 1000),
			timerFired(4, 3, 1000), actCancel(5, 2, "dropped_future"), actDone(6, 2, "late_result")),
			h: select2Labelled("Task", "input", time.Second), check: func(t *testing.T, r run) { r.completed(t, "timer_won") }},
		{name: "replay_fails_when_cancellation_decisions_differ", history: h(started(1), actSched(2, "Task", "input"), actCancel(3, 2, "dropped_future"), actDone(4, 2, "done")),
			h: singleActivity("Task", "input"), check: func(t *testing.T, r run) { r.nondeterminism(t) }},
		{name: "cross_turn_activity_cancellation_emits_both_signals", history: h(started(1), actSched(2, "Task", "input"), timerCreated(3, 1000)),
			msgs: m(msgTimer(3, 1000)), h: select2Labelled("Task", "input", time.Millisecond), check: func(t *testing.T, r run) {
				r.completed(t, "timer_won")
				require.Equal(t, []uint64{2}, r.e.CancelledActivityIDs())
				require.Equal(t, []string{"ActivityCancelRequested:2:dropped_future"}, r.cancelEvents())
			}},
		{name: "cross_turn_sub_orch_cancellation_emits_both_signals", history: h(started(1), subSched(2, "ChildOrch", "sub::2", "input"), timerCreated(3, 1000)),
			msgs: m(msgTimer(3, 1000)), h: subOrchSelectLoser("ChildOrch", "input", time.Millisecond), check: func(t *testing.T, r run) {
				r.completed(t, "timer_won_sub_orch_cancelled")
				require.Equal(t, []string{"sub::2"}, r.e.CancelledSubOrchestrations())
				require.Equal(t, []string{"SubOrchestrationCancelRequested:2:dropped_future"}, r.cancelEvents())
			}},
		{name: "replay_does_not_reemit_activity_cancellation_side_channel_when_already_in_history", history: withPersisted,
			h: select2Labelled("Task", "input", time.Second), check: func(t *testing.T, r run) {
				r.completed(t, "timer_won")
				require.Empty(t, r.e.CancelledActivityIDs())
				require.Empty(t, r.cancelEvents())
			}},
		{name: "replay_does_not_reemit_sub_orch_cancellation_side_channel_when_already_in_history", history: subPersisted,
			h: subOrchSelectLoser("ChildOrch", "input", time.Second), check: func(t *testing.T, r run) {
				r.completed(t, "timer_won_sub_orch_cancelled")
				require.Empty(t, r.e.CancelledSubOrchestrations())
				require.Empty(t, r.cancelEvents())
			}},
		{name: "replay_allows_new_cancellations_in_current_turn_even_when_prior_cancellations_exist", history: withPersisted,
			h: func(ctx *Context, _ string) (string, error) {
				act := ctx.ScheduleActivity("Task", "input")
				Select(act, ctx.ScheduleTimer(time.Second))
				ctx.ScheduleActivity("Extra", "x").Cancel()
				return "timer_won_plus_extra_drop", nil
			}, check: func(t *testing.T, r run) {
				r.completed(t, "timer_won_plus_extra_drop")
				require.Equal(t, []uint64{6}, r.e.CancelledActivityIDs())
			}},
		{name: "replay_fails_if_persisted_dropped_future_cancel_is_no_longer_emitted_by_code", history: withPersisted,
			h: func(ctx *Context, _ string) (string, error) {
				act := ctx.ScheduleActivity("Task", "input")
				_ = ctx.ScheduleTimer(time.Second)
				r, err := act.Get()
				return "activity_awaited:" + r, err
			}, check: func(t *testing.T, r run) {
				r.nondeterminism(t)
				r.failedWith(t, "cancellation mismatch (activities)")
			}},
		{name: "duplicate_activity_cancel_requested_is_benign", history: append(withPersisted, actCancel(6, 2, "orchestration_terminal_failed")),
			h: select2Labelled("Task", "input", time.Second), check: func(t *testing.T, r run) { r.completed(t, "timer_won") }},
		{name: "duplicate_sub_orch_cancel_requested_is_benign", history: append(subPersisted, subCancel(6, 2, "orchestration_terminal_failed")),
			h: subOrchSelectLoser("ChildOrch", "input", time.Second), check: func(t *testing.T, r run) { r.completed(t, "timer_won_sub_orch_cancelled") }},
	})
}
