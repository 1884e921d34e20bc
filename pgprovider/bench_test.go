package pgprovider_test

import (
	"testing"

	"github.com/duroxide-go/duroxide/internal/pgharness"
	"github.com/duroxide-go/duroxide/pgprovider"
	"github.com/duroxide-go/duroxide/spec"
)

// BenchmarkProvider runs the provider benchmark suite (spec.Bench) against
// pgprovider on the database's clock, each sub-benchmark on a fresh schema:
//
//	.ci/pg go test ./pgprovider -run '^$' -bench 'Provider/(OneActivityWorkflow|OrchestrationTurn|WorkerCycle)$' -benchmem
func BenchmarkProvider(b *testing.B) {
	pool := pgprovider.TestPool(b)
	spec.Bench(b, func(t spec.T) *spec.Harness {
		p := pgharness.NewProvider(t, pool)
		return &spec.Harness{Provider: p, Hooks: pgharness.Hooks(p), LongPolling: true}
	})
}
