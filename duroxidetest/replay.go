package duroxidetest

import (
	"context"
	"fmt"

	"github.com/duroxide-go/duroxide"
	"github.com/duroxide-go/duroxide/orchestration"
)

// RequireNoNondeterminism replays every execution of instance, as recorded,
// through the orchestration code registered now, and fails the test if the
// code no longer makes the decisions the history holds (a Nondeterminism
// error, as a runtime would report it on the next turn). Register the
// changed code with [Env.RegisterOrchestrationVersion] (same version)
// first, to check that a change is safe for instances in flight.
func (e *Env) RequireNoNondeterminism(instance string) {
	if err := e.CheckDeterminism(instance); err != nil {
		e.t.Helper()
		e.t.Fatal(err)
	}
}

// CheckDeterminism is RequireNoNondeterminism returning the problem as an
// error instead of failing the test.
func (e *Env) CheckDeterminism(instance string) error {
	ctx := context.Background()
	execs, err := e.client.ListExecutions(ctx, instance)
	if err != nil {
		return fmt.Errorf("duroxidetest: executions of %s: %w", instance, err)
	}
	for _, x := range execs {
		h, err := e.client.ReadExecutionHistory(ctx, instance, x)
		if err != nil {
			return fmt.Errorf("duroxidetest: history of %s/%d: %w", instance, x, err)
		}
		// Replay up to the end: the terminal event and what follows it are
		// the outcome the code must reach again, not input to it.
		for i := range h {
			if h[i].IsTerminal() {
				h = h[:i]
				break
			}
		}
		var st duroxide.OrchestrationStarted
		found := false
		for i := range h {
			if s, ok := h[i].Kind.(duroxide.OrchestrationStarted); ok {
				st, found = s, true
				break
			}
		}
		if !found {
			continue
		}
		hd := e.handler(st.Name, st.Version)
		if hd == nil {
			return fmt.Errorf("duroxidetest: %s/%d: no code registered for %s version %s", instance, x, st.Name, st.Version)
		}
		eng := orchestration.NewEngine(instance, x, h, orchestration.EngineOptions{Now: e.clock.Now, Logger: e.discard()})
		res := eng.Execute(hd, st.Input, st.Name, st.Version)
		if res.Kind == orchestration.TurnFailed {
			if c, ok := res.Details.(duroxide.Configuration); ok && c.Kind == duroxide.Nondeterminism {
				return fmt.Errorf("duroxidetest: %s execution %d: nondeterminism: %s", instance, x, c.DisplayMessage())
			}
		}
	}
	return nil
}
