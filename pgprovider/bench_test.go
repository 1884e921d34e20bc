package pgprovider

import (
	"testing"

	"github.com/duroxide-go/duroxide/spec"
)

// BenchmarkProvider runs the provider benchmark suite (spec.Bench) against
// pgprovider on the database's clock, each sub-benchmark on a fresh schema:
//
//	.ci/pg go test ./pgprovider -run '^$' -bench 'Provider/(OneActivityWorkflow|OrchestrationTurn|WorkerCycle)$' -benchmem
func BenchmarkProvider(b *testing.B) {
	testPool(b)
	spec.Bench(b, func(t spec.T) *spec.Harness {
		p := freshProvider(t, b)
		return &spec.Harness{Provider: p, Hooks: hooks{p}, LongPolling: true}
	})
}
