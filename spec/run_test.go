package spec_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/duroxide-go/duroxide"
	"github.com/duroxide-go/duroxide/fakeclock"
	"github.com/duroxide-go/duroxide/spec"
)

// stubProvider satisfies duroxide.Provider for runner tests; only
// AsManagementCapability is called.
type stubProvider struct{ duroxide.Provider }

func (stubProvider) AsManagementCapability() duroxide.ProviderAdmin { return nil }

func stubHarness(spec.T) *spec.Harness { return &spec.Harness{Provider: stubProvider{}} }

func TestRunCaseOutcomes(t *testing.T) {
	tests := []struct {
		name     string
		run      func(t spec.T, h *spec.Harness)
		want     spec.Outcome
		contains string
	}{
		{"pass", func(t spec.T, h *spec.Harness) { t.Logf("hello") }, spec.Passed, "hello"},
		{"errorf continues", func(t spec.T, h *spec.Harness) {
			t.Errorf("first")
			t.Errorf("second")
		}, spec.Failed, "second"},
		{"require stops", func(t spec.T, h *spec.Harness) {
			require.Equal(t, 1, 2, "numbers differ")
			t.Errorf("not reached")
		}, spec.Failed, "numbers differ"},
		{"skip", func(t spec.T, h *spec.Harness) { t.Skipf("no %s", "hooks") }, spec.Skipped, "skipped: no hooks"},
		{"panic", func(t spec.T, h *spec.Harness) { panic("boom") }, spec.Failed, "panic: boom"},
		{"admin skips without management", func(t spec.T, h *spec.Harness) { h.Admin(t) }, spec.Skipped, "management"},
		{"hooks skip without hooks", func(t spec.T, h *spec.Harness) { h.RequireHooks(t) }, spec.Skipped, "hooks"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := spec.Case{Group: "g", Name: "c", Run: tc.run}
			res := spec.RunCase(c, stubHarness, 10*time.Second)
			require.Equal(t, "g/c", res.Case)
			require.Equal(t, tc.want, res.Outcome, "messages: %q", res.Messages)
			require.Contains(t, strings.Join(res.Messages, "\n"), tc.contains)
			if tc.name == "require stops" || tc.name == "errorf continues" {
				require.NotContains(t, strings.Join(res.Messages, "\n"), "not reached")
			}
		})
	}
}

func TestRunCaseCleanupsRunInReverse(t *testing.T) {
	var order []int
	c := spec.Case{Group: "g", Name: "c", Run: func(t spec.T, h *spec.Harness) {
		t.Cleanup(func() { order = append(order, 1) })
		t.Cleanup(func() { order = append(order, 2) })
		t.FailNow()
	}}
	res := spec.RunCase(c, stubHarness, 10*time.Second)
	require.Equal(t, spec.Failed, res.Outcome)
	require.Equal(t, []int{2, 1}, order)
}

func TestRunCaseTimeout(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	c := spec.Case{Group: "g", Name: "hang", Run: func(t spec.T, h *spec.Harness) { <-release }}
	res := spec.RunCase(c, stubHarness, 20*time.Millisecond)
	require.Equal(t, spec.Failed, res.Outcome)
	require.Contains(t, strings.Join(res.Messages, "\n"), "did not finish")
}

func TestRunCaseNilProvider(t *testing.T) {
	c := spec.Case{Group: "g", Name: "c", Run: func(spec.T, *spec.Harness) {}}
	res := spec.RunCase(c, func(spec.T) *spec.Harness { return &spec.Harness{} }, 10*time.Second)
	require.Equal(t, spec.Failed, res.Outcome)
	require.Contains(t, strings.Join(res.Messages, "\n"), "no provider")
}

func TestHarnessDefaults(t *testing.T) {
	var got *spec.Harness
	c := spec.Case{Group: "g", Name: "c", Run: func(_ spec.T, h *spec.Harness) { got = h }}
	res := spec.RunCase(c, stubHarness, 10*time.Second)
	require.Equal(t, spec.Passed, res.Outcome)
	require.Equal(t, time.Second, got.LockTimeout, "real-time default lock timeout")
	require.Equal(t, 100*time.Millisecond, got.ShortPollThreshold)
	require.Equal(t, 100*time.Millisecond, got.Slack)
	require.False(t, got.FakeTime())
}

func TestRunCaseResultFields(t *testing.T) {
	tests := []struct {
		name       string
		level      spec.Level
		run        func(t spec.T, h *spec.Harness)
		want       spec.Outcome
		skipReason string
		lastMsg    string
	}{
		{"pass", spec.Strict, func(spec.T, *spec.Harness) {}, spec.Passed, "", ""},
		{"skip", spec.Required, func(t spec.T, h *spec.Harness) { h.Admin(t) }, spec.Skipped,
			"provider has no management capability (AsManagementCapability returned nil)", ""},
		{"fail", spec.Strict, func(t spec.T, _ *spec.Harness) { require.Equal(t, uint64(7), uint64(8)) }, spec.Failed, "",
			"rule g/c (level strict) is stated in the doc comment of spec_test.TestRunCaseResultFields.func"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := spec.RunCase(spec.Case{Group: "g", Name: "c", Run: tc.run, Level: tc.level}, stubHarness, 10*time.Second)
			require.Equal(t, tc.level, res.Level)
			require.Equal(t, tc.want, res.Outcome, "messages: %q", res.Messages)
			require.Equal(t, tc.skipReason, res.SkipReason)
			if tc.lastMsg != "" {
				require.Contains(t, res.Messages[len(res.Messages)-1], tc.lastMsg)
				require.Contains(t, res.Messages[0], "expected: 7")
				require.NotContains(t, res.Messages[0], "0x7")
			}
		})
	}
}

func TestRunCaseDefaultTimeoutLetsQuickCasesPass(t *testing.T) {
	res := spec.RunCase(spec.Case{Group: "g", Name: "c", Run: func(spec.T, *spec.Harness) {}, Level: spec.Required}, stubHarness, 0)
	require.Equal(t, spec.Passed, res.Outcome, "a timeout of 0 selects the default deadline")
}

func TestSourceNamesTheCaseFunction(t *testing.T) {
	for _, c := range spec.Cases() {
		src := c.Source()
		require.Regexp(t, `^spec\.[a-zA-Z0-9_.]+ \(spec/[a-z_]+\.go:[0-9]+\)$`, src, c.FullName())
	}
	require.Empty(t, spec.Case{}.Source())
}

// TestHarnessNowReadsTheProvidersClock: Now reads the fake clock, else
// RealClock, else the wall clock, so that cases compare a provider's
// timestamps with the clock it reads.
func TestHarnessNowReadsTheProvidersClock(t *testing.T) {
	fake := fakeclock.NewFake(time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC))
	other := fakeclock.NewFake(time.Date(1999, 1, 1, 0, 0, 0, 0, time.UTC))
	tests := []struct {
		name string
		h    spec.Harness
		want time.Time // zero: the wall clock
	}{
		{"fake clock", spec.Harness{Clock: fake, RealClock: other}, fake.Now()},
		{"real clock", spec.Harness{RealClock: other}, other.Now()},
		{"wall clock", spec.Harness{}, time.Time{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.want.IsZero() {
				before := time.Now()
				got := tc.h.Now()
				require.False(t, got.Before(before) || got.After(time.Now()), "%v", got)
				return
			}
			require.True(t, tc.want.Equal(tc.h.Now()))
			require.Equal(t, uint64(tc.want.UnixMilli()), tc.h.NowMs())
		})
	}
}
