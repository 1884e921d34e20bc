package duroxide_test

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/duroxide-go/duroxide"
)

// Work items travel in duroxide's serde shape, so a Go provider can share a
// store with Rust runtimes.
func ExampleMarshalWorkItem() {
	b, err := duroxide.MarshalWorkItem(duroxide.ActivityExecuteItem{
		Instance: "order-42", ExecutionID: 1, ID: 2, Name: "Charge", Input: `{"amount":10}`,
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(string(b))

	w, err := duroxide.UnmarshalWorkItem(b)
	if err != nil {
		panic(err)
	}
	fmt.Printf("%s %q\n", w.Variant(), w.(duroxide.ActivityExecuteItem).Name)

	_, err = duroxide.UnmarshalWorkItem([]byte(`{"FutureVariant":{}}`))
	fmt.Println(errors.Is(err, duroxide.ErrUnknownVariant))
	// Output:
	// {"ActivityExecute":{"instance":"order-42","execution_id":1,"id":2,"name":"Charge","input":"{\"amount\":10}"}}
	// ActivityExecute "Charge"
	// true
}

// An Event is one flat JSON object: the envelope plus the kind's fields,
// discriminated by "type".
func ExampleEvent_MarshalJSON() {
	ev := duroxide.Event{
		EventID: 2, InstanceID: "order-42", ExecutionID: 1, TimestampMs: 1767225600000, DuroxideVersion: "0.1.26",
		Kind: duroxide.ActivityScheduled{Name: "Charge", Input: "{}"},
	}
	b, err := json.Marshal(ev)
	if err != nil {
		panic(err)
	}
	fmt.Println(string(b))
	// Output:
	// {"event_id":2,"source_event_id":null,"instance_id":"order-42","execution_id":1,"timestamp_ms":1767225600000,"duroxide_version":"0.1.26","type":"ActivityScheduled","name":"Charge","input":"{}"}
}

// Provider errors say whether a retry may succeed, and wrap sentinels.
func ExampleProviderError() {
	err := fmt.Errorf("turn failed: %w", duroxide.Permanent("ack_orchestration_item", duroxide.ErrInvalidLockToken, "Invalid lock token %q", "t-1"))
	fmt.Println(err)
	fmt.Println(errors.Is(err, duroxide.ErrInvalidLockToken), duroxide.IsRetryable(err))
	// Output:
	// turn failed: ack_orchestration_item: Invalid lock token "t-1"
	// true false
}
