// Package memhooks connects white-box test hooks of package memprovider to
// the module's own tests and commands without adding them to memprovider's
// public API. memprovider registers the functions at init; only code inside
// this module can import this package.
package memhooks

import (
	"context"

	"github.com/duroxide-go/duroxide"
)

// CorruptInstanceHistory marks every stored history event of instance in
// provider p (a *memprovider.Provider) as undecodable. Set by memprovider.
var CorruptInstanceHistory func(p duroxide.Provider, instance string) error

// MaxAttemptCount returns the largest attempt count among instance's queued
// orchestrator messages in p. Set by memprovider.
var MaxAttemptCount func(p duroxide.Provider, instance string) (uint32, error)

// Hooks adapts the functions above to a provider, in the shape of spec.Hooks.
//
// Safe for concurrent use, as the provider it wraps.
type Hooks struct{ P duroxide.Provider }

// CorruptInstanceHistory implements spec.Hooks.
func (h Hooks) CorruptInstanceHistory(_ context.Context, instance string) error {
	return CorruptInstanceHistory(h.P, instance)
}

// MaxAttemptCount implements spec.Hooks.
func (h Hooks) MaxAttemptCount(_ context.Context, instance string) (uint32, error) {
	return MaxAttemptCount(h.P, instance)
}
