package pgprovider_test

import (
	"flag"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/duroxide-go/duroxide/internal/pgharness"
	"github.com/duroxide-go/duroxide/pgprovider"
	"github.com/duroxide-go/duroxide/proptest"
)

// TestProptest checks pgprovider against proptest's model on the fake
// clock: rapid.checks random operation sequences, each on a fresh schema.
// Every operation is a database round trip or more, so unless
// -rapid.checks is given the test runs 20 sequences (about 5,000
// operations), not rapid's default 100. A long run:
//
//	.ci/pg go test ./pgprovider -run TestProptest -rapid.checks=1000
func TestProptest(t *testing.T) {
	pool := pgprovider.TestPool(t)
	defaultFlag(t, "rapid.checks", "20")
	proptest.Run(t, pgharness.Fake(pool))
}

// defaultFlag sets a flag the command line did not set, for this test.
func defaultFlag(t *testing.T, name, value string) {
	t.Helper()
	f := flag.Lookup(name)
	require.NotNil(t, f, "flag -%s", name)
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	if set {
		return
	}
	old := f.Value.String()
	require.NoError(t, f.Value.Set(value))
	t.Cleanup(func() { _ = f.Value.Set(old) })
}

// TestLinearizability runs concurrent histories (3 clients × 30
// operations; -proptest.histories of them, default 50, 10 with -short)
// against pgprovider on the fake clock and checks each for
// linearizability against the model. A long run:
//
//	.ci/pg go test ./pgprovider -run TestLinearizability -proptest.histories 1000
func TestLinearizability(t *testing.T) {
	pool := pgprovider.TestPool(t)
	proptest.RunLinearizability(t, pgharness.Fake(pool))
}
