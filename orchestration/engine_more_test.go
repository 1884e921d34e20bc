package orchestration

import (
	"testing"
	"time"

	"github.com/duroxide-go/duroxide"
	"github.com/stretchr/testify/require"
)

func kvSet(id uint64, k, v string, ms uint64) duroxide.Event {
	return ev(id, nil, duroxide.KeyValueSet{Key: k, Value: v, LastUpdatedAtMs: ms})
}
func kvClear(id uint64, k string) duroxide.Event {
	return ev(id, nil, duroxide.KeyValueCleared{Key: k})
}
func kvClearAll(id uint64) duroxide.Event { return ev(id, nil, duroxide.KeyValuesCleared{}) }
func chained(id uint64, name, inst, input string) duroxide.Event {
	return ev(id, nil, duroxide.OrchestrationChained{Name: name, Instance: inst, Input: input})
}
func subFail(id, src uint64, msg string) duroxide.Event {
	return ev(id, u64(src), duroxide.SubOrchestrationFailed{Details: appErr(duroxide.AppOrchestrationFailed{}, msg)})
}

func kvGet(ctx *Context, k string) string {
	if v, ok := ctx.KV(k); ok {
		return v
	}
	return "none"
}

// More nondeterminism cases of duroxide's engine tests.
func TestNondeterminismMore(t *testing.T) {
	nd := func(substr string) func(t *testing.T, r run) {
		return func(t *testing.T, r run) {
			r.nondeterminism(t)
			r.failedWith(t, substr)
		}
	}
	twoTimers := func(ctx *Context, _ string) (string, error) {
		ctx.ScheduleTimer(time.Second).Get()
		ctx.ScheduleTimer(2 * time.Second).Get()
		return "done", nil
	}
	subThenActivity := func(ctx *Context, _ string) (string, error) {
		r1, err := ctx.SubOrchestration("Child", "input").Get()
		if err != nil {
			return "", err
		}
		r2, err := ctx.ScheduleActivity("Pending", "work").Get()
		return r1 + "," + r2, err
	}
	detachedThenActivity := func(name string) Handler {
		return func(ctx *Context, _ string) (string, error) {
			ctx.StartOrchestration(name, "child-inst", "input")
			return ctx.ScheduleActivity("Task", "work").Get()
		}
	}
	runCases(t, []engineCase{
		{name: "timer_completion_for_activity_schedule", history: h(started(1), actSched(2, "Task", "input")), msgs: m(msgTimer(2, 1000)),
			h: singleActivity("Task", "input"), check: nd("completion kind mismatch")},
		{name: "sub_orch_completion_for_activity_schedule", history: h(started(1), actSched(2, "Task", "input")), msgs: m(msgSubDone(2, "r")),
			h: singleActivity("Task", "input"), check: nd("completion kind mismatch")},
		{name: "sub_orch_completion_for_timer_schedule", history: h(started(1), timerCreated(2, 1000)), msgs: m(msgSubDone(2, "r")),
			h: singleTimer(time.Minute), check: nd("completion kind mismatch")},
		{name: "timer_completion_for_sub_orch_schedule", history: h(started(1), subSched(2, "ChildOrch", "child-inst", "input")), msgs: m(msgTimer(2, 1000)),
			h: subOrch("ChildOrch", "input"), check: nd("completion kind mismatch")},
		{name: "orchestration_chained_no_matching_action", history: h(started(1), actSched(2, "Task", "input"), chained(3, "ChildOrch", "child-inst", "input")),
			h: singleActivity("Task", "input"), check: nd("OrchestrationChained")},
		{name: "orchestration_chained_name_mismatch", history: h(started(1), chained(2, "ChildA", "child-inst", "input"), actSched(3, "Task", "work")),
			h: detachedThenActivity("ChildB"), check: nd("schedule mismatch")},
		{name: "activity_completed_for_timer_in_history", history: h(started(1), timerCreated(2, 1000), actDone(3, 2, "wrong")),
			h: singleTimer(time.Minute), check: nd("completion kind mismatch")},
		{name: "timer_completion_for_closed_schedule", history: h(started(1), timerCreated(2, 1000), timerFired(3, 2, 1000), timerCreated(4, 2000), timerFired(5, 2, 1000)),
			h: twoTimers, check: nd("completion without open schedule")},
		{name: "sub_orch_completion_for_closed_schedule", history: h(started(1), subSched(2, "Child", "child-inst", "input"), subDone(3, 2, "first"),
			actSched(4, "Pending", "work"), subDone(5, 2, "second")), h: subThenActivity, check: nd("completion without open schedule")},
		{name: "activity_completion_for_closed_schedule", history: h(started(1), actSched(2, "Task", "input"), actDone(3, 2, "first"),
			actSched(4, "Pending", "work"), actDone(5, 2, "second")), h: twoActivities("Task", "input", "Pending", "work"), check: nd("completion without open schedule")},
		{name: "activity_failed_for_closed_schedule", history: h(started(1), actSched(2, "Task", "input"), actDone(3, 2, "first"),
			actSched(4, "Pending", "work"), actFail(5, 2, "dup")), h: twoActivities("Task", "input", "Pending", "work"), check: nd("completion without open schedule")},
		{name: "sub_orch_failed_for_closed_schedule", history: h(started(1), subSched(2, "Child", "child-inst", "input"), subDone(3, 2, "first"),
			actSched(4, "Pending", "work"), subFail(5, 2, "dup")), h: subThenActivity, check: nd("completion without open schedule")},
		{name: "detached_orchestration_then_activity_replays_correctly", history: h(started(1), chained(2, "ChildA", "child-inst", "input"), actSched(3, "Task", "work"), actDone(4, 3, "ok")),
			h: detachedThenActivity("ChildA"), check: func(t *testing.T, r run) { r.completed(t, "ok") }},
	})
}

// Actions become the events duroxide writes (action_to_event).
func TestActionToEvent(t *testing.T) {
	sess, tag := "s1", "gpu"
	runCases(t, []engineCase{
		{name: "schedule_activity_on_session_creates_activity_scheduled_event_with_session_id", history: h(started(1)),
			h: func(ctx *Context, _ string) (string, error) {
				return ctx.ScheduleActivity("T", "i", WithSession(sess)).Get()
			},
			check: func(t *testing.T, r run) {
				require.Equal(t, duroxide.ActivityScheduled{Name: "T", Input: "i", SessionID: &sess}, r.e.HistoryDelta()[0].Kind)
				require.Equal(t, []Action{CallActivityAction{SchedulingEventID: 2, Name: "T", Input: "i", SessionID: &sess}}, r.e.PendingActions())
			}},
		{name: "schedule_activity_on_session_session_id_mismatch_causes_nondeterminism",
			history: h(started(1), ev(2, nil, duroxide.ActivityScheduled{Name: "T", Input: "i", SessionID: &sess})),
			h: func(ctx *Context, _ string) (string, error) {
				return ctx.ScheduleActivity("T", "i", WithSession("other")).Get()
			},
			check: func(t *testing.T, r run) { r.nondeterminism(t) }},
		{name: "with_tag_sets_tag_on_emitted_event", history: h(started(1)),
			h: func(ctx *Context, _ string) (string, error) {
				return ctx.ScheduleActivity("T", "i", WithTag(tag)).Get()
			},
			check: func(t *testing.T, r run) {
				require.Equal(t, duroxide.ActivityScheduled{Name: "T", Input: "i", Tag: &tag}, r.e.HistoryDelta()[0].Kind)
			}},
		{name: "no_with_tag_leaves_none", history: h(started(1)), h: singleActivity("T", "i"),
			check: func(t *testing.T, r run) {
				require.Equal(t, duroxide.ActivityScheduled{Name: "T", Input: "i"}, r.e.HistoryDelta()[0].Kind)
			}},
		{name: "tag_mismatch_on_replay_causes_nondeterminism", history: h(started(1), actSched(2, "T", "i")),
			h: func(ctx *Context, _ string) (string, error) {
				return ctx.ScheduleActivity("T", "i", WithTag(tag)).Get()
			},
			check: func(t *testing.T, r run) { r.nondeterminism(t) }},
		{name: "tag_value_change_on_replay_causes_nondeterminism", history: h(started(1), ev(2, nil, duroxide.ActivityScheduled{Name: "T", Input: "i", Tag: &tag})),
			h: func(ctx *Context, _ string) (string, error) {
				return ctx.ScheduleActivity("T", "i", WithTag("cpu")).Get()
			},
			check: func(t *testing.T, r run) { r.nondeterminism(t) }},
		{name: "tag_removal_on_replay_causes_nondeterminism", history: h(started(1), ev(2, nil, duroxide.ActivityScheduled{Name: "T", Input: "i", Tag: &tag})),
			h: singleActivity("T", "i"), check: func(t *testing.T, r run) { r.nondeterminism(t) }},
		{name: "schedule_orchestration_creates_orchestration_chained_event", history: h(started(1)),
			h: func(ctx *Context, _ string) (string, error) {
				ctx.StartOrchestration("Other", "other-1", "in", WithVersion("2.0.0"))
				return "ok", nil
			}, check: func(t *testing.T, r run) {
				r.completed(t, "ok")
				require.Equal(t, []string{"OrchestrationChained"}, r.kinds(), "a detached start is never cancelled")
				v := "2.0.0"
				require.Equal(t, []Action{StartDetachedAction{SchedulingEventID: 2, Name: "Other", Version: &v, Instance: "other-1", Input: "in"}}, r.e.PendingActions())
			}},
		{name: "multiple_action_types_create_corresponding_events", history: h(started(1)),
			h: func(ctx *Context, _ string) (string, error) {
				a := ctx.ScheduleActivity("A", "a")
				tm := ctx.ScheduleTimer(time.Second)
				w := ctx.WaitEvent("E")
				q := ctx.DequeueEvent("Q")
				s := ctx.SubOrchestration("S", "s")
				ctx.StartOrchestration("D", "d-1", "d")
				ctx.SetCustomStatus("busy")
				ctx.SetKV("k", "v")
				ctx.ClearKV("k")
				ctx.ClearAllKV()
				All(a, tm, w, q, s)
				return "", nil
			}, check: func(t *testing.T, r run) {
				r.cont(t)
				require.Equal(t, []string{"ActivityScheduled", "TimerCreated", "ExternalSubscribed", "ExternalSubscribedPersistent",
					"SubOrchestrationScheduled", "OrchestrationChained", "CustomStatusUpdated", "KeyValueSet", "KeyValueCleared", "KeyValuesCleared"}, r.kinds())
				require.Equal(t, []uint64{2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, r.ids())
				require.Len(t, r.e.PendingActions(), 10)
			}},
	})
}

// Key/value store cases.
func TestKV(t *testing.T) {
	setThenGet := func(k, v string) Handler {
		return func(ctx *Context, _ string) (string, error) { ctx.SetKV(k, v); return kvGet(ctx, k), nil }
	}
	// A KV event is checked only when the replay walks past it, so the
	// mismatch cases suspend on an activity (as duroxide's do).
	setThenActivity := func(k, v string) Handler {
		return func(ctx *Context, _ string) (string, error) {
			ctx.SetKV(k, v)
			return ctx.ScheduleActivity("Task", "input").Get()
		}
	}
	setClearSet := func(ctx *Context, _ string) (string, error) {
		ctx.SetKV("A", "1")
		ctx.ClearAllKV()
		ctx.SetKV("B", "2")
		return "A=" + kvGet(ctx, "A") + ",B=" + kvGet(ctx, "B"), nil
	}
	setThenClearSingle := func(ctx *Context, _ string) (string, error) {
		ctx.SetKV("A", "1")
		ctx.SetKV("B", "2")
		ctx.ClearKV("A")
		return "A=" + kvGet(ctx, "A") + ",B=" + kvGet(ctx, "B"), nil
	}
	// rmw increments a counter once per turn after an activity.
	rmw := func(ctx *Context, _ string) (string, error) {
		for i := range 2 {
			n := 0
			if v, ok := ctx.KV("count"); ok {
				Unmarshal(v, &n)
			}
			ctx.SetKV("count", itoa(uint64(n+1)))
			if _, err := ctx.ScheduleActivity("Step", itoa(uint64(i))).Get(); err != nil {
				return "", err
			}
		}
		return kvGet(ctx, "count"), nil
	}
	snap := map[string]duroxide.KvEntry{"X": {Value: "from_prev_exec", LastUpdatedAtMs: 100}, "old": {Value: "o", LastUpdatedAtMs: 5}}
	cases := []struct {
		engineCase
		snapshot map[string]duroxide.KvEntry
	}{
		{engineCase: engineCase{name: "replay_set_value_reconstructs_state", history: h(started(1), kvSet(2, "A", "1", 0)), h: setThenGet("A", "1"),
			check: func(t *testing.T, r run) { r.completed(t, "1") }}},
		{engineCase: engineCase{name: "replay_multiple_sets_last_wins", history: h(started(1), kvSet(2, "A", "1", 0), kvSet(3, "A", "2", 0)),
			h: func(ctx *Context, _ string) (string, error) {
				ctx.SetKV("A", "1")
				ctx.SetKV("A", "2")
				return kvGet(ctx, "A"), nil
			},
			check: func(t *testing.T, r run) { r.completed(t, "2") }}},
		{engineCase: engineCase{name: "replay_clear_then_set", history: h(started(1), kvSet(2, "A", "1", 0), kvClearAll(3), kvSet(4, "B", "2", 0)), h: setClearSet,
			check: func(t *testing.T, r run) { r.completed(t, "A=none,B=2") }}},
		{engineCase: engineCase{name: "replay_clear_single_key", history: h(started(1), kvSet(2, "A", "1", 0), kvSet(3, "B", "2", 0), kvClear(4, "A")), h: setThenClearSingle,
			check: func(t *testing.T, r run) { r.completed(t, "A=none,B=2") }}},
		{engineCase: engineCase{name: "replay_set_value_mismatch_nondeterminism", history: h(started(1), kvSet(2, "A", "1", 0), actSched(3, "Task", "input"), actDone(4, 3, "r")),
			h: singleActivity("Task", "input"), check: func(t *testing.T, r run) { r.nondeterminism(t) }}},
		{engineCase: engineCase{name: "replay_clear_all_values_matches_action", history: h(started(1), kvClearAll(2)),
			h:     func(ctx *Context, _ string) (string, error) { ctx.ClearAllKV(); return "cleared", nil },
			check: func(t *testing.T, r run) { r.completed(t, "cleared") }}},
		{engineCase: engineCase{name: "replay_clear_value_mismatch_nondeterminism", history: h(started(1), kvClear(2, "A"), actSched(3, "Task", "input"), actDone(4, 3, "r")),
			h: singleActivity("Task", "input"), check: func(t *testing.T, r run) { r.nondeterminism(t) }}},
		{engineCase: engineCase{name: "replay_kv_interleaved_with_activities", history: h(started(1), kvSet(2, "progress", "started", 0), actSched(3, "DoWork", "w"), actDone(4, 3, "work-result")),
			h: func(ctx *Context, _ string) (string, error) {
				ctx.SetKV("progress", "started")
				return ctx.ScheduleActivity("DoWork", "w").Get()
			}, check: func(t *testing.T, r run) { r.completed(t, "work-result") }}},
		{engineCase: engineCase{name: "new_kv_events_after_replay", history: h(started(1)),
			h: func(ctx *Context, _ string) (string, error) {
				ctx.SetKV("X", "Y")
				ctx.ClearKV("Z")
				ctx.ClearAllKV()
				ctx.SetKV("A", "1")
				return kvGet(ctx, "A"), nil
			}, check: func(t *testing.T, r run) {
				r.completed(t, "1")
				require.Equal(t, []duroxide.EventKind{
					duroxide.KeyValueSet{Key: "X", Value: "Y", LastUpdatedAtMs: uint64(testNow.UnixMilli())},
					duroxide.KeyValueCleared{Key: "Z"}, duroxide.KeyValuesCleared{},
					duroxide.KeyValueSet{Key: "A", Value: "1", LastUpdatedAtMs: uint64(testNow.UnixMilli())},
				}, kindsOf(r.e.HistoryDelta()))
			}}},
		{engineCase: engineCase{name: "kv_state_seeded_from_snapshot", history: h(started(1)), h: func(ctx *Context, _ string) (string, error) { return kvGet(ctx, "X"), nil },
			check: func(t *testing.T, r run) { r.completed(t, "from_prev_exec") }}, snapshot: snap},
		{engineCase: engineCase{name: "kv_state_snapshot_overridden_by_code", history: h(started(1)), h: setThenGet("X", "new"),
			check: func(t *testing.T, r run) { r.completed(t, "new") }}, snapshot: snap},
		{engineCase: engineCase{name: "kv_set_key_mismatch_nondeterminism", history: h(started(1), kvSet(2, "B", "1", 0), actSched(3, "Task", "input"), actDone(4, 3, "r")), h: setThenActivity("A", "1"),
			check: func(t *testing.T, r run) { r.nondeterminism(t); r.failedWith(t, "kv set mismatch") }}},
		{engineCase: engineCase{name: "kv_set_value_mismatch_nondeterminism", history: h(started(1), kvSet(2, "A", "old", 0), actSched(3, "Task", "input"), actDone(4, 3, "r")), h: setThenActivity("A", "new"),
			check: func(t *testing.T, r run) { r.nondeterminism(t) }}},
		{engineCase: engineCase{name: "kv_clear_key_mismatch_nondeterminism", history: h(started(1), kvClear(2, "B"), actSched(3, "Task", "input"), actDone(4, 3, "r")),
			h: func(ctx *Context, _ string) (string, error) {
				ctx.ClearKV("A")
				return ctx.ScheduleActivity("Task", "input").Get()
			},
			check: func(t *testing.T, r run) { r.nondeterminism(t); r.failedWith(t, "kv clear mismatch") }}},
		{engineCase: engineCase{name: "kv_set_timestamp_mismatch_ok", history: h(started(1), kvSet(2, "A", "1", 12345)), h: setThenGet("A", "1"),
			check: func(t *testing.T, r run) { r.completed(t, "1") }}},
		{engineCase: engineCase{name: "kv_read_modify_write_across_turns_replay", history: h(started(1), kvSet(2, "count", "1", 0), actSched(3, "Step", "0"), actDone(4, 3, "ok")),
			h: rmw, check: func(t *testing.T, r run) {
				r.cont(t)
				require.Equal(t, []string{"KeyValueSet", "ActivityScheduled"}, r.kinds())
				require.Equal(t, duroxide.KeyValueSet{Key: "count", Value: "2", LastUpdatedAtMs: uint64(testNow.UnixMilli())}, r.e.HistoryDelta()[0].Kind)
			}}},
		{engineCase: engineCase{name: "kv_read_modify_write_with_can_snapshot", history: h(started(1)), h: rmw, check: func(t *testing.T, r run) {
			r.cont(t)
			require.Equal(t, duroxide.KeyValueSet{Key: "count", Value: "8", LastUpdatedAtMs: uint64(testNow.UnixMilli())}, r.e.HistoryDelta()[0].Kind)
		}}, snapshot: map[string]duroxide.KvEntry{"count": {Value: "7"}}},
		{engineCase: engineCase{name: "kv_prune_updated_before", history: h(started(1)), h: func(ctx *Context, _ string) (string, error) {
			n := ctx.PruneKVUpdatedBefore(50)
			return itoa(uint64(n)) + ":" + kvGet(ctx, "old") + ":" + kvGet(ctx, "X"), nil
		}, check: func(t *testing.T, r run) {
			r.completed(t, "1:none:from_prev_exec")
			require.Equal(t, []duroxide.EventKind{duroxide.KeyValueCleared{Key: "old"}}, kindsOf(r.e.HistoryDelta()))
		}}, snapshot: snap},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.check(t, runEngineOpts(t, tc.history, tc.msgs, tc.h, EngineOptions{PersistedLen: -1, KVSnapshot: tc.snapshot}))
		})
	}
}

func kindsOf(events []duroxide.Event) []duroxide.EventKind {
	var out []duroxide.EventKind
	for _, e := range events {
		out = append(out, e.Kind)
	}
	return out
}

// Mismatch messages quote the decision and the event as duroxide does.
func TestNondeterminismMessages(t *testing.T) {
	tag := "gpu"
	cases := []struct {
		name    string
		history []duroxide.Event
		h       Handler
		want    string
	}{
		{"activity", h(started(1), actSched(2, "A", "x\"y")), singleActivity("B", "in\n"),
			`nondeterministic: schedule mismatch: action=CallActivity { scheduling_event_id: 0, name: "B", input: "in\n", session_id: None, tag: None } vs event=ActivityScheduled { name: "A", input: "x\"y", session_id: None, tag: None }`},
		{"tag", h(started(1), ev(2, nil, duroxide.ActivityScheduled{Name: "A", Input: "", Tag: &tag})), singleActivity("A", ""),
			`nondeterministic: schedule mismatch: action=CallActivity { scheduling_event_id: 0, name: "A", input: "", session_id: None, tag: None } vs event=ActivityScheduled { name: "A", input: "", session_id: None, tag: Some("gpu") }`},
		{"sub_orchestration", h(started(1), actSched(2, "A", "")), subOrch("C", "i"),
			`nondeterministic: schedule mismatch: action=StartSubOrchestration { scheduling_event_id: 0, name: "C", version: None, instance: "sub::pending_1", input: "i" } vs event=ActivityScheduled { name: "A", input: "", session_id: None, tag: None }`},
		{"external", h(started(1), extSub(2, "X")), waitExternal("Y"),
			`nondeterministic: schedule mismatch: action=WaitExternal { scheduling_event_id: 0, name: "Y" } vs event=ExternalSubscribed { name: "X" }`},
		{"kv", h(started(1), kvSet(2, "k", "v", 5), actSched(3, "T", "i")), func(ctx *Context, _ string) (string, error) {
			ctx.ClearKV("k")
			return ctx.ScheduleActivity("T", "i").Get()
		}, `nondeterministic: kv set mismatch: action=ClearKeyValue { key: "k" } vs event=KeyValueSet { key: "k", value: "v", last_updated_at_ms: 5 }`},
		{"no_action", h(started(1), actSched(2, "A", "")), func(ctx *Context, _ string) (string, error) {
			return ctx.WaitEvent("E").Get()
		}, `nondeterministic: schedule mismatch: action=WaitExternal { scheduling_event_id: 0, name: "E" } vs event=ActivityScheduled { name: "A", input: "", session_id: None, tag: None }`},
		{"completion_kind", h(started(1), timerCreated(2, 1), actDone(3, 2, "x")), singleTimer(time.Second),
			`nondeterministic: completion kind mismatch: expected activity`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := runEngine(t, tc.history, nil, tc.h)
			require.Equal(t, tc.want, r.failed(t).DisplayMessage())
		})
	}
}
