package duroxidetest_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/duroxide-go/duroxide/duroxidetest"
	"github.com/duroxide-go/duroxide/host"
	"github.com/duroxide-go/duroxide/orchestration"
)

// The examples need a testing.TB; a real test passes its *testing.T.
var t testing.TB = &testing.T{} // never fails here: the examples check their output instead

// Hello world: an orchestration calling one activity, run to completion.
func Example_helloWorld() {
	env := duroxidetest.New(t)
	env.RegisterActivity("Greet", host.TypedActivity(func(ctx *host.ActivityContext, name string) (string, error) {
		return "Hello, " + name + "!", nil
	}))
	env.RegisterOrchestration("Hello", orchestration.Typed(func(ctx *orchestration.Context, name string) (string, error) {
		return orchestration.CallActivity[string](ctx, "Greet", name).Get()
	}))
	out, err := duroxidetest.RunAs[string](env, "Hello", "World")
	fmt.Println(out, err)
	// Output: Hello, World! <nil>
}

// Fan-out/fan-in: schedule every activity, then wait for all of them.
func Example_fanOutFanIn() {
	env := duroxidetest.New(t)
	env.RegisterActivity("Length", host.TypedActivity(func(ctx *host.ActivityContext, s string) (int, error) {
		return len(s), nil
	}))
	env.RegisterOrchestration("Total", orchestration.Typed(func(ctx *orchestration.Context, words []string) (int, error) {
		futs := make([]*orchestration.Future[int], len(words))
		for i, w := range words {
			futs[i] = orchestration.CallActivity[int](ctx, "Length", w)
		}
		lengths, err := orchestration.AllOf(futs)
		total := 0
		for _, n := range lengths {
			total += n
		}
		return total, err
	}))
	total, err := duroxidetest.RunAs[int](env, "Total", strings.Fields("durable execution in go"))
	fmt.Println(total, err, len(env.ActivityCalls("Length")))
	// Output: 20 <nil> 4
}

// approve waits up to thirty days for a human's decision.
func approve(ctx *orchestration.Context, request string) (string, error) {
	if _, err := orchestration.CallActivity[struct{}](ctx, "NotifyApprover", request).Get(); err != nil {
		return "", err
	}
	decision := orchestration.WaitEventAs[string](ctx, "Decision")
	timeout := ctx.ScheduleTimer(30 * 24 * time.Hour)
	if orchestration.Select(decision, timeout) == 1 {
		return "expired", nil
	}
	return decision.Get()
}

// A human approval with a timeout: the approver answers after three days;
// with no answer the request expires after thirty. Both run in
// microseconds: the environment skips the waiting.
func Example_approvalWithTimeout() {
	for _, answer := range []bool{true, false} {
		env := duroxidetest.New(t)
		env.RegisterOrchestration("Approve", orchestration.Typed(approve))
		env.OnActivity("NotifyApprover").Return(struct{}{})
		id := env.Start("Approve", "new laptop")
		if answer {
			env.RaiseEventAfter(3*24*time.Hour, id, "Decision", "approved")
		}
		st, err := env.RunInstance(id)
		fmt.Println(st.Output, err, env.Now().Sub(duroxidetest.DefaultStart))
	}
	// Output:
	// "approved" <nil> 72h0m0s
	// "expired" <nil> 720h0m0s
}

// A unit test with mocks: the payment activity fails twice, the retry
// policy waits an hour between attempts, and the test checks the calls.
func Example_unitTestWithMocks() {
	env := duroxidetest.New(t)
	env.RegisterOrchestration("Checkout", orchestration.Typed(func(ctx *orchestration.Context, order string) (string, error) {
		input, _ := orchestration.Marshal(order)
		receipt, err := ctx.CallActivityWithRetry("Charge", input, orchestration.RetryPolicy{
			MaxAttempts: 5, Backoff: orchestration.Backoff{Kind: "fixed", Base: time.Hour}})
		if err != nil {
			return "", err
		}
		var r string
		err = orchestration.Unmarshal(receipt, &r)
		return r, err
	}))
	env.OnActivity("Charge").ReturnError(fmt.Errorf("gateway timeout")).Times(2)
	env.OnActivity("Charge").Return("receipt-42")

	out, err := duroxidetest.RunAs[string](env, "Checkout", "order-7")
	fmt.Println(out, err)
	for _, c := range env.ActivityCalls("Charge") {
		fmt.Println(c.Input, c.At.Sub(duroxidetest.DefaultStart))
	}
	// Output:
	// receipt-42 <nil>
	// "order-7" 0s
	// "order-7" 1h0m0s
	// "order-7" 2h0m0s
}
