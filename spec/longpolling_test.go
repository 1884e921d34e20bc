package spec_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/duroxide-go/duroxide"
	"github.com/duroxide-go/duroxide/fakeclock"
	"github.com/duroxide-go/duroxide/spec"
)

// waitingProvider is a long-polling provider with no work: a fetch waits
// for its whole poll timeout on clock (the wall clock when nil) or until its
// context ends.
type waitingProvider struct {
	stubProvider
	clock fakeclock.Clock
}

func (p waitingProvider) wait(ctx context.Context, poll time.Duration) error {
	if poll <= 0 {
		return nil
	}
	var c <-chan time.Time
	if p.clock != nil {
		timer := p.clock.NewTimer(poll)
		defer timer.Stop()
		c = timer.C()
	} else {
		timer := time.NewTimer(poll)
		defer timer.Stop()
		c = timer.C
	}
	select {
	case <-c:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (p waitingProvider) FetchOrchestrationItem(ctx context.Context, _, poll time.Duration, _ *duroxide.DispatcherCapabilityFilter) (*duroxide.LockedOrchestrationItem, error) {
	return nil, p.wait(ctx, poll)
}

func (p waitingProvider) FetchWorkItem(ctx context.Context, _, poll time.Duration, _ *duroxide.SessionFetchConfig, _ duroxide.TagFilter) (*duroxide.LockedWorkItem, error) {
	return nil, p.wait(ctx, poll)
}

// caseNamed returns the registered case group/name.
func caseNamed(t *testing.T, name string) spec.Case {
	t.Helper()
	for _, c := range spec.Cases() {
		if c.FullName() == name {
			return c
		}
	}
	t.Fatalf("no case %s", name)
	return spec.Case{}
}

// A long-polling provider whose harness leaves LongPolling false used to
// hang the short-poll cases on a fake clock (nothing advances it) until go
// test's timeout. They now fail at once, saying what to set.
func TestShortPollCasesDetectALongPollingProvider(t *testing.T) {
	tests := []struct {
		name     string
		fake     bool
		contains string
	}{
		{"long_polling/short_poll_returns_immediately", true, "armed a timer on the fake clock"},
		{"long_polling/short_poll_work_item_returns_immediately", true, "armed a timer on the fake clock"},
		{"long_polling/fetch_respects_timeout_upper_bound", true, "armed a timer on the fake clock"},
		{"long_polling/short_poll_returns_immediately", false, "short-poll threshold"},
		{"long_polling/short_poll_work_item_returns_immediately", false, "short-poll threshold"},
	}
	for _, tc := range tests {
		mode := "real time"
		if tc.fake {
			mode = "fake clock"
		}
		t.Run(tc.name+"/"+mode, func(t *testing.T) {
			newHarness := func(spec.T) *spec.Harness {
				if tc.fake {
					clock := fakeclock.NewFake(time.Unix(0, 0))
					return &spec.Harness{Provider: waitingProvider{clock: clock}, Clock: clock}
				}
				return &spec.Harness{Provider: waitingProvider{}}
			}
			start := time.Now()
			res := spec.RunCase(caseNamed(t, tc.name), newHarness, 30*time.Second)
			msgs := strings.Join(res.Messages, "\n")
			require.Equal(t, spec.Failed, res.Outcome, "messages: %s", msgs)
			require.Contains(t, msgs, tc.contains)
			require.Contains(t, msgs, "set Harness.LongPolling = true")
			require.Less(t, time.Since(start), 5*time.Second, "the case must fail without waiting for the watchdog")
		})
	}
}

// With LongPolling set, the same provider passes the short-poll cases (a
// zero poll timeout) on a fake clock: the check above is about the mismatch.
func TestShortPollCasesPassWithLongPollingSet(t *testing.T) {
	for _, name := range []string{"long_polling/short_poll_returns_immediately", "long_polling/short_poll_work_item_returns_immediately"} {
		res := spec.RunCase(caseNamed(t, name), func(spec.T) *spec.Harness {
			clock := fakeclock.NewFake(time.Unix(0, 0))
			return &spec.Harness{Provider: waitingProvider{clock: clock}, Clock: clock, LongPolling: true}
		}, 30*time.Second)
		require.Equal(t, spec.Passed, res.Outcome, "%s: %q", name, res.Messages)
	}
}

// The converse mismatch: a short-polling provider whose harness says it
// long-polls fails the long-poll cases, saying to set LongPolling false. It
// takes the cases' 10 s watchdog, which must end before the case deadline.
func TestLongPollCasesDetectAShortPollingProvider(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for the long-poll watchdog (10 s)")
	}
	res := spec.RunCase(caseNamed(t, "long_polling/long_poll_waits_for_timeout"), func(spec.T) *spec.Harness {
		clock := fakeclock.NewFake(time.Unix(0, 0))
		// Never arms a timer: poll 0 answers at once.
		return &spec.Harness{Provider: shortPoller{}, Clock: clock, LongPolling: true}
	}, 0)
	msgs := strings.Join(res.Messages, "\n")
	require.Equal(t, spec.Failed, res.Outcome, "messages: %s", msgs)
	require.Contains(t, msgs, "set Harness.LongPolling = false")
	require.NotContains(t, msgs, "did not finish", "the case's own message must come before the case deadline")
}

// shortPoller answers every fetch at once with no work.
type shortPoller struct{ stubProvider }

func (shortPoller) FetchOrchestrationItem(context.Context, time.Duration, time.Duration, *duroxide.DispatcherCapabilityFilter) (*duroxide.LockedOrchestrationItem, error) {
	return nil, nil
}
