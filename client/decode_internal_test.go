package client

import (
	"encoding/json"
	"strings"
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

// TestDecodeValueMatchesEncodingJSON: the same for a decoded value, string
// or not, and a plain string costs no allocation.
func TestDecodeValueMatchesEncodingJSON(t *testing.T) {
	for _, in := range []string{`"plain"`, `"with \"quote\""`, `"é"`, `"`, `42`, `null`} {
		var slow string
		errSlow := json.Unmarshal([]byte(in), &slow)
		fast, errFast := decodeValue[string](in)
		require.Equal(t, errSlow == nil, errFast == nil, in)
		require.Equal(t, slow, fast, in)
	}
	n, err := decodeValue[int](`42`)
	require.NoError(t, err)
	require.Equal(t, 42, n)
	require.Zero(t, testing.AllocsPerRun(100, func() {
		if s, err := decodeValue[string](`"Hello, World!"`); err != nil || s != "Hello, World!" {
			t.Fatal(s, err)
		}
	}))
}

// TestEncodeJSONFastPathMatchesEncodingJSON: strings, ints and bools
// encode as encoding/json (without HTML escaping) encodes them.
func TestEncodeJSONFastPathMatchesEncodingJSON(t *testing.T) {
	for _, v := range []any{"World", "", "<a&b>", `q"uote`, `back\slash`, "tab\t", "é", "\x7f", 0, -42, 1 << 40, true, false} {
		var b strings.Builder
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		require.NoError(t, enc.Encode(v))
		got, err := encodeJSON(v)
		require.NoError(t, err)
		require.Equal(t, strings.TrimSuffix(b.String(), "\n"), got, "%#v", v)
	}
}
