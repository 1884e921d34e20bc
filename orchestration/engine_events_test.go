package orchestration

import (
	"testing"
	"time"

	"github.com/duroxide-go/duroxide"
	"github.com/stretchr/testify/require"
)

func queueSub(id uint64, name string) duroxide.Event {
	return ev(id, nil, duroxide.QueueSubscribed{Name: name})
}
func queueEvent(id uint64, name, data string) duroxide.Event {
	return ev(id, nil, duroxide.QueueEventDelivered{Name: name, Data: data})
}
func extCancelled(id, src uint64, reason string) duroxide.Event {
	return ev(id, u64(src), duroxide.ExternalSubscribedCancelled{Reason: reason})
}

// External events are positional; queue messages are FIFO and buffered.
func TestEventsAndQueues(t *testing.T) {
	twoWaits := func(ctx *Context, _ string) (string, error) {
		a, err := ctx.WaitEvent("E").Get()
		if err != nil {
			return "", err
		}
		b, err := ctx.WaitEvent("E").Get()
		return a + "," + b, err
	}
	dequeueN := func(n int) Handler {
		return func(ctx *Context, _ string) (string, error) {
			out := ""
			for i := range n {
				v, err := ctx.DequeueEvent("Q").Get()
				if err != nil {
					return "", err
				}
				if i > 0 {
					out += ","
				}
				out += v
			}
			return out, nil
		}
	}
	// waitWithTimeout races an external event against a timer, then waits
	// for the event again.
	waitWithTimeout := func(ctx *Context, _ string) (string, error) {
		w := ctx.WaitEvent("E")
		if Select(w, ctx.ScheduleTimer(time.Second)) == 1 {
			return ctx.WaitEvent("E").Get()
		}
		return w.Get()
	}
	runCases(t, []engineCase{
		{name: "positional_nth_subscription_gets_nth_event", history: h(started(1), extSub(2, "E"), extEvent(3, "E", "a"), extSub(4, "E"), extEvent(5, "E", "b")),
			h: twoWaits, check: func(t *testing.T, r run) { r.completed(t, "a,b") }},
		{name: "event_before_subscription_is_ignored", history: h(started(1), extEvent(2, "E", "early"), extSub(3, "E")), msgs: m(msgRaise("E", "late")),
			h: waitExternal("E"), check: func(t *testing.T, r run) { r.completed(t, "late") }},
		{name: "cancelled_subscription_does_not_steal_future_event",
			history: h(started(1), extSub(2, "E"), timerCreated(3, 1000), timerFired(4, 3, 1000), extCancelled(5, 2, "dropped_future"), extSub(6, "E")),
			msgs:    m(msgRaise("E", "payload")), h: waitWithTimeout, check: func(t *testing.T, r run) { r.completed(t, "payload") }},
		{name: "select_loser_wait_gets_breadcrumb", history: h(started(1), extSub(2, "E"), timerCreated(3, 1000)), msgs: m(msgTimer(3, 1000)),
			h: waitWithTimeout, check: func(t *testing.T, r run) {
				r.cont(t)
				require.Equal(t, []string{"TimerFired", "ExternalSubscribed", "ExternalSubscribedCancelled"}, r.kinds())
				require.Equal(t, []string{"ExternalSubscribedCancelled:2:dropped_future"}, r.cancelEvents())
			}},
		{name: "queue_fifo", history: h(started(1), queueSub(2, "Q"), queueEvent(3, "Q", "m1"), queueSub(4, "Q"), queueEvent(5, "Q", "m2")),
			h: dequeueN(2), check: func(t *testing.T, r run) { r.completed(t, "m1,m2") }},
		{name: "persistent_event_arrives_before_subscription", history: h(started(1), actSched(2, "Work", "w")),
			msgs: m(msgQueue("Q", "early"), msgActDone(2, "ok")), h: func(ctx *Context, _ string) (string, error) {
				if _, err := ctx.ScheduleActivity("Work", "w").Get(); err != nil {
					return "", err
				}
				return ctx.DequeueEvent("Q").Get()
			}, check: func(t *testing.T, r run) {
				// The subscription made this turn is satisfied by the buffered
				// message in the same turn (quiescence).
				r.completed(t, "early")
				require.Equal(t, []string{"ExternalEventPersistent", "ActivityCompleted", "ExternalSubscribedPersistent"}, r.kinds())
			}},
		{name: "queue_messages_batch_all_consumed_in_one_turn", history: h(started(1)), msgs: m(msgQueue("Q", "a"), msgQueue("Q", "b"), msgQueue("Q", "c")),
			h: dequeueN(3), check: func(t *testing.T, r run) { r.completed(t, "a,b,c") }},
		{name: "queue_cancelled_subscription_skipped", history: h(started(1)), msgs: m(msgQueue("Q", "a")),
			h: func(ctx *Context, _ string) (string, error) {
				ctx.DequeueEvent("Q").Cancel()
				return ctx.DequeueEvent("Q").Get()
			}, check: func(t *testing.T, r run) {
				// As in duroxide, a subscription cancelled before it was
				// bound is only recorded at the end of the turn; the next
				// turn skips it (case below).
				r.cont(t)
				require.Equal(t, []string{"ExternalSubscribedPersistentCancelled:3:dropped_future"}, r.cancelEvents())
			}},
		{name: "queue_cancelled_subscription_skipped_on_replay", history: h(started(1), queueEvent(2, "Q", "a"), queueSub(3, "Q"), queueSub(4, "Q"),
			ev(5, u64(3), duroxide.QueueSubscriptionCancelled{Reason: "dropped_future"})),
			// Replaying a breadcrumb does not resume the code (as in
			// duroxide); the next arrival does, and the skip applies then.
			msgs: m(msgQueue("Q", "b")),
			h: func(ctx *Context, _ string) (string, error) {
				ctx.DequeueEvent("Q").Cancel()
				return ctx.DequeueEvent("Q").Get()
			}, check: func(t *testing.T, r run) {
				r.completed(t, "a")
				require.Equal(t, []string{"ExternalEventPersistent"}, r.kinds())
			}},
		{name: "duplicate_external_events_in_batch_are_kept", history: h(started(1), extSub(2, "Evt")), msgs: m(msgRaise("Evt", "same"), msgRaise("Evt", "same")),
			h: waitExternal("Evt"), check: func(t *testing.T, r run) {
				r.completed(t, "same")
				require.Equal(t, []string{"ExternalEvent", "ExternalEvent"}, r.kinds())
			}},
	})
}

// Custom status and continue-as-new.
func TestCustomStatusAndContinueAsNew(t *testing.T) {
	status := "carried"
	runCases(t, []engineCase{
		{name: "custom_status_set_and_reset", history: h(started(1)), h: func(ctx *Context, _ string) (string, error) {
			ctx.SetCustomStatus("step1")
			s1, _ := ctx.CustomStatus()
			ctx.ResetCustomStatus()
			_, ok := ctx.CustomStatus()
			if ok {
				return "", nil
			}
			return s1, nil
		}, check: func(t *testing.T, r run) {
			r.completed(t, "step1")
			s := "step1"
			require.Equal(t, []duroxide.EventKind{duroxide.CustomStatusUpdated{Status: &s}, duroxide.CustomStatusUpdated{}}, kindsOf(r.e.HistoryDelta()))
		}},
		{name: "initial_custom_status_from_started", history: h(ev(1, nil, duroxide.OrchestrationStarted{Name: testOrch, Version: testVersion, InitialCustomStatus: &status})),
			h:     func(ctx *Context, _ string) (string, error) { s, _ := ctx.CustomStatus(); return s, nil },
			check: func(t *testing.T, r run) { r.completed(t, "carried") }},
		{name: "custom_status_kind_only_match_on_replay", history: h(started(1), ev(2, nil, duroxide.CustomStatusUpdated{Status: &status}), actSched(3, "T", "i")),
			h: func(ctx *Context, _ string) (string, error) {
				ctx.SetCustomStatus("different text")
				return ctx.ScheduleActivity("T", "i").Get()
			}, check: func(t *testing.T, r run) { r.cont(t) }},
		{name: "custom_status_mismatch_nondeterminism", history: h(started(1), ev(2, nil, duroxide.CustomStatusUpdated{Status: &status}), actSched(3, "T", "i")),
			h: singleActivity("T", "i"), check: func(t *testing.T, r run) { r.nondeterminism(t) }},
		{name: "continue_as_new_versioned", history: h(started(1)), h: func(ctx *Context, _ string) (string, error) {
			return "", ctx.ContinueAsNew("next", ToVersion("2.0.0"))
		}, check: func(t *testing.T, r run) {
			r.can(t, "next")
			require.Equal(t, "2.0.0", *r.r.Version)
		}},
		{name: "sub_orch_then_continue_as_new", history: h(started(1)), h: func(ctx *Context, _ string) (string, error) {
			ctx.SubOrchestration("ChildOrch", "child-input")
			return "", ctx.ContinueAsNew("new-input")
		}, check: func(t *testing.T, r run) {
			r.can(t, "new-input")
			require.Equal(t, []string{"StartSubOrchestration", "ContinueAsNew"}, r.actionTypes())
			require.Equal(t, []string{"SubOrchestrationScheduled"}, r.kinds(), "no breadcrumbs on continue-as-new")
		}},
		{name: "cancel_takes_precedence_over_continue_as_new", history: h(started(1)), msgs: m(msgCancel("stop")), h: continueAsNew("x"),
			check: func(t *testing.T, r run) { r.cancelled(t, "stop") }},
	})
}
