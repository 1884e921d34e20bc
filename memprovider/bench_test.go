package memprovider_test

import (
	"testing"

	"github.com/duroxide-go/duroxide/internal/memharness"
	"github.com/duroxide-go/duroxide/spec"
)

// BenchmarkProvider runs the provider benchmark suite (spec.Bench) against
// memprovider on a fake clock.
func BenchmarkProvider(b *testing.B) {
	spec.Bench(b, memharness.Fake)
}
