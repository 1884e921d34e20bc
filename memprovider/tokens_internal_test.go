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
