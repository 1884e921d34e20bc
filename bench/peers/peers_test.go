// Package peers measures duroxidetest against a peer's test environment,
// cschleiden/go-workflows' tester, on the same two workflows, in one run.
// It is its own module so the main module does not depend on the peer.
package peers

import (
	"context"
	"testing"
	"time"

	"github.com/cschleiden/go-workflows/tester"
	"github.com/cschleiden/go-workflows/workflow"

	"github.com/duroxide-go/duroxide/duroxidetest"
	"github.com/duroxide-go/duroxide/host"
	"github.com/duroxide-go/duroxide/orchestration"
)

// The duroxide side: one activity, and a 30-day timer before it.

func dxHello(ctx *orchestration.Context, name string) (string, error) {
	return orchestration.CallActivity[string](ctx, "Greet", name).Get()
}

func dxSleepThenHello(ctx *orchestration.Context, name string) (string, error) {
	if _, err := ctx.ScheduleTimer(30 * 24 * time.Hour).Get(); err != nil {
		return "", err
	}
	return orchestration.CallActivity[string](ctx, "Greet", name).Get()
}

func dxGreet(_ *host.ActivityContext, name string) (string, error) {
	return "Hello, " + name + "!", nil
}

func runDuroxide(b *testing.B, wf func(*orchestration.Context, string) (string, error)) {
	h, a := orchestration.Typed(wf), host.TypedActivity(dxGreet)
	b.ReportAllocs()
	for b.Loop() {
		env := duroxidetest.New(b)
		env.RegisterOrchestration("W", h)
		env.RegisterActivity("Greet", a)
		out, err := duroxidetest.RunAs[string](env, "W", "World")
		if err != nil || out != "Hello, World!" {
			b.Fatal(out, err)
		}
	}
}

// The go-workflows side: the same workflows in its tester.

func gwGreet(_ context.Context, name string) (string, error) { return "Hello, " + name + "!", nil }

func gwHello(ctx workflow.Context, name string) (string, error) {
	return workflow.ExecuteActivity[string](ctx, workflow.DefaultActivityOptions, gwGreet, name).Get(ctx)
}

func gwSleepThenHello(ctx workflow.Context, name string) (string, error) {
	if _, err := workflow.ScheduleTimer(ctx, 30*24*time.Hour).Get(ctx); err != nil {
		return "", err
	}
	return workflow.ExecuteActivity[string](ctx, workflow.DefaultActivityOptions, gwGreet, name).Get(ctx)
}

func runGoWorkflows(b *testing.B, wf workflow.Workflow) {
	b.ReportAllocs()
	for b.Loop() {
		wt := tester.NewWorkflowTester[string](wf)
		if err := wt.Registry().RegisterActivity(gwGreet); err != nil {
			b.Fatal(err)
		}
		wt.Execute(context.Background(), "World")
		out, err := wt.WorkflowResult()
		if !wt.WorkflowFinished() || err != nil || out != "Hello, World!" {
			b.Fatal(out, err)
		}
	}
}

func BenchmarkOneActivity(b *testing.B) {
	b.Run("duroxidetest", func(b *testing.B) { runDuroxide(b, dxHello) })
	b.Run("go-workflows", func(b *testing.B) { runGoWorkflows(b, gwHello) })
}

func BenchmarkTimer30DaysThenActivity(b *testing.B) {
	b.Run("duroxidetest", func(b *testing.B) { runDuroxide(b, dxSleepThenHello) })
	b.Run("go-workflows", func(b *testing.B) { runGoWorkflows(b, gwSleepThenHello) })
}
