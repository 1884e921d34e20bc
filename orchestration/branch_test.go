package orchestration

import (
	"testing"
	"time"

	"github.com/duroxide-go/duroxide"
	"github.com/stretchr/testify/require"
)

// raceParent is duroxide's async_block_suborchestration_racing_timeout
// parent: three branches (two children, one timer) raced by Select.
func raceParent(ctx *Context, _ string) (string, error) {
	child := func(name, input, label string) *Future[string] {
		return Go(ctx, func(ctx *Context) (string, error) {
			r, err := ctx.SubOrchestration(name, input).Get()
			return label + ":" + r, err
		})
	}
	a := child("FastChild", "fast-input", "blockA")
	b := child("SlowChild", "slow-input", "blockB")
	c := Go(ctx, func(ctx *Context) (string, error) {
		if _, err := ctx.ScheduleTimer(2 * time.Second).Get(); err != nil {
			return "", err
		}
		return "blockC:timeout", nil
	})
	futs := []*Future[string]{a, b, c}
	i := Select(a, b, c)
	r, err := futs[i].Get()
	return "winner:" + itoa(uint64(i)) + ",result:" + r, err
}

// twoStep runs two activities in sequence inside a branch.
func twoStep(ctx *Context, prefix string) *Future[string] {
	return Go(ctx, func(ctx *Context) (string, error) {
		r1, err := ctx.ScheduleActivity(prefix+"1", "").Get()
		if err != nil {
			return "", err
		}
		r2, err := ctx.ScheduleActivity(prefix+"2", "").Get()
		return r1 + r2, err
	})
}

func TestBranches(t *testing.T) {
	raceHist := h(started(1), subSched(2, "FastChild", "sub::2", "fast-input"), subSched(3, "SlowChild", "sub::3", "slow-input"), timerCreated(4, 1))
	joinTwo := func(ctx *Context, _ string) (string, error) {
		out, err := AllOf([]*Future[string]{twoStep(ctx, "A"), twoStep(ctx, "B")})
		if err != nil {
			return "", err
		}
		return out[0] + "|" + out[1], nil
	}
	runCases(t, []engineCase{
		{name: "branches_schedule_when_first_waited_on", history: h(started(1)), h: raceParent, check: func(t *testing.T, r run) {
			r.cont(t)
			require.Equal(t, []string{"SubOrchestrationScheduled", "SubOrchestrationScheduled", "TimerCreated"}, r.kinds())
			require.Equal(t, "sub::2", r.e.PendingActions()[0].(StartSubOrchestrationAction).Instance)
		}},
		{name: "async_block_suborchestration_racing_timeout", history: raceHist, msgs: m(msgSubDone(2, "fast-child:work:fast-input")),
			h: raceParent, check: func(t *testing.T, r run) {
				r.completed(t, "winner:0,result:blockA:fast-child:work:fast-input")
				require.Equal(t, []string{"SubOrchestrationCompleted", "SubOrchestrationCancelRequested"}, r.kinds())
				require.Equal(t, []string{"SubOrchestrationCancelRequested:3:dropped_future"}, r.cancelEvents())
				require.Equal(t, []string{"sub::3"}, r.e.CancelledSubOrchestrations())
			}},
		{name: "timeout_branch_wins", history: raceHist, msgs: m(msgTimer(4, 1)), h: raceParent, check: func(t *testing.T, r run) {
			r.completed(t, "winner:2,result:blockC:timeout")
			require.Equal(t, []string{"SubOrchestrationCancelRequested:2:dropped_future", "SubOrchestrationCancelRequested:3:dropped_future"}, r.cancelEvents())
		}},
		{name: "branches_interleave_like_join", history: h(started(1)), h: joinTwo, check: func(t *testing.T, r run) {
			r.cont(t)
			require.Equal(t, []Action{CallActivityAction{SchedulingEventID: 2, Name: "A1"}, CallActivityAction{SchedulingEventID: 3, Name: "B1"}}, r.e.PendingActions())
		}},
		{name: "branch_advances_on_its_completion", history: h(started(1), actSched(2, "A1", ""), actSched(3, "B1", "")), msgs: m(msgActDone(2, "a")),
			h: joinTwo, check: func(t *testing.T, r run) {
				r.cont(t)
				require.Equal(t, []Action{CallActivityAction{SchedulingEventID: 5, Name: "A2"}}, r.e.PendingActions())
			}},
		{name: "branches_replay_to_completion", history: h(started(1), actSched(2, "A1", ""), actSched(3, "B1", ""), actDone(4, 2, "a"), actSched(5, "A2", ""),
			actDone(6, 3, "b"), actSched(7, "B2", ""), actDone(8, 5, "A"), actDone(9, 7, "B")),
			h: joinTwo, check: func(t *testing.T, r run) {
				r.completed(t, "aA|bB")
				require.Empty(t, r.e.HistoryDelta())
			}},
		{name: "branch_panic_fails_orchestration", history: h(started(1)), h: func(ctx *Context, _ string) (string, error) {
			return Go(ctx, func(*Context) (string, error) { panic("in branch") }).Get()
		}, check: func(t *testing.T, r run) { r.panicked(t, "in branch") }},
		{name: "branch_error_is_its_result", history: h(started(1), actSched(2, "A1", ""), actFail(3, 2, "nope")),
			h:     func(ctx *Context, _ string) (string, error) { return twoStep(ctx, "A").Get() },
			check: func(t *testing.T, r run) { require.Equal(t, "nope", r.failed(t).DisplayMessage()) }},
		{name: "select_loser_branch_cancels_its_work", history: h(started(1), actSched(2, "X", ""), timerCreated(3, 1), actSched(4, "A1", ""), timerFired(5, 3, 1)),
			h: func(ctx *Context, _ string) (string, error) {
				b := twoStep(ctx, "A")
				x := ctx.ScheduleActivity("X", "")
				if Select(b, ctx.ScheduleTimer(0)) != 1 {
					return "", nil
				}
				return x.Get()
			}, check: func(t *testing.T, r run) {
				r.cont(t)
				require.Equal(t, []string{"ActivityCancelRequested:4:dropped_future"}, r.cancelEvents())
				require.Equal(t, []uint64{4}, r.e.CancelledActivityIDs())
			}},
		{name: "branch_in_select_advances", history: h(started(1), actSched(2, "X", ""), actSched(3, "A1", "")), msgs: m(msgActDone(3, "a")),
			h: func(ctx *Context, _ string) (string, error) {
				b := twoStep(ctx, "A")
				x := ctx.ScheduleActivity("X", "")
				Select(b, x) // b advances to A2 and blocks; x is pending
				return "", nil
			}, check: func(t *testing.T, r run) {
				r.cont(t)
				require.Equal(t, []Action{CallActivityAction{SchedulingEventID: 5, Name: "A2"}}, r.e.PendingActions())
			}},
		{name: "unwaited_branch_never_runs", history: h(started(1)), h: func(ctx *Context, _ string) (string, error) {
			twoStep(ctx, "A")
			return "done", nil
		}, check: func(t *testing.T, r run) {
			r.completed(t, "done")
			require.Empty(t, r.e.HistoryDelta())
		}},
	})
}

// Branch turns leave no goroutine behind, whatever state they end in.
func TestBranchTeardown(t *testing.T) {
	r := runEngine(t, h(started(1)), nil, func(ctx *Context, _ string) (string, error) {
		var blocked []*Future[string]
		for i := range 5 {
			blocked = append(blocked, twoStep(ctx, "P"+itoa(uint64(i))))
		}
		_, err := AllOf(blocked)
		return "", err
	})
	r.cont(t)
	require.Len(t, r.e.PendingActions(), 5)
	require.IsType(t, duroxide.ActivityScheduled{}, r.e.HistoryDelta()[0].Kind)
}
