package orchestration_test

import (
	"fmt"
	"strings"
	"time"

	"github.com/duroxide-go/duroxide"
	"github.com/duroxide-go/duroxide/orchestration"
)

// drive runs an orchestration to its end the way a runtime would, turn by
// turn through orchestration.RunTurn, executing activities inline and
// feeding their results back as the next turn's messages. It stands in for
// the dispatchers of the runtime package.
func drive(name string, h orchestration.Handler, input string, activities map[string]func(string) string) (duroxide.ExecutionMetadata, int) {
	clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var history []duroxide.Event
	msgs := []duroxide.WorkItem{duroxide.StartOrchestrationItem{Instance: "inst-1", Orchestration: name, Input: input, ExecutionID: 1}}
	for turns := 1; ; turns++ {
		item := duroxide.OrchestrationItem{Instance: "inst-1", ExecutionID: 1, History: history, Messages: msgs}
		out := orchestration.RunTurn(orchestration.TurnInput{
			Item: item, Batch: orchestration.ReadBatch(item.Instance, history, msgs), Handler: h, Version: "1.0.0",
			Options: orchestration.EngineOptions{Now: func() time.Time { return clock }},
		})
		history = append(history, out.Ack.HistoryDelta...)
		if out.Ack.Metadata.Status.IsTerminal() {
			return out.Ack.Metadata, turns
		}
		msgs = nil
		for _, w := range out.Ack.WorkerItems {
			a := w.(duroxide.ActivityExecuteItem)
			msgs = append(msgs, duroxide.ActivityCompletedItem{Instance: a.Instance, ExecutionID: a.ExecutionID, ID: a.ID,
				Result: activities[a.Name](a.Input)})
		}
	}
}

// A hello-world orchestration: one typed activity.
func Example_helloWorld() {
	hello := orchestration.Typed(func(ctx *orchestration.Context, name string) (string, error) {
		ctx.Logger().Info("greeting", "name", name) // logged once, not on replay
		return orchestration.CallActivity[string](ctx, "Greet", name).Get()
	})
	meta, turns := drive("Hello", hello, `"World"`, map[string]func(string) string{
		"Greet": func(in string) string { return `"Hello, ` + strings.Trim(in, `"`) + `!"` },
	})
	fmt.Println(meta.Status, *meta.Output, turns)
	// Output: Completed "Hello, World!" 2
}

// Fan-out/fan-in: schedule every activity first, then wait for all.
func Example_fanOutFanIn() {
	fanOut := orchestration.Typed(func(ctx *orchestration.Context, items []string) (int, error) {
		futs := make([]*orchestration.Future[int], len(items))
		for i, it := range items {
			futs[i] = orchestration.CallActivity[int](ctx, "Length", it)
		}
		lengths, err := orchestration.AllOf(futs)
		if err != nil {
			return 0, err
		}
		total := 0
		for _, n := range lengths {
			total += n
		}
		return total, nil
	})
	meta, turns := drive("FanOut", fanOut, `["a","bb","ccc"]`, map[string]func(string) string{
		"Length": func(in string) string { return fmt.Sprint(len(in) - 2) },
	})
	fmt.Println(meta.Status, *meta.Output, turns)
	// Output: Completed 6 2
}

// One turn with the engine itself: the history so far and this turn's
// messages in; the delta, the new actions and the outcome out.
func ExampleEngine() {
	started := duroxide.Event{EventID: 1, InstanceID: "i", ExecutionID: 1,
		Kind: duroxide.OrchestrationStarted{Name: "Approve", Version: "1.0.0"}}
	subscribed := duroxide.Event{EventID: 2, InstanceID: "i", ExecutionID: 1, Kind: duroxide.ExternalSubscribed{Name: "Approval"}}
	timer := duroxide.Event{EventID: 3, InstanceID: "i", ExecutionID: 1, Kind: duroxide.TimerCreated{FireAtMs: 1}}

	e := orchestration.NewEngine("i", 1, []duroxide.Event{started, subscribed, timer}, orchestration.EngineOptions{PersistedLen: -1})
	e.PrepCompletions([]duroxide.WorkItem{duroxide.ExternalRaisedItem{Instance: "i", Name: "Approval", Data: "yes"}})
	r := e.Execute(func(ctx *orchestration.Context, _ string) (string, error) {
		approval := ctx.WaitEvent("Approval")
		if orchestration.Select(approval, ctx.ScheduleTimer(24*time.Hour)) == 1 {
			return "", fmt.Errorf("approval timed out")
		}
		return approval.Get()
	}, "", "Approve", "1.0.0")
	fmt.Println(r.Kind, r.Output)
	for _, ev := range e.HistoryDelta() {
		fmt.Println(ev.EventID, ev.Kind.EventType())
	}
	// Output:
	// Completed yes
	// 4 ExternalEvent
}
