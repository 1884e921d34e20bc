package jsonfast

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestDecodeMatchesEncodingJSON(t *testing.T) {
	for _, data := range []string{`"plain"`, `""`, `"with \"escape\""`, `"\u00e9"`, `"é"`, `"a\nb"`, `"tab	"`,
		`"a"b"`, `"unterminated`, `42`, `null`, `"`, `x`, `"<>&"`} {
		want, wantErr := new(string), error(nil)
		wantErr = json.Unmarshal([]byte(data), want)
		got, err := Decode[string](data)
		require.Equal(t, wantErr != nil, err != nil, data)
		require.Equal(t, *want, got, data)
	}
	n, err := Decode[int](`42`)
	require.NoError(t, err)
	require.Equal(t, 42, n)
	type named string
	s, err := Decode[named](`"x\ty"`)
	require.NoError(t, err)
	require.Equal(t, named("x\ty"), s)
}

func TestDecodePlainStringDoesNotAllocate(t *testing.T) {
	require.Zero(t, testing.AllocsPerRun(100, func() {
		if s, err := Decode[string](`"Hello, World!"`); err != nil || s != "Hello, World!" {
			t.Fatal(s, err)
		}
	}))
}
