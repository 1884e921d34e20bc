package duroxide_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/duroxide-go/duroxide"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

func ptr[T any](v T) *T { return &v }

// envelope returns an event with a fixed envelope around kind.
func envelope(id uint64, source *uint64, kind duroxide.EventKind) duroxide.Event {
	return duroxide.Event{
		EventID:         id,
		SourceEventID:   source,
		InstanceID:      "order-42",
		ExecutionID:     2,
		TimestampMs:     1700000000123,
		DuroxideVersion: "0.1.8",
		Kind:            kind,
	}
}

type eventCase struct {
	name  string // golden file name, without .json
	event duroxide.Event
}

type workItemCase struct {
	name string
	item duroxide.WorkItem
}

type detailsCase struct {
	name    string
	details duroxide.ErrorDetails
}

var (
	appFailed = duroxide.Application{Kind: duroxide.AppActivityFailed{}, Message: "card declined", Retryable: true}
	infraErr  = duroxide.Infrastructure{Operation: "ack_orchestration_item", Message: "database is locked", Retryable: true}
	poisonErr = duroxide.Poison{
		AttemptCount: 11, MaxAttempts: 10,
		MessageType: duroxide.PoisonOrchestration{Instance: "order-42", ExecutionID: 2},
		Message:     `{"StartOrchestration":{}}`,
	}
)

// eventCases holds one fully populated event per kind, named by its wire
// type, plus extra cases for absent optional fields.
func eventCases() []eventCase {
	return []eventCase{
		{"OrchestrationStarted", envelope(1, nil, duroxide.OrchestrationStarted{
			Name: "ProcessOrder", Version: "1.2.0", Input: `{"order":42}`,
			ParentInstance: ptr("parent-7"), ParentID: ptr(uint64(5)),
			CarryForwardEvents:  []duroxide.CarriedEvent{{Name: "approval", Data: `"yes"`}, {Name: "note", Data: "n"}},
			InitialCustomStatus: ptr("step 3"),
		})},
		{"OrchestrationStarted_minimal", envelope(1, nil, duroxide.OrchestrationStarted{
			Name: "ProcessOrder", Version: "1.0.0", Input: "",
		})},
		{"OrchestrationStarted_emptyCarryForward", envelope(1, nil, duroxide.OrchestrationStarted{
			Name: "ProcessOrder", Version: "1.0.0", Input: "x", CarryForwardEvents: []duroxide.CarriedEvent{},
		})},
		{"OrchestrationCompleted", envelope(9, nil, duroxide.OrchestrationCompleted{Output: `{"ok":true}`})},
		{"OrchestrationFailed", envelope(9, nil, duroxide.OrchestrationFailed{Details: duroxide.Application{
			Kind: duroxide.AppPanicked{}, Message: "index out of range", Retryable: false,
		}})},
		{"ActivityScheduled", envelope(2, nil, duroxide.ActivityScheduled{
			Name: "Charge", Input: `{"amount":10}`, SessionID: ptr("session-1"), Tag: ptr("gpu"),
		})},
		{"ActivityScheduled_untagged", envelope(2, nil, duroxide.ActivityScheduled{Name: "Charge", Input: "{}"})},
		{"ActivityCompleted", envelope(3, ptr(uint64(2)), duroxide.ActivityCompleted{Result: `"charged"`})},
		{"ActivityFailed", envelope(3, ptr(uint64(2)), duroxide.ActivityFailed{Details: appFailed})},
		{"ActivityCancelRequested", envelope(4, ptr(uint64(2)), duroxide.ActivityCancelRequested{Reason: "dropped future"})},
		{"TimerCreated", envelope(5, nil, duroxide.TimerCreated{FireAtMs: 18446744073709551615})},
		{"TimerFired", envelope(6, ptr(uint64(5)), duroxide.TimerFired{FireAtMs: 9007199254740993})},
		{"ExternalSubscribed", envelope(7, nil, duroxide.ExternalSubscribed{Name: "Approval"})},
		{"ExternalEvent", envelope(8, nil, duroxide.ExternalEvent{
			Name: "Approval",
			Data: "quote\" back\\ nl\n tab\t cr\r bs\b ff\f ctl\x01\x1f del\x7f <b>&amp; café \u2028\u2029 😀",
		})},
		{"OrchestrationChained", envelope(9, nil, duroxide.OrchestrationChained{
			Name: "Audit", Instance: "audit-42", Input: "{}",
		})},
		{"SubOrchestrationScheduled", envelope(10, nil, duroxide.SubOrchestrationScheduled{
			Name: "Ship", Instance: "order-42::sub::10", Input: `{"to":"home"}`,
		})},
		{"SubOrchestrationCompleted", envelope(11, ptr(uint64(10)), duroxide.SubOrchestrationCompleted{Result: `"shipped"`})},
		{"SubOrchestrationFailed", envelope(11, ptr(uint64(10)), duroxide.SubOrchestrationFailed{Details: infraErr})},
		{"SubOrchestrationCancelRequested", envelope(12, ptr(uint64(10)), duroxide.SubOrchestrationCancelRequested{Reason: "parent cancelled"})},
		{"OrchestrationContinuedAsNew", envelope(13, nil, duroxide.OrchestrationContinuedAsNew{Input: `{"page":2}`})},
		{"OrchestrationCancelRequested", envelope(14, nil, duroxide.OrchestrationCancelRequested{Reason: "user request"})},
		{"ExternalSubscribedCancelled", envelope(15, ptr(uint64(7)), duroxide.ExternalSubscribedCancelled{Reason: "lost select2 race"})},
		{"ExternalSubscribedPersistent", envelope(16, nil, duroxide.QueueSubscribed{Name: "inbox"})},
		{"ExternalEventPersistent", envelope(17, nil, duroxide.QueueEventDelivered{Name: "inbox", Data: "hello"})},
		{"ExternalSubscribedPersistentCancelled", envelope(18, ptr(uint64(16)), duroxide.QueueSubscriptionCancelled{Reason: "lost select2 race"})},
		{"CustomStatusUpdated", envelope(19, nil, duroxide.CustomStatusUpdated{Status: ptr("50% done")})},
		{"CustomStatusUpdated_cleared", envelope(20, nil, duroxide.CustomStatusUpdated{})},
		{"KeyValueSet", envelope(21, nil, duroxide.KeyValueSet{Key: "cursor", Value: "abc", LastUpdatedAtMs: 1700000000456})},
		{"KeyValueCleared", envelope(22, nil, duroxide.KeyValueCleared{Key: "cursor"})},
		{"KeyValuesCleared", envelope(23, nil, duroxide.KeyValuesCleared{})},
	}
}

// workItemCases holds one fully populated item per variant, named by its
// wire variant, plus extra cases for absent optional fields.
func workItemCases() []workItemCase {
	return []workItemCase{
		{"StartOrchestration", duroxide.StartOrchestrationItem{
			Instance: "order-42::sub::10", Orchestration: "Ship", Input: `{"to":"home"}`,
			Version: ptr("2.0.0"), ParentInstance: ptr("order-42"), ParentID: ptr(uint64(10)), ExecutionID: 1,
		}},
		{"StartOrchestration_minimal", duroxide.StartOrchestrationItem{
			Instance: "order-42", Orchestration: "ProcessOrder", Input: "", ExecutionID: 1,
		}},
		{"ActivityExecute", duroxide.ActivityExecuteItem{
			Instance: "order-42", ExecutionID: 2, ID: 3, Name: "Charge", Input: `{"amount":10}`,
			SessionID: ptr("session-1"), Tag: ptr("gpu"),
		}},
		{"ActivityExecute_minimal", duroxide.ActivityExecuteItem{
			Instance: "order-42", ExecutionID: 2, ID: 3, Name: "Charge", Input: "{}",
		}},
		{"ActivityCompleted", duroxide.ActivityCompletedItem{Instance: "order-42", ExecutionID: 2, ID: 3, Result: `"ok"`}},
		{"ActivityFailed", duroxide.ActivityFailedItem{Instance: "order-42", ExecutionID: 2, ID: 3, Details: appFailed}},
		{"TimerFired", duroxide.TimerFiredItem{Instance: "order-42", ExecutionID: 2, ID: 5, FireAtMs: 18446744073709551615}},
		{"ExternalRaised", duroxide.ExternalRaisedItem{Instance: "order-42", Name: "Approval", Data: `{"by":"ann"}`}},
		{"SubOrchCompleted", duroxide.SubOrchCompletedItem{
			ParentInstance: "order-42", ParentExecutionID: 2, ParentID: 10, Result: `"shipped"`,
		}},
		{"SubOrchFailed", duroxide.SubOrchFailedItem{
			ParentInstance: "order-42", ParentExecutionID: 2, ParentID: 10, Details: poisonErr,
		}},
		{"CancelInstance", duroxide.CancelInstanceItem{Instance: "order-42", Reason: "user request"}},
		{"ContinueAsNew", duroxide.ContinueAsNewItem{
			Instance: "order-42", Orchestration: "ProcessOrder", Input: `{"page":2}`, Version: ptr("1.2.0"),
			CarryForwardEvents:  []duroxide.CarriedEvent{{Name: "inbox", Data: "a"}, {Name: "inbox", Data: "b"}},
			InitialCustomStatus: ptr("page 2"),
		}},
		{"ContinueAsNew_minimal", duroxide.ContinueAsNewItem{
			Instance: "order-42", Orchestration: "ProcessOrder", Input: "",
		}},
		{"QueueMessage", duroxide.QueueMessageItem{Instance: "order-42", Name: "inbox", Data: "hello"}},
	}
}

// detailsCases covers every ErrorDetails variant, every AppErrorKind and
// every PoisonMessageType.
func detailsCases() []detailsCase {
	return []detailsCase{
		{"Infrastructure", infraErr},
		{"Configuration", duroxide.Configuration{
			Kind: duroxide.Nondeterminism, Resource: "ProcessOrder", Message: ptr("expected ActivityScheduled, found TimerCreated"),
		}},
		{"Configuration_noMessage", duroxide.Configuration{Kind: duroxide.Nondeterminism, Resource: "ProcessOrder"}},
		{"Application_ActivityFailed", appFailed},
		{"Application_OrchestrationFailed", duroxide.Application{
			Kind: duroxide.AppOrchestrationFailed{}, Message: "invalid order", Retryable: false,
		}},
		{"Application_Panicked", duroxide.Application{Kind: duroxide.AppPanicked{}, Message: "boom", Retryable: false}},
		{"Application_Cancelled", duroxide.Application{
			Kind: duroxide.AppCancelled{Reason: "parent cancelled"}, Message: "cancelled", Retryable: false,
		}},
		{"Poison_Orchestration", poisonErr},
		{"Poison_Activity", duroxide.Poison{
			AttemptCount: 4294967295, MaxAttempts: 3,
			MessageType: duroxide.PoisonActivity{Instance: "order-42", ExecutionID: 2, ActivityName: "Charge", ActivityID: 3},
			Message:     `{"ActivityExecute":{}}`,
		}},
		{"Poison_FailedDeserialization", duroxide.Poison{
			AttemptCount: 3, MaxAttempts: 3,
			MessageType: duroxide.PoisonFailedDeserialization{
				Instance: "order-42", ExecutionID: 2, Error: "unknown variant `FutureKind`",
			},
			Message: "",
		}},
	}
}

// checkGolden compares got with the golden file dir/name.json, or rewrites it
// under -update.
func checkGolden(t *testing.T, dir, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", dir, name+".json")
	if *update {
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, got, 0o644))
		return
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "missing golden file; run go test -run TestGolden -update")
	require.Equal(t, string(want), string(got), "bytes differ from %s", path)
}

func readGolden(t *testing.T, dir, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "golden", dir, name+".json"))
	require.NoError(t, err)
	return data
}

func TestGoldenEvents(t *testing.T) {
	for _, tc := range eventCases() {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.event.MarshalJSON()
			require.NoError(t, err)
			checkGolden(t, "event", tc.name, got)

			var decoded duroxide.Event
			require.NoError(t, json.Unmarshal(readGolden(t, "event", tc.name), &decoded))
			require.Equal(t, tc.event, decoded)
		})
	}
}

func TestGoldenWorkItems(t *testing.T) {
	for _, tc := range workItemCases() {
		t.Run(tc.name, func(t *testing.T) {
			got, err := duroxide.MarshalWorkItem(tc.item)
			require.NoError(t, err)
			checkGolden(t, "workitem", tc.name, got)

			decoded, err := duroxide.UnmarshalWorkItem(readGolden(t, "workitem", tc.name))
			require.NoError(t, err)
			require.Equal(t, tc.item, decoded)
		})
	}
}

func TestGoldenErrorDetails(t *testing.T) {
	for _, tc := range detailsCases() {
		t.Run(tc.name, func(t *testing.T) {
			got, err := duroxide.MarshalErrorDetails(tc.details)
			require.NoError(t, err)
			checkGolden(t, "errordetails", tc.name, got)

			decoded, err := duroxide.UnmarshalErrorDetails(readGolden(t, "errordetails", tc.name))
			require.NoError(t, err)
			require.Equal(t, tc.details, decoded)
		})
	}
}

// TestGoldenCoverage fails when a variant has no golden file, so a new
// variant cannot be added without pinning its wire form.
func TestGoldenCoverage(t *testing.T) {
	eventNames := map[string]bool{}
	for _, tc := range eventCases() {
		eventNames[tc.name] = true
	}
	for _, k := range duroxide.EventKinds() {
		require.True(t, eventNames[k.EventType()], "no event case for %s", k.EventType())
		require.FileExists(t, filepath.Join("testdata", "golden", "event", k.EventType()+".json"))
	}

	itemNames := map[string]bool{}
	for _, tc := range workItemCases() {
		itemNames[tc.name] = true
	}
	for _, w := range duroxide.WorkItemVariants() {
		require.True(t, itemNames[w.Variant()], "no work item case for %s", w.Variant())
		require.FileExists(t, filepath.Join("testdata", "golden", "workitem", w.Variant()+".json"))
	}

	seen := map[string]bool{}
	for _, tc := range detailsCases() {
		require.FileExists(t, filepath.Join("testdata", "golden", "errordetails", tc.name+".json"))
		seen[fmt.Sprintf("%T", tc.details)] = true
		switch d := tc.details.(type) {
		case duroxide.Application:
			seen[fmt.Sprintf("%T", d.Kind)] = true
		case duroxide.Poison:
			seen[fmt.Sprintf("%T", d.MessageType)] = true
		}
	}
	for _, v := range []any{
		duroxide.Infrastructure{}, duroxide.Configuration{}, duroxide.Application{}, duroxide.Poison{},
		duroxide.AppActivityFailed{}, duroxide.AppOrchestrationFailed{}, duroxide.AppPanicked{}, duroxide.AppCancelled{},
		duroxide.PoisonOrchestration{}, duroxide.PoisonActivity{}, duroxide.PoisonFailedDeserialization{},
	} {
		require.True(t, seen[fmt.Sprintf("%T", v)], "no error details golden covers %T", v)
	}
}

func TestRoundTripEvents(t *testing.T) {
	cases := eventCases()
	cases = append(cases,
		eventCase{"OrchestrationStarted_nilCarryForwardStaysNil", envelope(1, nil, duroxide.OrchestrationStarted{
			Name: "n", Version: "v", Input: "i", CarryForwardEvents: nil,
		})},
		eventCase{"OrchestrationStarted_emptyCarryForwardStaysEmpty", envelope(1, nil, duroxide.OrchestrationStarted{
			Name: "n", Version: "v", Input: "i", CarryForwardEvents: []duroxide.CarriedEvent{},
		})},
	)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			data, err := json.Marshal(tc.event)
			require.NoError(t, err)
			var got duroxide.Event
			require.NoError(t, json.Unmarshal(data, &got))
			require.Equal(t, tc.event, got)
		})
	}
}

func TestRoundTripWorkItems(t *testing.T) {
	for _, tc := range workItemCases() {
		t.Run(tc.name, func(t *testing.T) {
			data, err := json.Marshal(tc.item) // through the variant's MarshalJSON
			require.NoError(t, err)
			got, err := duroxide.UnmarshalWorkItem(data)
			require.NoError(t, err)
			require.Equal(t, tc.item, got)
		})
	}
}

func TestRoundTripErrorDetails(t *testing.T) {
	for _, tc := range detailsCases() {
		t.Run(tc.name, func(t *testing.T) {
			data, err := json.Marshal(tc.details) // through the variant's MarshalJSON
			require.NoError(t, err)
			got, err := duroxide.UnmarshalErrorDetails(data)
			require.NoError(t, err)
			require.Equal(t, tc.details, got)
		})
	}
}

// ContinueAsNew's carry_forward_events is a plain list on the wire: nil and
// empty both marshal as [] and both decode as nil.
func TestContinueAsNewCarryForwardEmptyDecodesNil(t *testing.T) {
	for _, events := range [][]duroxide.CarriedEvent{nil, {}} {
		data, err := duroxide.MarshalWorkItem(duroxide.ContinueAsNewItem{Instance: "i", Orchestration: "o", CarryForwardEvents: events})
		require.NoError(t, err)
		require.Equal(t, `{"ContinueAsNew":{"instance":"i","orchestration":"o","input":"","version":null,"carry_forward_events":[]}}`, string(data))
		got, err := duroxide.UnmarshalWorkItem(data)
		require.NoError(t, err)
		require.Nil(t, got.(duroxide.ContinueAsNewItem).CarryForwardEvents)
	}
	got, err := duroxide.UnmarshalWorkItem([]byte(`{"ContinueAsNew":{"instance":"i","orchestration":"o","input":"","version":null}}`))
	require.NoError(t, err)
	require.Equal(t, duroxide.ContinueAsNewItem{Instance: "i", Orchestration: "o"}, got)
}

// Marshalling a variant directly, or a slice of them, gives the same bytes
// as the package functions.
func TestVariantMarshalJSON(t *testing.T) {
	item := duroxide.CancelInstanceItem{Instance: "i", Reason: "r"}
	data, err := json.Marshal([]duroxide.WorkItem{item})
	require.NoError(t, err)
	require.Equal(t, `[{"CancelInstance":{"instance":"i","reason":"r"}}]`, string(data))

	data, err = json.Marshal(duroxide.Infrastructure{Operation: "o", Message: "m"})
	require.NoError(t, err)
	require.Equal(t, `{"Infrastructure":{"operation":"o","message":"m","retryable":false}}`, string(data))

	// encoding/json re-escapes <, >, & and U+2028 unless told not to.
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	msg := duroxide.QueueMessageItem{Data: "<&>\u2028"}
	require.NoError(t, enc.Encode(msg))
	want, err := duroxide.MarshalWorkItem(msg)
	require.NoError(t, err)
	require.Equal(t, string(want)+"\n", buf.String())

	events := []duroxide.Event{
		envelope(1, nil, duroxide.KeyValuesCleared{}),
		envelope(2, ptr(uint64(1)), duroxide.TimerFired{FireAtMs: 18446744073709551615}),
	}
	data, err = json.Marshal(events)
	require.NoError(t, err)
	var decoded []duroxide.Event
	require.NoError(t, json.Unmarshal(data, &decoded))
	require.Equal(t, events, decoded)
}

func TestDecodeContractExamples(t *testing.T) {
	t.Run("ActivityExecute without session or tag", func(t *testing.T) {
		got, err := duroxide.UnmarshalWorkItem([]byte(`{"ActivityExecute":{"instance":"i","execution_id":1,"id":1,"name":"Build","input":"{}"}}`))
		require.NoError(t, err)
		require.Equal(t, duroxide.ActivityExecuteItem{Instance: "i", ExecutionID: 1, ID: 1, Name: "Build", Input: "{}"}, got)
	})
	t.Run("KeyValuesCleared", func(t *testing.T) {
		var e duroxide.Event
		require.NoError(t, json.Unmarshal([]byte(
			`{"event_id":4,"source_event_id":null,"instance_id":"i","execution_id":1,"timestamp_ms":5,"duroxide_version":"0.1.8","type":"KeyValuesCleared"}`), &e))
		require.Equal(t, duroxide.Event{EventID: 4, InstanceID: "i", ExecutionID: 1, TimestampMs: 5, DuroxideVersion: "0.1.8", Kind: duroxide.KeyValuesCleared{}}, e)
	})
	t.Run("KeyValueSet without last_updated_at_ms", func(t *testing.T) {
		var e duroxide.Event
		require.NoError(t, json.Unmarshal([]byte(
			`{"event_id":4,"source_event_id":null,"instance_id":"i","execution_id":1,"timestamp_ms":5,"duroxide_version":"0.1.8","type":"KeyValueSet","key":"k","value":"v"}`), &e))
		require.Equal(t, duroxide.KeyValueSet{Key: "k", Value: "v", LastUpdatedAtMs: 0}, e.Kind)
	})
	t.Run("missing optional fields and unknown fields", func(t *testing.T) {
		var e duroxide.Event
		require.NoError(t, json.Unmarshal([]byte(
			`{"type":"OrchestrationStarted","name":"n","version":"v","input":"","event_id":1,"instance_id":"i","execution_id":1,"timestamp_ms":5,"duroxide_version":"0.1.8","future_field":{"x":[1]}}`), &e))
		require.Equal(t, duroxide.Event{EventID: 1, InstanceID: "i", ExecutionID: 1, TimestampMs: 5, DuroxideVersion: "0.1.8",
			Kind: duroxide.OrchestrationStarted{Name: "n", Version: "v"}}, e)
	})
	t.Run("u64 above 2^53", func(t *testing.T) {
		got, err := duroxide.UnmarshalWorkItem([]byte(`{"TimerFired":{"instance":"i","execution_id":18446744073709551615,"id":9007199254740993,"fire_at_ms":18446744073709551614}}`))
		require.NoError(t, err)
		require.Equal(t, duroxide.TimerFiredItem{Instance: "i", ExecutionID: 18446744073709551615, ID: 9007199254740993, FireAtMs: 18446744073709551614}, got)
	})
}

// TestDecodeNormalizes decodes inputs Rust also accepts and checks that
// re-marshalling gives what duroxide's serde_json writes for them (outputs
// taken from a serde round trip of the same input).
func TestDecodeNormalizes(t *testing.T) {
	env := `"event_id":1,"source_event_id":null,"instance_id":"i","execution_id":1,"timestamp_ms":5,"duroxide_version":"0.1.8"`
	events := []struct{ name, in, want string }{
		{"missing source_event_id and optionals, unknown field",
			`{"type":"OrchestrationStarted","name":"n","version":"v","input":"","event_id":1,"instance_id":"i","execution_id":1,"timestamp_ms":5,"duroxide_version":"0.1.8","future_field":{"x":[1]}}`,
			`{` + env + `,"type":"OrchestrationStarted","name":"n","version":"v","input":"","parent_instance":null,"parent_id":null}`},
		{"null carry_forward_events and initial_custom_status",
			`{` + env + `,"type":"OrchestrationStarted","name":"n","version":"v","input":"","carry_forward_events":null,"initial_custom_status":null}`,
			`{` + env + `,"type":"OrchestrationStarted","name":"n","version":"v","input":"","parent_instance":null,"parent_id":null}`},
		{"empty carry_forward_events kept",
			`{` + env + `,"type":"OrchestrationStarted","name":"n","version":"v","input":"","carry_forward_events":[]}`,
			`{` + env + `,"type":"OrchestrationStarted","name":"n","version":"v","input":"","parent_instance":null,"parent_id":null,"carry_forward_events":[]}`},
		{"KeyValueSet default timestamp",
			`{` + env + `,"type":"KeyValueSet","key":"k","value":"v"}`,
			`{` + env + `,"type":"KeyValueSet","key":"k","value":"v","last_updated_at_ms":0}`},
	}
	for _, tc := range events {
		t.Run(tc.name, func(t *testing.T) {
			var e duroxide.Event
			require.NoError(t, json.Unmarshal([]byte(tc.in), &e))
			got, err := e.MarshalJSON()
			require.NoError(t, err)
			require.Equal(t, tc.want, string(got))
		})
	}
	items := []struct{ name, in, want string }{
		{"StartOrchestration missing optionals",
			`{"StartOrchestration":{"instance":"i","orchestration":"o","input":"","execution_id":1}}`,
			`{"StartOrchestration":{"instance":"i","orchestration":"o","input":"","version":null,"parent_instance":null,"parent_id":null,"execution_id":1}}`},
		{"ContinueAsNew missing carry_forward_events",
			`{"ContinueAsNew":{"instance":"i","orchestration":"o","input":"","version":null}}`,
			`{"ContinueAsNew":{"instance":"i","orchestration":"o","input":"","version":null,"carry_forward_events":[]}}`},
	}
	for _, tc := range items {
		t.Run(tc.name, func(t *testing.T) {
			w, err := duroxide.UnmarshalWorkItem([]byte(tc.in))
			require.NoError(t, err)
			got, err := duroxide.MarshalWorkItem(w)
			require.NoError(t, err)
			require.Equal(t, tc.want, string(got))
		})
	}
	details := []struct{ name, in, want string }{
		{"unit variants in map form, missing Option",
			`{"Configuration":{"kind":{"Nondeterminism":null},"resource":"r"}}`,
			`{"Configuration":{"kind":"Nondeterminism","resource":"r","message":null}}`},
		{"app kind in map form",
			`{"Application":{"kind":{"Panicked":null},"message":"m","retryable":false}}`,
			`{"Application":{"kind":"Panicked","message":"m","retryable":false}}`},
	}
	for _, tc := range details {
		t.Run(tc.name, func(t *testing.T) {
			d, err := duroxide.UnmarshalErrorDetails([]byte(tc.in))
			require.NoError(t, err)
			got, err := duroxide.MarshalErrorDetails(d)
			require.NoError(t, err)
			require.Equal(t, tc.want, string(got))
		})
	}
}

const validEnvelope = `"event_id":1,"source_event_id":null,"instance_id":"i","execution_id":1,"timestamp_ms":5,"duroxide_version":"0.1.8"`

func TestDecodeErrors(t *testing.T) {
	decodeEvent := func(data []byte) error {
		var e duroxide.Event
		return e.UnmarshalJSON(data)
	}
	decodeItem := func(data []byte) error { _, err := duroxide.UnmarshalWorkItem(data); return err }
	decodeDetails := func(data []byte) error { _, err := duroxide.UnmarshalErrorDetails(data); return err }

	cases := []struct {
		name    string
		decode  func([]byte) error
		input   string
		unknown bool // the error must wrap ErrUnknownVariant
	}{
		{"event unknown type", decodeEvent, `{` + validEnvelope + `,"type":"FutureKind","x":1}`, true},
		{"event missing type", decodeEvent, `{` + validEnvelope + `}`, false},
		{"event type not a string", decodeEvent, `{` + validEnvelope + `,"type":3}`, false},
		{"event missing envelope field", decodeEvent, `{"event_id":1,"instance_id":"i","execution_id":1,"timestamp_ms":5,"type":"KeyValuesCleared"}`, false},
		{"event missing kind field", decodeEvent, `{` + validEnvelope + `,"type":"ActivityCompleted"}`, false},
		{"event null required field", decodeEvent, `{` + validEnvelope + `,"type":"ActivityCompleted","result":null}`, false},
		{"event negative id", decodeEvent, `{"event_id":-1,"source_event_id":null,"instance_id":"i","execution_id":1,"timestamp_ms":5,"duroxide_version":"v","type":"KeyValuesCleared"}`, false},
		{"event fractional id", decodeEvent, `{"event_id":1.5,"source_event_id":null,"instance_id":"i","execution_id":1,"timestamp_ms":5,"duroxide_version":"v","type":"KeyValuesCleared"}`, false},
		{"event u64 overflow", decodeEvent, `{"event_id":18446744073709551616,"source_event_id":null,"instance_id":"i","execution_id":1,"timestamp_ms":5,"duroxide_version":"v","type":"KeyValuesCleared"}`, false},
		{"event string for number", decodeEvent, `{` + validEnvelope + `,"type":"TimerCreated","fire_at_ms":"5"}`, false},
		{"event number for string", decodeEvent, `{` + validEnvelope + `,"type":"ActivityCompleted","result":5}`, false},
		{"event null last_updated_at_ms", decodeEvent, `{` + validEnvelope + `,"type":"KeyValueSet","key":"k","value":"v","last_updated_at_ms":null}`, false},
		{"event carried event not a pair", decodeEvent, `{` + validEnvelope + `,"type":"OrchestrationStarted","name":"n","version":"v","input":"","parent_instance":null,"parent_id":null,"carry_forward_events":[["a"]]}`, false},
		{"event unknown nested details", decodeEvent, `{` + validEnvelope + `,"type":"ActivityFailed","details":{"Cosmic":{}}}`, true},
		{"event duplicate key", decodeEvent, `{` + validEnvelope + `,"type":"KeyValuesCleared","type":"KeyValuesCleared"}`, false},
		{"event malformed", decodeEvent, `{"event_id":1,`, false},
		{"event trailing data", decodeEvent, `{` + validEnvelope + `,"type":"KeyValuesCleared"} {}`, false},
		{"event array", decodeEvent, `[1]`, false},
		{"event null", decodeEvent, `null`, false},
		{"event invalid utf-8", decodeEvent, `{` + validEnvelope + `,"type":"ActivityCompleted","result":"` + "\xff" + `"}`, false},

		{"work item unknown variant", decodeItem, `{"Teleport":{"instance":"i"}}`, true},
		{"work item unknown bare string", decodeItem, `"Teleport"`, true},
		{"work item bare string of struct variant", decodeItem, `"CancelInstance"`, false},
		{"work item two keys", decodeItem, `{"CancelInstance":{"instance":"i","reason":"r"},"QueueMessage":{"instance":"i","name":"n","data":"d"}}`, false},
		{"work item no keys", decodeItem, `{}`, false},
		{"work item null body", decodeItem, `{"CancelInstance":null}`, false},
		{"work item missing field", decodeItem, `{"CancelInstance":{"instance":"i"}}`, false},
		{"work item wrong type", decodeItem, `{"TimerFired":{"instance":"i","execution_id":1,"id":"1","fire_at_ms":1}}`, false},
		{"work item null carry_forward_events", decodeItem, `{"ContinueAsNew":{"instance":"i","orchestration":"o","input":"","version":null,"carry_forward_events":null}}`, false},
		{"work item nested unknown details", decodeItem, `{"SubOrchFailed":{"parent_instance":"p","parent_execution_id":1,"parent_id":1,"details":{"Application":{"kind":"Exploded","message":"m","retryable":false}}}}`, true},
		{"work item malformed", decodeItem, `{"CancelInstance":`, false},
		{"work item trailing comma", decodeItem, `{"CancelInstance":{"instance":"i","reason":"r",}}`, false},
		{"work item missing colon", decodeItem, `{"CancelInstance" {"instance":"i","reason":"r"}}`, false},
		{"work item trailing data", decodeItem, `{"CancelInstance":{"instance":"i","reason":"r"}}x`, false},
		{"work item empty", decodeItem, ``, false},
		{"work item number", decodeItem, `42`, false},

		{"details unknown variant", decodeDetails, `{"Cosmic":{"message":"m"}}`, true},
		{"details unknown config kind", decodeDetails, `{"Configuration":{"kind":"Unregistered","resource":"r","message":null}}`, true},
		{"details unknown app kind", decodeDetails, `{"Application":{"kind":"Exploded","message":"m","retryable":false}}`, true},
		{"details unknown poison type", decodeDetails, `{"Poison":{"attempt_count":1,"max_attempts":1,"message_type":{"Timer":{}},"message":""}}`, true},
		{"details cancelled as bare string", decodeDetails, `{"Application":{"kind":"Cancelled","message":"m","retryable":false}}`, false},
		{"details unit kind with payload", decodeDetails, `{"Application":{"kind":{"Panicked":{"x":1}},"message":"m","retryable":false}}`, false},
		{"details two keys", decodeDetails, `{"Infrastructure":{"operation":"o","message":"m","retryable":true},"Poison":{}}`, false},
		{"details nested two keys", decodeDetails, `{"Application":{"kind":{"Cancelled":{"reason":"r"},"Panicked":null},"message":"m","retryable":false}}`, false},
		{"details u32 overflow", decodeDetails, `{"Poison":{"attempt_count":4294967296,"max_attempts":1,"message_type":{"Orchestration":{"instance":"i","execution_id":1}},"message":""}}`, false},
		{"details bool as string", decodeDetails, `{"Infrastructure":{"operation":"o","message":"m","retryable":"true"}}`, false},
		{"details malformed", decodeDetails, `{"Infrastructure":{"operation":"o"`, false},
		{"details null", decodeDetails, `null`, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			require.NotPanics(t, func() { err = tc.decode([]byte(tc.input)) })
			require.Error(t, err)
			require.True(t, strings.HasPrefix(err.Error(), "duroxide: decode "), err.Error())
			if tc.unknown {
				require.ErrorIs(t, err, duroxide.ErrUnknownVariant)
			} else {
				require.NotErrorIs(t, err, duroxide.ErrUnknownVariant)
			}
		})
	}
}

func TestUnknownVariantMessageNamesTag(t *testing.T) {
	var e duroxide.Event
	err := json.Unmarshal([]byte(`{`+validEnvelope+`,"type":"FutureKind"}`), &e)
	require.ErrorIs(t, err, duroxide.ErrUnknownVariant)
	require.Contains(t, err.Error(), `"FutureKind"`)
	require.Equal(t, duroxide.Event{}, e, "a failed decode leaves the event unchanged")

	_, err = duroxide.UnmarshalWorkItem([]byte(`{"Teleport":{}}`))
	require.ErrorIs(t, err, duroxide.ErrUnknownVariant)
	require.Contains(t, err.Error(), `"Teleport"`)
}

func TestMarshalErrors(t *testing.T) {
	cases := []struct {
		name    string
		marshal func() ([]byte, error)
	}{
		{"event nil kind", func() ([]byte, error) { return envelope(1, nil, nil).MarshalJSON() }},
		{"event pointer kind", func() ([]byte, error) {
			return envelope(1, nil, (*duroxide.ActivityCompleted)(nil)).MarshalJSON()
		}},
		{"event nil details", func() ([]byte, error) { return json.Marshal(envelope(1, nil, duroxide.ActivityFailed{})) }},
		{"nil work item", func() ([]byte, error) { return duroxide.MarshalWorkItem(nil) }},
		{"pointer work item", func() ([]byte, error) { return duroxide.MarshalWorkItem(&duroxide.CancelInstanceItem{}) }},
		{"work item nil details", func() ([]byte, error) { return duroxide.MarshalWorkItem(duroxide.SubOrchFailedItem{}) }},
		{"nil details", func() ([]byte, error) { return duroxide.MarshalErrorDetails(nil) }},
		{"nil app kind", func() ([]byte, error) { return duroxide.MarshalErrorDetails(duroxide.Application{Message: "m"}) }},
		{"nil poison type", func() ([]byte, error) { return duroxide.MarshalErrorDetails(duroxide.Poison{}) }},
		{"unknown config kind", func() ([]byte, error) {
			return duroxide.MarshalErrorDetails(duroxide.Configuration{Kind: "Unregistered", Resource: "r"})
		}},
		{"empty config kind", func() ([]byte, error) { return json.Marshal(duroxide.Configuration{}) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var (
				data []byte
				err  error
			)
			require.NotPanics(t, func() { data, err = tc.marshal() })
			require.ErrorIs(t, err, duroxide.ErrUnknownVariant)
			require.Nil(t, data)
		})
	}
}

// Strings are escaped the way serde_json escapes them, and decode back to
// the same Go string.
func TestStringEscaping(t *testing.T) {
	cases := []struct{ in, want string }{
		{"plain", `"plain"`},
		{"q\"b\\", `"q\"b\\"`},
		{"\b\t\n\f\r", `"\b\t\n\f\r"`},
		{"\x00\x01\x1f\x7f", `"\u0000\u0001\u001f` + "\x7f" + `"`},
		{"<a>&", `"<a>&"`},
		{"é\u2028\u2029😀", "\"é\u2028\u2029😀\""},
	}
	for _, tc := range cases {
		data, err := duroxide.MarshalWorkItem(duroxide.QueueMessageItem{Data: tc.in})
		require.NoError(t, err)
		require.Equal(t, `{"QueueMessage":{"instance":"","name":"","data":`+tc.want+`}}`, string(data))
		got, err := duroxide.UnmarshalWorkItem(data)
		require.NoError(t, err)
		require.Equal(t, tc.in, got.(duroxide.QueueMessageItem).Data)
	}

	// Invalid UTF-8, which a Rust string cannot hold, is written as U+FFFD.
	data, err := duroxide.MarshalWorkItem(duroxide.QueueMessageItem{Data: "a\xffb"})
	require.NoError(t, err)
	require.Equal(t, `{"QueueMessage":{"instance":"","name":"","data":"a`+"\ufffd"+`b"}}`, string(data))
}
