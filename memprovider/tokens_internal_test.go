package memprovider

import (
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"
)

// Tokens cut from a batch are the prefix and their number in base 36,
// across batch boundaries and after a jump in numbering.
func TestTokenBatchFormatsEachNumber(t *testing.T) {
	var b tokenBatch
	const prefix = "mp-0123456789abcdef-"
	seen := map[string]bool{}
	for _, first := range []uint64{1, 1 << 62} {
		for n := first; n < first+100; n++ {
			got := b.next(prefix, n)
			require.Equal(t, prefix+strconv.FormatUint(n, 36), got)
			require.False(t, seen[got], "token %d issued twice", n)
			seen[got] = true
		}
	}
}

// A tokenMap finds every token it holds, in its ring or pushed out to its
// map, forgets deleted ones, and refuses look-alikes.
func TestTokenMapRingAndMap(t *testing.T) {
	const prefix = "mp-0123456789abcdef-"
	var b tokenBatch
	m := newTokenMap[int](prefix)
	const n = 3*recentTokens + 7
	tokens := make([]string, n+1)
	for i := uint64(1); i <= n; i++ {
		tokens[i] = b.next(prefix, i)
		m.put(tokens[i], i, int(i))
	}
	require.Len(t, m.m, n-recentTokens, "older tokens are pushed out to the map")
	for i := 1; i <= n; i++ {
		v, ok := m.get(tokens[i])
		require.True(t, ok, "token %d", i)
		require.Equal(t, i, v)
	}
	for i := 1; i <= n; i += 2 {
		m.del(tokens[i])
	}
	for i := 1; i <= n; i++ {
		_, ok := m.get(tokens[i])
		require.Equal(t, i%2 == 0, ok, "token %d", i)
	}
	for _, bad := range []string{"", prefix, prefix + "!", "mp-x" + tokens[2][4:], prefix + "0" + tokens[2][len(prefix):]} {
		_, ok := m.get(bad)
		require.False(t, ok, "%q", bad)
	}
}
