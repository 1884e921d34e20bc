package orchestration

import (
	"log/slog"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/duroxide-go/duroxide"
	"github.com/stretchr/testify/require"
)

// miniRuntime drives RunTurn over several instances in memory, the way the
// dispatchers will: orchestrator messages per instance, activities run
// inline, timers fire at once. It checks that RunTurn's acks compose into
// whole workflows (children, continue-as-new, cancellation).
type miniRuntime struct {
	t          *testing.T
	orchs      map[string]Handler
	activities map[string]func(string) (string, error)
	hist       map[string][]duroxide.Event
	exec       map[string]uint64
	status     map[string]duroxide.ExecutionMetadata
	inbox      map[string][]duroxide.WorkItem
	turns      int
}

func newMini(t *testing.T) *miniRuntime {
	return &miniRuntime{t: t, orchs: map[string]Handler{}, activities: map[string]func(string) (string, error){},
		hist: map[string][]duroxide.Event{}, exec: map[string]uint64{}, status: map[string]duroxide.ExecutionMetadata{},
		inbox: map[string][]duroxide.WorkItem{}}
}

func (r *miniRuntime) send(w duroxide.WorkItem) {
	inst, ok := duroxide.OrchestratorInstance(w)
	require.True(r.t, ok)
	r.inbox[inst] = append(r.inbox[inst], w)
}

func (r *miniRuntime) run() {
	for r.turns = 0; r.turns < 1000; r.turns++ {
		var ready []string
		for inst, msgs := range r.inbox {
			if len(msgs) > 0 {
				ready = append(ready, inst)
			}
		}
		if len(ready) == 0 {
			return
		}
		slices.Sort(ready)
		inst := ready[0]
		msgs := r.inbox[inst]
		r.inbox[inst] = nil
		item := duroxide.OrchestrationItem{Instance: inst, ExecutionID: r.exec[inst], History: r.hist[inst], Messages: msgs}
		b := ReadBatch(inst, item.History, msgs)
		h := r.orchs[b.Name]
		if b.Name != "" {
			require.NotNil(r.t, h, "orchestration %q", b.Name)
		}
		version := testVersion
		out := RunTurn(TurnInput{Item: item, Batch: b, Handler: h, Version: version,
			Options: EngineOptions{Now: fixedNow, Logger: slog.New(slog.DiscardHandler)}})
		ack := out.Ack
		// Everything an ack carries is a valid contract value that survives
		// the wire format.
		require.NotZero(r.t, ack.ExecutionID)
		for _, e := range ack.HistoryDelta {
			require.NoError(r.t, duroxide.ValidateEvent(e))
			raw, err := e.MarshalJSON()
			require.NoError(r.t, err)
			var back duroxide.Event
			require.NoError(r.t, back.UnmarshalJSON(raw))
			require.Equal(r.t, e, back)
		}
		for _, w := range append(slices.Clone(ack.WorkerItems), ack.OrchestratorItems...) {
			require.NoError(r.t, duroxide.ValidateWorkItem(w))
			raw, err := duroxide.MarshalWorkItem(w)
			require.NoError(r.t, err)
			back, err := duroxide.UnmarshalWorkItem(raw)
			require.NoError(r.t, err)
			require.Equal(r.t, w, back)
		}
		if ack.ExecutionID != r.exec[inst] {
			r.hist[inst] = nil
			r.exec[inst] = ack.ExecutionID
		}
		r.hist[inst] = append(r.hist[inst], ack.HistoryDelta...)
		if ack.Metadata.Status != "" {
			r.status[inst] = ack.Metadata
		}
		for _, w := range ack.OrchestratorItems {
			r.send(w)
		}
		for _, w := range ack.WorkerItems {
			a := w.(duroxide.ActivityExecuteItem)
			res, err := r.activities[a.Name](a.Input)
			if err != nil {
				r.send(duroxide.ActivityFailedItem{Instance: a.Instance, ExecutionID: a.ExecutionID, ID: a.ID,
					Details: duroxide.Application{Kind: duroxide.AppActivityFailed{}, Message: err.Error()}})
				continue
			}
			r.send(duroxide.ActivityCompletedItem{Instance: a.Instance, ExecutionID: a.ExecutionID, ID: a.ID, Result: res})
		}
	}
	r.t.Fatal("workflow did not settle")
}

func (r *miniRuntime) start(inst, name, input string) {
	r.send(duroxide.StartOrchestrationItem{Instance: inst, Orchestration: name, Input: input, ExecutionID: 1})
}

func TestRunTurnWorkflows(t *testing.T) {
	t.Run("fan_out_to_children", func(t *testing.T) {
		r := newMini(t)
		r.orchs["Parent"] = func(ctx *Context, _ string) (string, error) {
			var kids []*Future[string]
			for i := range 3 {
				kids = append(kids, ctx.SubOrchestration("Child", strconv.Itoa(i)))
			}
			out, err := AllOf(kids)
			return out[0] + out[1] + out[2], err
		}
		r.orchs["Child"] = func(ctx *Context, in string) (string, error) {
			return ctx.ScheduleActivity("Double", in).Get()
		}
		r.activities["Double"] = func(in string) (string, error) { return in + in, nil }
		r.start("p", "Parent", "")
		r.run()
		require.Equal(t, duroxide.StatusCompleted, r.status["p"].Status)
		require.Equal(t, "001122", *r.status["p"].Output)
		for _, c := range []string{"p::sub::2", "p::sub::3", "p::sub::4"} {
			require.Equal(t, duroxide.StatusCompleted, r.status[c].Status, c)
			st := r.hist[c][0].Kind.(duroxide.OrchestrationStarted)
			require.Equal(t, "p", *st.ParentInstance)
		}
	})
	t.Run("continue_as_new_counter_with_queue", func(t *testing.T) {
		r := newMini(t)
		r.orchs["Counter"] = func(ctx *Context, in string) (string, error) {
			n, _ := strconv.Atoi(in)
			if n < 3 {
				ctx.SetCustomStatus("at " + in)
				return "", ctx.ContinueAsNew(strconv.Itoa(n + 1))
			}
			msg, err := ctx.DequeueEvent("inbox").Get()
			s, _ := ctx.CustomStatus()
			return in + "|" + msg + "|" + s, err
		}
		r.start("c", "Counter", "0")
		r.send(duroxide.QueueMessageItem{Instance: "c", Name: "inbox", Data: "hello"})
		r.run()
		require.Equal(t, uint64(4), r.exec["c"])
		require.Equal(t, "3|hello|at 2", *r.status["c"].Output)
	})
	t.Run("retry_with_timers", func(t *testing.T) {
		r := newMini(t)
		calls := 0
		r.activities["Flaky"] = func(string) (string, error) {
			calls++
			if calls < 3 {
				return "", errorString("transient " + strconv.Itoa(calls))
			}
			return "ok", nil
		}
		r.orchs["Retry"] = func(ctx *Context, _ string) (string, error) {
			return ctx.CallActivityWithRetry("Flaky", "", RetryPolicy{MaxAttempts: 5, Backoff: Backoff{Kind: "fixed", Base: time.Second}})
		}
		r.start("r", "Retry", "")
		r.run()
		require.Equal(t, "ok", *r.status["r"].Output)
		require.Equal(t, 3, calls)
	})
	t.Run("cancel_parent_down_propagates_to_child", func(t *testing.T) {
		r := newMini(t)
		r.orchs["Parent"] = func(ctx *Context, _ string) (string, error) { return ctx.SubOrchestration("Child", "").Get() }
		r.orchs["Child"] = func(ctx *Context, _ string) (string, error) { return ctx.WaitEvent("never").Get() }
		r.start("p", "Parent", "")
		r.run()
		r.send(duroxide.CancelInstanceItem{Instance: "p", Reason: "by test"})
		r.run()
		require.Equal(t, "canceled: by test", *r.status["p"].Output)
		require.Equal(t, "canceled: parent canceled", *r.status["p::sub::2"].Output)
	})
	t.Run("select_loser_child_is_cancelled", func(t *testing.T) {
		r := newMini(t)
		r.orchs["Parent"] = func(ctx *Context, _ string) (string, error) {
			slow := ctx.SubOrchestration("Slow", "")
			if Select(slow, ctx.ScheduleTimer(time.Hour)) == 1 {
				return "timed out", nil
			}
			return slow.Get()
		}
		r.orchs["Slow"] = func(ctx *Context, _ string) (string, error) { return ctx.WaitEvent("never").Get() }
		r.start("p", "Parent", "")
		r.run()
		require.Equal(t, "timed out", *r.status["p"].Output)
		require.Equal(t, "canceled: parent dropped sub-orchestration future", *r.status["p::sub::2"].Output)
	})
}

type errorString string

func (e errorString) Error() string { return string(e) }
