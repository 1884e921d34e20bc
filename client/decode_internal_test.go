package client

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestDecodeOutputMatchesEncodingJSON: the string fast path gives exactly
// what encoding/json gives, and refuses what it refuses.
func TestDecodeOutputMatchesEncodingJSON(t *testing.T) {
	for _, in := range []string{`"plain"`, `""`, `"with \"quote\""`, `"tab\t"`, `"é"`, `"a"b"`, `"`, `"unterminated`, `42`, `null`, `"<&>"`} {
		t.Run(in, func(t *testing.T) {
			var fast, slow string
			errFast := decodeOutput(in, &fast)
			errSlow := json.Unmarshal([]byte(in), &slow)
			require.Equal(t, errSlow == nil, errFast == nil)
			require.Equal(t, slow, fast)
		})
	}
}
