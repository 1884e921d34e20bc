package host_test

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/duroxide-go/duroxide/client"
	"github.com/duroxide-go/duroxide/host"
	"github.com/duroxide-go/duroxide/memprovider"
	"github.com/duroxide-go/duroxide/orchestration"
)

// A hello-world orchestration served by a runtime: register the code,
// run the dispatchers, start an instance with the client and wait for it.
// Swap memprovider for pgprovider to make it durable across processes.
func Example() {
	reg := host.NewRegistry()
	_ = reg.RegisterActivity("Greet", host.TypedActivity(func(ctx *host.ActivityContext, name string) (string, error) {
		return "Hello, " + name + "!", nil
	}))
	_ = reg.RegisterOrchestration("Hello", orchestration.Typed(func(ctx *orchestration.Context, name string) (string, error) {
		return orchestration.CallActivity[string](ctx, "Greet", name).Get()
	}))

	store := memprovider.New()
	rt, err := host.New(store, reg, host.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		panic(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- rt.Run(ctx) }()
	defer func() { stop(); <-done }()

	c, _ := client.New(store)
	if err := c.StartTyped(ctx, "hello-1", "Hello", "World"); err != nil {
		panic(err)
	}
	out, err := client.Output[string](c.WaitForOrchestration(ctx, "hello-1", 10*time.Second))
	fmt.Println(out, err)
	// Output: Hello, World! <nil>
}
