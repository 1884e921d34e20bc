package client

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

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
