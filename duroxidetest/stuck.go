package duroxidetest

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/duroxide-go/duroxide"
	"github.com/duroxide-go/duroxide/orchestration"
)

// StuckError reports a run that can never finish: no work is visible,
// nothing is scheduled to become visible, and the run's condition does not
// hold. Waiting names what the instance's code waits for.
type StuckError struct {
	// Instance is the instance the run was for ("" for RunUntil without
	// one).
	Instance string
	// At is the fake time the run stopped at.
	At time.Time
	// State is the instance's state then.
	State string
	// Waiting lists the instance's open waits, e.g. `external event "Approve"`.
	Waiting []string
}

func (e *StuckError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "duroxidetest: stuck at %s: nothing to run and nothing scheduled", e.At.Format(time.RFC3339))
	if e.Instance != "" {
		fmt.Fprintf(&b, "; instance %s is %s", e.Instance, e.State)
	}
	if len(e.Waiting) > 0 {
		fmt.Fprintf(&b, ", waiting for %s", strings.Join(e.Waiting, ", "))
	}
	return b.String()
}

func (e *Env) stuck(instance string) error {
	err := &StuckError{Instance: instance, At: e.clock.Now()}
	if instance == "" {
		return err
	}
	st, sErr := e.client.GetStatus(context.Background(), instance)
	if sErr == nil {
		err.State = string(st.State)
	}
	h, hErr := e.client.ReadHistory(context.Background(), instance)
	if hErr == nil {
		err.Waiting = openWaits(h)
	}
	return err
}

// openWaits lists what a history's code still waits for.
func openWaits(h []duroxide.Event) []string {
	type open struct {
		what string
		id   uint64
	}
	var waits []open
	closed := map[uint64]bool{}
	events := map[string]int{}  // external events received, by name
	queued := map[string]int{}  // queue messages delivered, by name
	subs := map[uint64]string{} // external subscriptions by id
	qsubs := map[uint64]string{}
	for i := range h {
		ev := &h[i]
		src := uint64(0)
		if ev.SourceEventID != nil {
			src = *ev.SourceEventID
		}
		switch k := ev.Kind.(type) {
		case duroxide.ActivityScheduled:
			if strings.HasPrefix(k.Name, orchestration.SyscallPrefix) {
				continue
			}
			w := fmt.Sprintf("activity %q", k.Name)
			if k.Tag != nil {
				w += fmt.Sprintf(" (tag %q: does a worker take it? see WithRuntimeOptions)", *k.Tag)
			}
			waits = append(waits, open{w, ev.EventID})
		case duroxide.TimerCreated:
			waits = append(waits, open{fmt.Sprintf("timer at %s", time.UnixMilli(int64(k.FireAtMs)).UTC().Format(time.RFC3339)), ev.EventID})
		case duroxide.SubOrchestrationScheduled:
			waits = append(waits, open{fmt.Sprintf("sub-orchestration %q (%s)", k.Name, k.Instance), ev.EventID})
		case duroxide.ExternalSubscribed:
			subs[ev.EventID] = k.Name
			waits = append(waits, open{fmt.Sprintf("external event %q", k.Name), ev.EventID})
		case duroxide.QueueSubscribed:
			qsubs[ev.EventID] = k.Name
			waits = append(waits, open{fmt.Sprintf("queue %q", k.Name), ev.EventID})
		case duroxide.ExternalEvent:
			events[k.Name]++
		case duroxide.QueueEventDelivered:
			queued[k.Name]++
		case duroxide.ActivityCompleted, duroxide.ActivityFailed, duroxide.ActivityCancelRequested,
			duroxide.TimerFired, duroxide.SubOrchestrationCompleted, duroxide.SubOrchestrationFailed,
			duroxide.SubOrchestrationCancelRequested, duroxide.ExternalSubscribedCancelled, duroxide.QueueSubscriptionCancelled:
			closed[src] = true
		}
	}
	var out []string
	for _, w := range waits {
		if closed[w.id] {
			continue
		}
		if name, ok := subs[w.id]; ok && events[name] > 0 {
			events[name]--
			continue
		}
		if name, ok := qsubs[w.id]; ok && queued[name] > 0 {
			queued[name]--
			continue
		}
		out = append(out, w.what)
	}
	return out
}
