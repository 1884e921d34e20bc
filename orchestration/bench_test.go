package orchestration

import (
	"log/slog"
	"strconv"
	"testing"

	"github.com/duroxide-go/duroxide"
)

// sequential schedules n activities one after the other.
func sequential(n int) Handler {
	inputs := make([]string, n)
	for i := range inputs {
		inputs[i] = strconv.Itoa(i)
	}
	return func(ctx *Context, _ string) (string, error) {
		var last string
		for i := range n {
			r, err := ctx.ScheduleActivity("Step", inputs[i]).Get()
			if err != nil {
				return "", err
			}
			last = r
		}
		return last, nil
	}
}

// benchTurn measures one turn: replay `done` completed activities, apply the
// completion of the next one, and schedule the one after (or complete).
func benchTurn(b *testing.B, done int) {
	hist := h(started(1))
	for i := range done {
		id := uint64(2 + 2*i)
		hist = append(hist, actSched(id, "Step", strconv.Itoa(i)), actDone(id+1, id, "r"))
	}
	next := uint64(2 + 2*done)
	hist = append(hist, actSched(next, "Step", strconv.Itoa(done)))
	msgs := m(msgActDone(next, "r"))
	hnd := sequential(done + 2)
	opts := EngineOptions{PersistedLen: -1, Now: fixedNow, Logger: slog.New(slog.DiscardHandler)}
	b.ReportAllocs()
	for b.Loop() {
		e := NewEngine(testInstance, testExec, hist, opts)
		e.PrepCompletions(msgs)
		if r := e.Execute(hnd, "", testOrch, testVersion); r.Kind != TurnContinue {
			b.Fatalf("turn: %+v", r)
		}
	}
}

// BenchmarkTurn_Fresh is the first turn of a one-activity orchestration.
func BenchmarkTurn_Fresh(b *testing.B) {
	hist := h(started(1))
	hnd := singleActivity("Greet", "x")
	opts := EngineOptions{PersistedLen: -1, Now: fixedNow}
	b.ReportAllocs()
	for b.Loop() {
		e := NewEngine(testInstance, testExec, hist, opts)
		if r := e.Execute(hnd, "", testOrch, testVersion); r.Kind != TurnContinue {
			b.Fatalf("turn: %+v", r)
		}
	}
}

// BenchmarkTurn_Replay1 replays 1 completed activity and advances one step.
func BenchmarkTurn_Replay1(b *testing.B) { benchTurn(b, 1) }

// BenchmarkTurn_Replay10 replays 10 completed activities and advances one.
func BenchmarkTurn_Replay10(b *testing.B) { benchTurn(b, 10) }

// BenchmarkTurn_Replay100 replays 100 completed activities and advances one.
func BenchmarkTurn_Replay100(b *testing.B) { benchTurn(b, 100) }

// BenchmarkRunTurn_Start is a whole first turn from a start item to its ack.
func BenchmarkRunTurn_Start(b *testing.B) {
	msgs := m(duroxide.StartOrchestrationItem{Instance: testInstance, Orchestration: testOrch, Input: "x", ExecutionID: 1})
	in := TurnInput{Item: duroxide.OrchestrationItem{Instance: testInstance, Messages: msgs}, Batch: ReadBatch(testInstance, nil, msgs),
		Handler: singleActivity("Greet", "x"), Version: testVersion, Options: EngineOptions{Now: fixedNow}}
	b.ReportAllocs()
	for b.Loop() {
		if out := RunTurn(in); len(out.Ack.WorkerItems) != 1 {
			b.Fatal("no activity")
		}
	}
}
