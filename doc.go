// Package duroxide is the provider contract of duroxide-go: every type a
// duroxide runtime exchanges with its storage provider, the Provider and
// ProviderAdmin interfaces, and the errors providers return.
//
// duroxide is a durable-execution framework: a runtime replays orchestration
// code from an event history kept by a provider. A provider is storage with
// queue and lock semantics:
//
//   - an append-only history of [Event] values per (instance, execution);
//   - an orchestrator queue of [WorkItem] values, consumed per instance: a
//     fetch locks the instance and returns all of its visible messages as one
//     batch ([Provider.FetchOrchestrationItem]);
//   - a worker queue of [ActivityExecuteItem] values, consumed one item at a
//     time with a per-item peek-lock ([Provider.FetchWorkItem]);
//   - instance metadata, execution metadata, sessions, custom status and a
//     per-instance key/value store.
//
// This package is the contract only. It holds no implementation of a provider
// and imports nothing of duroxide-go's: every provider imports it. The
// reference implementation is package memprovider; package spec is the
// executable specification a provider author runs against a provider.
//
// # Sum types
//
// duroxide's Rust enums become sealed Go interfaces: [EventKind], [WorkItem],
// [ErrorDetails], [AppErrorKind] and [PoisonMessageType]. Each variant is a
// struct value of this package, and a type switch over the closed, documented
// set of variants can be checked for exhaustiveness (each interface is
// annotated for the go-check-sumtype linter). [EventKinds] and
// [WorkItemVariants] list every variant.
//
// The interfaces have unexported methods, but Go cannot seal them completely:
// a pointer to a variant (&KeyValueSet{}) and a struct of another package that
// embeds a variant satisfy them too. Those values are not variants. The JSON
// encoder refuses them, and [ValidateEvent], [ValidateWorkItem] and
// [ValidateErrorDetails] refuse exactly what the encoder refuses; providers
// call them on every write path, so every provider stores the same set of
// values.
//
// # Wire format
//
// [Event], every [WorkItem] variant and every [ErrorDetails] variant marshal to
// exactly duroxide's serde JSON shapes and back, so a Go provider can share a
// database with Rust runtimes. Decoding an unknown variant is an error.
//
// # Concurrency
//
// Every type in this package is plain data with no internal
// synchronization: a value may be read from many goroutines at once, but must
// not be mutated while another goroutine reads it. [TagFilter] and
// [ProviderError] are immutable once built. The interfaces [Provider] and
// [ProviderAdmin] require implementations to be safe for concurrent use.
//
// # Ownership
//
// Values in this package are plain data. Optional fields are pointers (nil
// means absent). Use [Event.Clone] and [CloneWorkItem] to deep-copy; providers
// must not retain callers' values nor return values that alias their state.
package duroxide
