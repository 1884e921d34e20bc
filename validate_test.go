package duroxide_test

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/duroxide-go/duroxide"
)

// foreignKind embeds a variant in a type of another package: its method set
// (unexported methods included) satisfies EventKind, WorkItem and
// ErrorDetails, but it is none of their variants.
type foreignKind struct{ duroxide.KeyValueSet }

type foreignItem struct{ duroxide.CancelInstanceItem }

type foreignDetails struct{ duroxide.Infrastructure }

// pointerTo returns a pointer to a copy of v, typed as T: the way a caller
// writes &KeyValueSet{...} where the value is expected.
func pointerTo[T any](t *testing.T, v T) T {
	t.Helper()
	p := reflect.New(reflect.TypeOf(v))
	p.Elem().Set(reflect.ValueOf(v))
	out, ok := p.Interface().(T)
	require.True(t, ok, "%T does not satisfy %T", p.Interface(), v)
	return out
}

// nilPointerTo returns a typed nil pointer to v's type, typed as T.
func nilPointerTo[T any](t *testing.T, v T) T {
	t.Helper()
	out, ok := reflect.Zero(reflect.PointerTo(reflect.TypeOf(v))).Interface().(T)
	require.True(t, ok)
	return out
}

type badEvent struct {
	name    string
	event   duroxide.Event
	pointer bool // the message must say a pointer was passed
}

// badEvents returns events the wire format cannot encode: nil, pointer,
// typed-nil pointer and foreign kinds (for every variant), and every invalid
// ErrorDetails inside each failure kind.
func badEvents(t *testing.T) []badEvent {
	t.Helper()
	out := []badEvent{
		{name: "nil kind", event: envelope(1, nil, nil)},
		{name: "foreign kind", event: envelope(1, nil, foreignKind{})},
	}
	for _, c := range eventCases() {
		out = append(out,
			badEvent{name: "pointer " + c.name, event: envelope(1, nil, pointerTo(t, c.event.Kind)), pointer: true},
			badEvent{name: "nil pointer " + c.name, event: envelope(1, nil, nilPointerTo(t, c.event.Kind)), pointer: true},
		)
	}
	for _, d := range badDetails(t) {
		for name, kind := range map[string]duroxide.EventKind{
			"OrchestrationFailed":    duroxide.OrchestrationFailed{Details: d.details},
			"ActivityFailed":         duroxide.ActivityFailed{Details: d.details},
			"SubOrchestrationFailed": duroxide.SubOrchestrationFailed{Details: d.details},
		} {
			out = append(out, badEvent{name: name + " with " + d.name, event: envelope(1, nil, kind), pointer: d.pointer})
		}
	}
	return out
}

type badItem struct {
	name    string
	item    duroxide.WorkItem
	pointer bool
}

// badItems returns work items the wire format cannot encode.
func badItems(t *testing.T) []badItem {
	t.Helper()
	out := []badItem{
		{name: "nil", item: nil},
		{name: "foreign", item: foreignItem{}},
	}
	for _, c := range workItemCases() {
		out = append(out,
			badItem{name: "pointer " + c.name, item: pointerTo(t, c.item), pointer: true},
			badItem{name: "nil pointer " + c.name, item: nilPointerTo(t, c.item), pointer: true},
		)
	}
	for _, d := range badDetails(t) {
		out = append(out,
			badItem{name: "ActivityFailed with " + d.name, item: duroxide.ActivityFailedItem{Instance: "i", Details: d.details}, pointer: d.pointer},
			badItem{name: "SubOrchFailed with " + d.name, item: duroxide.SubOrchFailedItem{ParentInstance: "i", Details: d.details}, pointer: d.pointer},
		)
	}
	return out
}

type badDetail struct {
	name    string
	details duroxide.ErrorDetails
	pointer bool
}

// badDetails returns ErrorDetails the wire format cannot encode, nested kinds
// included.
func badDetails(t *testing.T) []badDetail {
	t.Helper()
	out := []badDetail{
		{name: "nil details", details: nil},
		{name: "foreign details", details: foreignDetails{}},
		{name: "unknown config kind", details: duroxide.Configuration{Kind: "Unregistered"}},
		{name: "empty config kind", details: duroxide.Configuration{}},
		{name: "nil app kind", details: duroxide.Application{Message: "m"}},
		{name: "pointer app kind", details: duroxide.Application{Kind: &duroxide.AppCancelled{Reason: "r"}}, pointer: true},
		{name: "nil pointer app kind", details: duroxide.Application{Kind: (*duroxide.AppPanicked)(nil)}, pointer: true},
		{name: "nil poison type", details: duroxide.Poison{}},
		{name: "pointer poison type", details: duroxide.Poison{MessageType: &duroxide.PoisonActivity{Instance: "i"}}, pointer: true},
	}
	for _, c := range detailsCases() {
		out = append(out,
			badDetail{name: "pointer " + c.name, details: pointerTo(t, c.details), pointer: true},
			badDetail{name: "nil pointer " + c.name, details: nilPointerTo(t, c.details), pointer: true},
		)
	}
	return out
}

// requireRefused requires a validation or marshal error wrapping
// ErrUnknownVariant that says "pointer" when a pointer was passed.
func requireRefused(t *testing.T, err error, pointer bool) {
	t.Helper()
	require.ErrorIs(t, err, duroxide.ErrUnknownVariant)
	if pointer {
		require.Contains(t, err.Error(), "pointer", "a refused pointer variant must be named as such")
	}
}

func TestValidateAcceptsEveryEncodableValue(t *testing.T) {
	for _, c := range eventCases() {
		require.NoError(t, duroxide.ValidateEvent(c.event), c.name)
	}
	for _, c := range workItemCases() {
		require.NoError(t, duroxide.ValidateWorkItem(c.item), c.name)
	}
	for _, c := range detailsCases() {
		require.NoError(t, duroxide.ValidateErrorDetails(c.details), c.name)
	}
}

// Validation refuses exactly what the encoder refuses, with the encoder's
// sentinel, and never panics (typed nil pointers included).
func TestValidateRefusesWhatTheEncoderRefuses(t *testing.T) {
	for _, c := range badEvents(t) {
		t.Run("event/"+c.name, func(t *testing.T) {
			var verr, merr error
			require.NotPanics(t, func() { verr = duroxide.ValidateEvent(c.event) })
			requireRefused(t, verr, c.pointer)
			require.NotPanics(t, func() { _, merr = json.Marshal(c.event) })
			requireRefused(t, merr, c.pointer)
		})
	}
	for _, c := range badItems(t) {
		t.Run("item/"+c.name, func(t *testing.T) {
			var verr, merr error
			require.NotPanics(t, func() { verr = duroxide.ValidateWorkItem(c.item) })
			requireRefused(t, verr, c.pointer)
			require.NotPanics(t, func() { _, merr = duroxide.MarshalWorkItem(c.item) })
			requireRefused(t, merr, c.pointer)
		})
	}
	for _, c := range badDetails(t) {
		t.Run("details/"+c.name, func(t *testing.T) {
			var verr, merr error
			require.NotPanics(t, func() { verr = duroxide.ValidateErrorDetails(c.details) })
			requireRefused(t, verr, c.pointer)
			require.NotPanics(t, func() { _, merr = duroxide.MarshalErrorDetails(c.details) })
			requireRefused(t, merr, c.pointer)
		})
	}
}

// The refusal names the sum type and the Go type, so a caller sees at once
// what to change.
func TestPointerVariantMessage(t *testing.T) {
	err := duroxide.ValidateEvent(envelope(1, nil, &duroxide.KeyValueSet{Key: "k"}))
	require.EqualError(t, err, "unknown variant: EventKind *duroxide.KeyValueSet is a pointer; pass the value duroxide.KeyValueSet")

	err = duroxide.ValidateWorkItem(duroxide.ActivityFailedItem{Details: &duroxide.Application{Kind: duroxide.AppActivityFailed{}}})
	require.EqualError(t, err, "ActivityFailed.details: unknown variant: ErrorDetails *duroxide.Application is a pointer; pass the value duroxide.Application")

	_, err = duroxide.MarshalWorkItem(&duroxide.CancelInstanceItem{})
	require.EqualError(t, err, "duroxide: marshal WorkItem: unknown variant: WorkItem *duroxide.CancelInstanceItem is a pointer; pass the value duroxide.CancelInstanceItem")
}

// Validation is on every provider write path: accepting a valid value must
// not allocate.
func TestValidateDoesNotAllocate(t *testing.T) {
	events, items := eventCases(), workItemCases()
	allocs := testing.AllocsPerRun(100, func() {
		for _, c := range events {
			_ = duroxide.ValidateEvent(c.event)
		}
		for _, c := range items {
			_ = duroxide.ValidateWorkItem(c.item)
		}
	})
	require.Zero(t, allocs)
}

// BenchmarkValidate measures validation of one valid event of every kind
// and one valid work item of every variant per op.
func BenchmarkValidate(b *testing.B) {
	events, items := eventCases(), workItemCases()
	b.ReportAllocs()
	for b.Loop() {
		for _, c := range events {
			if err := duroxide.ValidateEvent(c.event); err != nil {
				b.Fatal(err)
			}
		}
		for _, c := range items {
			if err := duroxide.ValidateWorkItem(c.item); err != nil {
				b.Fatal(err)
			}
		}
	}
}
