package spec

import (
	"time"

	"github.com/stretchr/testify/require"

	"github.com/duroxide-go/duroxide"
)

// Fixed values shared by the cases, as in duroxide's suite.
const (
	testOrch    = "TestOrch"
	testVersion = "1.0.0"
	// longLock is the lock duration of cases that must not see expiry.
	longLock = 30 * time.Second
)

func ptr[V any](v V) *V { return &v }

// startItem is duroxide's start_item: TestOrch, input "{}", version 1.0.0,
// execution 1, no parent.
func startItem(instance string) duroxide.StartOrchestrationItem {
	return duroxide.StartOrchestrationItem{
		Instance:      instance,
		Orchestration: testOrch,
		Input:         "{}",
		Version:       ptr(testVersion),
		ExecutionID:   duroxide.InitialExecutionID,
	}
}

// startedEvent is an OrchestrationStarted event of execution 1 with the given
// event id and version.
func startedEvent(instance string, eventID uint64, version string) duroxide.Event {
	return duroxide.Event{
		EventID:         eventID,
		InstanceID:      instance,
		ExecutionID:     duroxide.InitialExecutionID,
		DuroxideVersion: "0.1.26",
		Kind: duroxide.OrchestrationStarted{
			Name:    testOrch,
			Version: version,
			Input:   "{}",
		},
	}
}

// event builds an event of execution 1.
func event(instance string, eventID uint64, kind duroxide.EventKind) duroxide.Event {
	return duroxide.Event{
		EventID:         eventID,
		InstanceID:      instance,
		ExecutionID:     duroxide.InitialExecutionID,
		DuroxideVersion: "0.1.26",
		Kind:            kind,
	}
}

// activityItem is an untagged, session-less ActivityExecute of execution 1.
func activityItem(instance string, id uint64) duroxide.ActivityExecuteItem {
	return duroxide.ActivityExecuteItem{
		Instance:    instance,
		ExecutionID: duroxide.InitialExecutionID,
		ID:          id,
		Name:        "TestActivity",
		Input:       "{}",
	}
}

// externalItem is an ExternalRaised with data "{}".
func externalItem(instance, name string) duroxide.ExternalRaisedItem {
	return duroxide.ExternalRaisedItem{Instance: instance, Name: name, Data: "{}"}
}

// completedItem is an ActivityCompleted of execution 1.
func completedItem(instance string, id uint64, result string) duroxide.ActivityCompletedItem {
	return duroxide.ActivityCompletedItem{Instance: instance, ExecutionID: duroxide.InitialExecutionID, ID: id, Result: result}
}

// nameVersion is metadata that creates the instance record.
func nameVersion(name, version string) duroxide.ExecutionMetadata {
	return duroxide.ExecutionMetadata{OrchestrationName: ptr(name), OrchestrationVersion: ptr(version)}
}

// enqueueOrch enqueues item to the orchestrator queue with no delay.
func enqueueOrch(t T, h *Harness, item duroxide.WorkItem) {
	t.Helper()
	require.NoError(t, h.Provider.EnqueueForOrchestrator(t.Context(), item, 0), "Provider.EnqueueForOrchestrator(%s)", item.Variant())
}

// enqueueWorker enqueues item to the worker queue.
func enqueueWorker(t T, h *Harness, item duroxide.WorkItem) {
	t.Helper()
	require.NoError(t, h.Provider.EnqueueForWorker(t.Context(), item), "Provider.EnqueueForWorker(%s)", item.Variant())
}

// fetchOrch fetches with no poll and no filter; nil means no work.
func fetchOrch(t T, h *Harness, lock time.Duration) *duroxide.LockedOrchestrationItem {
	t.Helper()
	item, err := h.Provider.FetchOrchestrationItem(t.Context(), lock, 0, nil)
	require.NoError(t, err, "Provider.FetchOrchestrationItem")
	return item
}

// mustFetchOrch fetches and requires an item.
func mustFetchOrch(t T, h *Harness, lock time.Duration) *duroxide.LockedOrchestrationItem {
	t.Helper()
	item := fetchOrch(t, h, lock)
	require.NotNil(t, item, "Provider.FetchOrchestrationItem returned no work")
	return item
}

// requireNoOrch requires that an orchestration fetch finds no work.
func requireNoOrch(t T, h *Harness, msgAndArgs ...any) {
	t.Helper()
	if item := fetchOrch(t, h, longLock); item != nil {
		t.Errorf("expected no orchestration work, got instance %q with %d message(s)", item.Instance, len(item.Messages))
		require.Nil(t, item, msgAndArgs...)
	}
}

// fetchWork fetches a worker item with no poll, no session and DefaultOnly.
func fetchWork(t T, h *Harness, lock time.Duration) *duroxide.LockedWorkItem {
	t.Helper()
	item, err := h.Provider.FetchWorkItem(t.Context(), lock, 0, nil, duroxide.FilterDefaultOnly())
	require.NoError(t, err, "Provider.FetchWorkItem")
	return item
}

// mustFetchWork fetches and requires a worker item.
func mustFetchWork(t T, h *Harness, lock time.Duration) *duroxide.LockedWorkItem {
	t.Helper()
	item := fetchWork(t, h, lock)
	require.NotNil(t, item, "Provider.FetchWorkItem returned no work")
	return item
}

// ack acks a fetched orchestration item and requires success.
func ack(t T, h *Harness, token string, a duroxide.OrchestrationAck) {
	t.Helper()
	require.NoError(t, h.Provider.AckOrchestrationItem(t.Context(), token, a), "Provider.AckOrchestrationItem")
}

// createInstance is duroxide's create_instance: enqueue a start, fetch it and
// ack execution 1 with one OrchestrationStarted and name/version metadata.
// It assumes nothing else is visible in the orchestrator queue.
func createInstance(t T, h *Harness, instance string) {
	t.Helper()
	enqueueOrch(t, h, startItem(instance))
	item := mustFetchOrch(t, h, longLock)
	require.Equal(t, instance, item.Instance, "create_instance fetched another instance")
	ack(t, h, item.LockToken, duroxide.OrchestrationAck{
		ExecutionID:  duroxide.InitialExecutionID,
		HistoryDelta: []duroxide.Event{startedEvent(instance, duroxide.InitialEventID, testVersion)},
		Metadata:     nameVersion(testOrch, testVersion),
	})
}

// read reads the latest execution's history and requires success.
func read(t T, h *Harness, instance string) []duroxide.Event {
	t.Helper()
	events, err := h.Provider.Read(t.Context(), instance)
	require.NoError(t, err, "Provider.Read(%q)", instance)
	return events
}

// requirePermanent requires err to be a non-retryable ProviderError.
func requirePermanent(t T, err error, msgAndArgs ...any) {
	t.Helper()
	require.Error(t, err, msgAndArgs...)
	var pe *duroxide.ProviderError
	require.ErrorAs(t, err, &pe, "every provider error must be a *duroxide.ProviderError (docs/provider-semantics.md, \"4. Errors\")")
	require.False(t, pe.Retryable, "error must be permanent (Retryable false), as the same call cannot succeed later (docs/provider-semantics.md, \"4. Errors\"): %v", err)
}

// eventIDs returns the event ids of events.
func eventIDs(events []duroxide.Event) []uint64 {
	ids := make([]uint64, len(events))
	for i, e := range events {
		ids[i] = e.EventID
	}
	return ids
}
