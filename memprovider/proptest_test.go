package memprovider_test

import (
	"math/rand/v2"
	"testing"

	"github.com/duroxide-go/duroxide/internal/memharness"
	"github.com/duroxide-go/duroxide/proptest"
)

// TestProptest checks memprovider against proptest's model: rapid.checks
// random operation sequences (default 100, each about 3×rapid.steps = 90
// operations), invariants after every step. A long run:
//
//	go test ./memprovider -run TestProptest -rapid.checks=10000 -rapid.steps=100
func TestProptest(t *testing.T) {
	proptest.Run(t, memharness.Fake)
}

// FuzzProptest runs the same property under go test -fuzz:
// go test ./memprovider -run '^$' -fuzz FuzzProptest -fuzztime 60s
func FuzzProptest(f *testing.F) {
	for seed := range uint64(4) {
		f.Add(seedBytes(seed, 64<<10))
	}
	f.Fuzz(proptest.Fuzz(memharness.Fake))
}

// seedBytes returns n deterministic pseudo-random bytes: a seed corpus long
// enough for whole sequences, so plain go test runs the fuzz target too.
func seedBytes(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, 0x70726f70))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// TestLinearizability runs concurrent histories (3 clients × 30 operations;
// -proptest.histories of them, default 50, 10 with -short) against
// memprovider and checks each for linearizability against proptest's model.
// Run it under -race.
func TestLinearizability(t *testing.T) {
	proptest.RunLinearizability(t, memharness.Fake)
}
