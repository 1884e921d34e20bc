package orchestration

import (
	"strconv"
	"testing"
	"time"

	"github.com/duroxide-go/duroxide"
	"github.com/stretchr/testify/require"
)

// The remaining cases of duroxide's engine tests, under their names.
func TestEngineMisc(t *testing.T) {
	identical := twoActivities("Task", "same", "Task", "same")
	rmwEveryTurn := func(ctx *Context, _ string) (string, error) {
		for range 4 {
			v, ok := ctx.KV("counter")
			if !ok {
				v = "0"
			}
			n, _ := strconv.Atoi(v)
			ctx.SetKV("counter", strconv.Itoa(n+1))
			if _, err := ctx.ScheduleActivity("Noop", "").Get(); err != nil {
				return "", err
			}
		}
		return kvGet(ctx, "counter"), nil
	}
	runCases(t, []engineCase{
		{name: "identical_activities_both_done_routes_correctly", history: h(started(1), actSched(2, "Task", "same"), actDone(3, 2, "R1"),
			actSched(4, "Task", "same"), actDone(5, 4, "R2")), h: identical, check: func(t *testing.T, r run) { r.completed(t, "R1,R2") }},
		{name: "join_one_fails", history: h(started(1), actSched(2, "A", "a"), actSched(3, "B", "b"), actDone(4, 2, "ra"), actFail(5, 3, "B failed")),
			h: joinActivities("A", "a", "B", "b"), check: func(t *testing.T, r run) { require.Equal(t, "B failed", r.failed(t).DisplayMessage()) }},
		{name: "pending_actions_have_correct_event_id", history: h(started(1)), h: singleActivity("Task", "input"), check: func(t *testing.T, r run) {
			require.Equal(t, uint64(2), r.e.PendingActions()[0].(CallActivityAction).SchedulingEventID)
			require.Equal(t, uint64(3), r.e.NextEventID())
		}},
		{name: "handler_invoked_once_during_replay", history: h(started(1), actSched(2, "Task", "input"), actDone(3, 2, "result")),
			h: singleActivity("Task", "input"), check: func(t *testing.T, r run) { r.completed(t, "result") }},
		{name: "completion_for_different_execution", history: h(started(1), actSched(2, "Task", "input")),
			msgs: m(duroxide.ActivityCompletedItem{Instance: testInstance, ExecutionID: 999, ID: 2, Result: "r"}),
			h:    singleActivity("Task", "input"), check: func(t *testing.T, r run) { require.Empty(t, r.e.HistoryDelta()) }},
		{name: "schedule_activity_creates_activity_scheduled_event", history: h(started(1)), h: singleActivity("Task", "in"), check: func(t *testing.T, r run) {
			require.Equal(t, []duroxide.EventKind{duroxide.ActivityScheduled{Name: "Task", Input: "in"}}, kindsOf(r.e.HistoryDelta()))
		}},
		{name: "schedule_timer_creates_timer_created_event", history: h(started(1)), h: singleTimer(5 * time.Second), check: func(t *testing.T, r run) {
			require.Equal(t, []duroxide.EventKind{duroxide.TimerCreated{FireAtMs: uint64(testNow.UnixMilli()) + 5000}}, kindsOf(r.e.HistoryDelta()))
		}},
		{name: "schedule_wait_creates_external_subscribed_event", history: h(started(1)), h: waitExternal("E"), check: func(t *testing.T, r run) {
			require.Equal(t, []duroxide.EventKind{duroxide.ExternalSubscribed{Name: "E"}}, kindsOf(r.e.HistoryDelta()))
		}},
		{name: "schedule_sub_orchestration_creates_sub_orchestration_scheduled_event", history: h(started(1)), h: subOrch("C", "in"), check: func(t *testing.T, r run) {
			require.Equal(t, []duroxide.EventKind{duroxide.SubOrchestrationScheduled{Name: "C", Instance: "sub::2", Input: "in"}}, kindsOf(r.e.HistoryDelta()))
		}},
		{name: "replay_set_value_matches_action", history: h(started(1), kvSet(2, "A", "1", 0)),
			h: func(ctx *Context, _ string) (string, error) { ctx.SetKV("A", "1"); return "done", nil }, check: func(t *testing.T, r run) { r.completed(t, "done") }},
		{name: "replay_clear_value_matches_action", history: h(started(1), kvClear(2, "A")),
			h: func(ctx *Context, _ string) (string, error) { ctx.ClearKV("A"); return "cleared", nil }, check: func(t *testing.T, r run) { r.completed(t, "cleared") }},
		{name: "replay_kv_no_token_binding", history: h(started(1), kvSet(2, "k", "v", 0), actSched(3, "T", "i")),
			h: func(ctx *Context, _ string) (string, error) {
				ctx.SetKV("k", "v")
				return ctx.ScheduleActivity("T", "i").Get()
			},
			check: func(t *testing.T, r run) {
				r.cont(t)
				require.Empty(t, r.e.HistoryDelta(), "a KV event binds no future and adds nothing on replay")
			}},
		{name: "kv_get_value_previous_turn", history: h(started(1), kvSet(2, "progress", "step_1", 100), actSched(3, "T", "i"), actDone(4, 3, "ok")),
			h: func(ctx *Context, _ string) (string, error) {
				ctx.SetKV("progress", "step_1")
				if _, err := ctx.ScheduleActivity("T", "i").Get(); err != nil {
					return "", err
				}
				return kvGet(ctx, "progress"), nil
			}, check: func(t *testing.T, r run) { r.completed(t, "step_1") }},
		{name: "kv_read_modify_write_every_turn_snapshot_poisons_replay", history: h(started(1),
			kvSet(2, "counter", "1", 100), actSched(3, "Noop", ""), actDone(4, 3, "ok"),
			kvSet(5, "counter", "2", 200), actSched(6, "Noop", ""), actDone(7, 6, "ok"),
			kvSet(8, "counter", "3", 300), actSched(9, "Noop", ""), actDone(10, 9, "ok")),
			h: rmwEveryTurn, check: func(t *testing.T, r run) {
				r.cont(t)
				require.Equal(t, []string{"KeyValueSet", "ActivityScheduled"}, r.kinds())
				require.Equal(t, "4", r.e.HistoryDelta()[0].Kind.(duroxide.KeyValueSet).Value)
			}},
		{name: "kv_clear_all_then_set_replay", history: h(started(1), kvClearAll(2), kvSet(3, "x", "new", 100), actSched(4, "Noop", ""), actDone(5, 4, "ok")),
			h: func(ctx *Context, _ string) (string, error) {
				ctx.ClearAllKV()
				ctx.SetKV("x", "new")
				if _, err := ctx.ScheduleActivity("Noop", "").Get(); err != nil {
					return "", err
				}
				return kvGet(ctx, "x") + "|" + kvGet(ctx, "old"), nil
			}, check: func(t *testing.T, r run) { r.completed(t, "new|none") }},
	})
}

// identical_activities_routes_correctly_across_restart_boundary: three
// turns, each replaying the previous turns' deltas.
func TestIdenticalActivitiesAcrossTurns(t *testing.T) {
	hnd := func(ctx *Context, _ string) (string, error) {
		r1, err := ctx.ScheduleActivity("Task", "same").Get()
		if err != nil {
			return "", err
		}
		ctx.ScheduleTimer(time.Minute).Get()
		r2, err := ctx.ScheduleActivity("Task", "same").Get()
		return r1 + "," + r2, err
	}
	hist := h(started(1))
	t1 := runEngine(t, hist, nil, hnd)
	t1.cont(t)
	require.Equal(t, []string{"CallActivity"}, t1.actionTypes())
	hist = append(hist, t1.e.HistoryDelta()...)

	t2 := runEngine(t, hist, m(msgActDone(2, "R1")), hnd)
	t2.cont(t)
	require.Equal(t, []string{"CreateTimer"}, t2.actionTypes())
	hist = append(hist, t2.e.HistoryDelta()...)

	t3 := runEngine(t, hist, m(msgTimer(4, 0)), hnd)
	t3.cont(t)
	require.Equal(t, []Action{CallActivityAction{SchedulingEventID: 6, Name: "Task", Input: "same"}}, t3.e.PendingActions())
	hist = append(hist, t3.e.HistoryDelta()...)

	t4 := runEngine(t, hist, m(msgActDone(6, "R2")), hnd)
	t4.completed(t, "R1,R2")
}

func TestEngineMiscKV(t *testing.T) {
	snap := map[string]duroxide.KvEntry{"session": {Value: "abc", LastUpdatedAtMs: 10}, "counter": {Value: "3", LastUpdatedAtMs: 20}}
	clearSingleRMW := func(ctx *Context, _ string) (string, error) {
		ctx.ClearKV("session")
		n, _ := strconv.Atoi(kvGet(ctx, "counter"))
		ctx.SetKV("counter", strconv.Itoa(n+1))
		if _, err := ctx.ScheduleActivity("Noop", "").Get(); err != nil {
			return "", err
		}
		return "session=" + kvGet(ctx, "session") + ",counter=" + kvGet(ctx, "counter"), nil
	}
	cases := []struct {
		name     string
		history  []duroxide.Event
		msgs     []duroxide.WorkItem
		snapshot map[string]duroxide.KvEntry
		h        Handler
		check    func(t *testing.T, r run)
	}{
		{name: "kv_clear_single_snapshot_key_then_rmw", history: h(started(1), kvClear(2, "session"), kvSet(3, "counter", "4", 100), actSched(4, "Noop", ""), actDone(5, 4, "ok")),
			snapshot: snap, h: clearSingleRMW, check: func(t *testing.T, r run) { r.completed(t, "session=none,counter=4") }},
		{name: "kv_get_value_same_turn", history: h(started(1)), h: func(ctx *Context, _ string) (string, error) {
			ctx.SetKV("mykey", "myval")
			return kvGet(ctx, "mykey"), nil
		}, check: func(t *testing.T, r run) { r.completed(t, "myval") }},
		{name: "kv_get_value_previous_execution", history: h(started(1)), snapshot: map[string]duroxide.KvEntry{"carried": {Value: "from-exec-1", LastUpdatedAtMs: 1}},
			h:     func(ctx *Context, _ string) (string, error) { return kvGet(ctx, "carried"), nil },
			check: func(t *testing.T, r run) { r.completed(t, "from-exec-1") }},
		{name: "duplicate_external_event_in_history_is_kept", history: h(started(1), extSub(2, "Evt"), extEvent(3, "Evt", "same-data")),
			msgs: m(msgRaise("Evt", "same-data")), h: waitExternal("Evt"), check: func(t *testing.T, r run) {
				r.completed(t, "same-data")
				require.Len(t, r.e.HistoryDelta(), 1)
			}},
		{name: "action_to_event_kv_variants", history: h(started(1)), h: func(ctx *Context, _ string) (string, error) {
			ctx.SetKV("a", "1")
			ctx.ClearKV("a")
			ctx.ClearAllKV()
			return "", nil
		}, check: func(t *testing.T, r run) {
			require.Equal(t, []Action{SetKeyValueAction{Key: "a", Value: "1", LastUpdatedAtMs: uint64(testNow.UnixMilli())},
				ClearKeyValueAction{Key: "a"}, ClearKeyValuesAction{}}, r.e.PendingActions())
			require.Equal(t, []string{"KeyValueSet", "KeyValueCleared", "KeyValuesCleared"}, r.kinds())
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.check(t, runEngineOpts(t, tc.history, tc.msgs, tc.h, EngineOptions{PersistedLen: -1, KVSnapshot: tc.snapshot}))
		})
	}
}
