package duroxidetest_test

import (
	"testing"
	"time"

	"github.com/duroxide-go/duroxide/duroxidetest"
	"github.com/duroxide-go/duroxide/host"
	"github.com/duroxide-go/duroxide/orchestration"
)

func hello(ctx *orchestration.Context, name string) (string, error) {
	return orchestration.CallActivity[string](ctx, "Greet", name).Get()
}

func greet(_ *host.ActivityContext, name string) (string, error) { return "Hello, " + name + "!", nil }

func sleepThenGreet(ctx *orchestration.Context, name string) (string, error) {
	if _, err := ctx.ScheduleTimer(30 * 24 * time.Hour).Get(); err != nil {
		return "", err
	}
	return orchestration.CallActivity[string](ctx, "Greet", name).Get()
}

// BenchmarkOneActivity is a whole unit test of a one-activity
// orchestration: a fresh environment, registration, start, run to
// completion, and the decoded output.
func BenchmarkOneActivity(b *testing.B) {
	h, a := orchestration.Typed(hello), host.TypedActivity(greet)
	b.ReportAllocs()
	for b.Loop() {
		env := duroxidetest.New(b)
		env.RegisterOrchestration("Hello", h)
		env.RegisterActivity("Greet", a)
		out, err := duroxidetest.RunAs[string](env, "Hello", "World")
		if err != nil || out != "Hello, World!" {
			b.Fatal(out, err)
		}
	}
}

// BenchmarkTimer30DaysThenActivity is the same with a 30-day durable timer
// before the activity: the environment skips the thirty days.
func BenchmarkTimer30DaysThenActivity(b *testing.B) {
	h, a := orchestration.Typed(sleepThenGreet), host.TypedActivity(greet)
	b.ReportAllocs()
	for b.Loop() {
		env := duroxidetest.New(b)
		env.RegisterOrchestration("Sleepy", h)
		env.RegisterActivity("Greet", a)
		out, err := duroxidetest.RunAs[string](env, "Sleepy", "World")
		if err != nil || out != "Hello, World!" {
			b.Fatal(out, err)
		}
	}
}
