package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

const sample = `goos: linux
BenchmarkProvider/Scale/TurnWithQueued=1000-2     	 1000	      1000 ns/op	     400 B/op	       7 allocs/op
BenchmarkProvider/Scale/TurnWithQueued=1000-2     	 1000	      1200 ns/op	     400 B/op	       7 allocs/op
BenchmarkProvider/Scale/TurnWithQueued=1000-2     	 1000	      3000 ns/op	     400 B/op	       7 allocs/op
BenchmarkProvider/Scale/TurnWithQueued=100000-2   	 1000	      1500 ns/op	     400 B/op	       7 allocs/op
BenchmarkProvider/Scale/WorkerWithOtherTags=1000-2	 1000	       900 ns/op
BenchmarkProvider/OrchestrationTurn-2             	 1000	       800 ns/op
`

func TestParseMedians(t *testing.T) {
	got, err := parse(strings.NewReader(sample))
	require.NoError(t, err)
	require.Len(t, got, 2)
	require.Equal(t, "TurnWithQueued", got[0].name)
	require.Equal(t, []point{{1000, 1200}, {100000, 1500}}, got[0].points, "median of 1000, 1200, 3000 is 1200")
	require.Equal(t, "WorkerWithOtherTags", got[1].name)
}

func TestRenderSVG(t *testing.T) {
	s, err := parse(strings.NewReader(sample))
	require.NoError(t, err)
	var b strings.Builder
	require.NoError(t, render(&b, "t <&>", s))
	out := b.String()
	require.True(t, strings.HasPrefix(out, "<svg"))
	require.Contains(t, out, "TurnWithQueued")
	require.Contains(t, out, "t &lt;&amp;&gt;")
	require.Equal(t, 2, strings.Count(out, "<polyline"))
	require.Contains(t, out, "1e5")
}

func TestMedianEven(t *testing.T) {
	require.Equal(t, 2.5, median([]float64{4, 1, 2, 3}))
}
