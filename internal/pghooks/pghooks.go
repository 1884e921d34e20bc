// Package pghooks connects white-box test hooks of package pgprovider to the
// module's own tests and commands without adding them to pgprovider's public
// API. pgprovider registers the functions at init; only code inside this
// module can import this package.
package pghooks

import (
	"context"

	"github.com/duroxide-go/duroxide"
)

// CorruptInstanceHistory overwrites every stored history event of instance
// in provider p (a *pgprovider.Provider) with text that is not JSON. Set by
// pgprovider.
var CorruptInstanceHistory func(ctx context.Context, p duroxide.Provider, instance string) error

// MaxAttemptCount returns the largest attempt count among instance's queued
// orchestrator messages in p. Set by pgprovider.
var MaxAttemptCount func(ctx context.Context, p duroxide.Provider, instance string) (uint32, error)

// Hooks adapts the functions above to a provider, in the shape of spec.Hooks.
//
// Safe for concurrent use, as the provider it wraps.
type Hooks struct{ P duroxide.Provider }

// CorruptInstanceHistory implements spec.Hooks.
func (h Hooks) CorruptInstanceHistory(ctx context.Context, instance string) error {
	return CorruptInstanceHistory(ctx, h.P, instance)
}

// MaxAttemptCount implements spec.Hooks.
func (h Hooks) MaxAttemptCount(ctx context.Context, instance string) (uint32, error) {
	return MaxAttemptCount(ctx, h.P, instance)
}
