package memprovider_test

import (
	"testing"

	"github.com/duroxide-go/duroxide/fakeclock"
	"github.com/duroxide-go/duroxide/memprovider"
	"github.com/duroxide-go/duroxide/spec"
)

// BenchmarkProvider runs the provider benchmark suite (spec.Bench) against
// memprovider on a fake clock.
func BenchmarkProvider(b *testing.B) {
	spec.Bench(b, func(spec.T) *spec.Harness {
		clock := fakeclock.NewFake(specStart)
		return &spec.Harness{Provider: memprovider.New(memprovider.WithClock(clock)), Clock: clock, LongPolling: true}
	})
}
