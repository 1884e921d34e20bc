package orchestration

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

// slowMarshal is Marshal without its fast paths.
func slowMarshal(t *rapid.T, v any) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	require.NoError(t, enc.Encode(v))
	return string(bytes.TrimSuffix(b.Bytes(), []byte{'\n'}))
}

// TestCodecFastPathsMatchEncodingJSON: the fast paths give exactly what
// encoding/json gives, for strings of every kind, ints and bools.
func TestCodecFastPathsMatchEncodingJSON(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		s := rapid.OneOf(rapid.String(), rapid.StringMatching(`[ -~]*`), rapid.SampledFrom([]string{"", `"`, `\`, "<&>", "\u2028", "\x7f", "é"})).Draw(t, "s")
		n := rapid.Int().Draw(t, "n")
		b := rapid.Bool().Draw(t, "b")
		for _, v := range []any{s, n, b} {
			got, err := Marshal(v)
			require.NoError(t, err)
			require.Equal(t, slowMarshal(t, v), got)
		}
		enc := slowMarshal(t, s)
		var fast, slow string
		require.NoError(t, Unmarshal(enc, &fast))
		require.NoError(t, json.Unmarshal([]byte(enc), &slow))
		require.Equal(t, slow, fast)
		require.Equal(t, s, fast)
		// Not JSON strings: the fast path must not accept what json refuses.
		for _, bad := range []string{`"` + s, s + `"`, `"a"b"`} {
			var x, y string
			errFast := Unmarshal(bad, &x)
			errSlow := json.Unmarshal([]byte(bad), &y)
			require.Equal(t, errSlow == nil, errFast == nil, "input %q", bad)
			require.Equal(t, y, x)
		}
	})
}
