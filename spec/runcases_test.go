package spec_test

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/duroxide-go/duroxide/spec"
)

func TestRunCasesKeepsOrderAndBoundsConcurrency(t *testing.T) {
	var running, peak atomic.Int32
	release := make(chan struct{})
	mk := func(name string, outcome spec.Outcome) spec.Case {
		return spec.Case{Group: "g", Name: name, Run: func(t spec.T, _ *spec.Harness) {
			n := running.Add(1)
			defer running.Add(-1)
			for {
				p := peak.Load()
				if n <= p || peak.CompareAndSwap(p, n) {
					break
				}
			}
			<-release
			if outcome == spec.Failed {
				t.Errorf("boom")
			}
		}}
	}
	cases := []spec.Case{mk("a", spec.Passed), mk("b", spec.Failed), mk("c", spec.Passed), mk("d", spec.Failed)}
	var started []string
	var counts []int
	done := make(chan []spec.Result)
	go func() {
		done <- spec.RunCases(cases, stubHarness, 2, 10*time.Second, func(n int, c spec.Case) {
			counts = append(counts, n)
			started = append(started, c.Name)
		})
	}()
	close(release)
	results := <-done
	require.Equal(t, []string{"a", "b", "c", "d"}, started)
	require.Equal(t, []int{1, 2, 3, 4}, counts)
	require.Len(t, results, 4)
	for i, want := range []spec.Outcome{spec.Passed, spec.Failed, spec.Passed, spec.Failed} {
		require.Equal(t, "g/"+cases[i].Name, results[i].Case)
		require.Equal(t, want, results[i].Outcome)
	}
	require.LessOrEqual(t, peak.Load(), int32(2), "at most n cases at a time")
}
