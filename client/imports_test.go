package client_test

import (
	"go/build"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// The client depends on the contract only, so that it runs on any provider:
// its non-test files import the standard library, the root package,
// fakeclock and internal/jsonfast (a leaf over encoding/json), and nothing
// else (no provider, no spec, no runtime).
func TestImportsOnlyTheContract(t *testing.T) {
	pkg, err := build.ImportDir(".", 0)
	require.NoError(t, err)
	allowed := map[string]bool{
		"github.com/duroxide-go/duroxide":                   true,
		"github.com/duroxide-go/duroxide/fakeclock":         true,
		"github.com/duroxide-go/duroxide/internal/jsonfast": true,
	}
	for _, imp := range pkg.Imports {
		std := !strings.Contains(strings.Split(imp, "/")[0], ".")
		require.True(t, std || allowed[imp], "package client must not import %s", imp)
	}
}
