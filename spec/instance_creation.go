package spec

import (
	"github.com/stretchr/testify/require"

	"github.com/duroxide-go/duroxide"
)

// instanceCreationCases: instances are created by the first ack whose
// metadata names them, never by enqueue or fetch, and the stored version
// wins over the version a message carries.
func instanceCreationCases() []Case {
	return []Case{
		{"instance_creation", "instance_creation_via_metadata", instanceCreationViaMetadata, Required},
		{"instance_creation", "no_instance_creation_on_enqueue", noInstanceCreationOnEnqueue, Required},
		{"instance_creation", "null_version_handling", nullVersionHandling, Required},
		{"instance_creation", "sub_orchestration_instance_creation", subOrchestrationInstanceCreation, Required},
	}
}

// instanceCreationRequireInstance requires an instance record with the given
// name and version whose execution 1 is Running.
func instanceCreationRequireInstance(t T, admin duroxide.ProviderAdmin, instance, name, version string) {
	t.Helper()
	info, err := admin.GetInstanceInfo(t.Context(), instance)
	require.NoError(t, err, "get_instance_info(%q)", instance)
	require.Equal(t, instance, info.InstanceID)
	require.Equal(t, name, info.OrchestrationName)
	require.Equal(t, version, info.OrchestrationVersion)
	require.Equal(t, duroxide.InitialExecutionID, info.CurrentExecutionID)
	require.Equal(t, duroxide.StatusRunning, info.Status, "an execution acked without a status is Running")
}

// Before any ack, fetch derives name and execution from the
// StartOrchestration; the first ack's metadata creates the instance, and its
// version then wins over the version of later StartOrchestration messages.
func instanceCreationViaMetadata(t T, h *Harness) {
	const inst = "instance-A"
	enqueueOrch(t, h, startItem(inst))
	item := fetchInstance(t, h, inst)
	require.Equal(t, testOrch, item.OrchestrationName, "name comes from the StartOrchestration")
	require.Equal(t, duroxide.InitialExecutionID, item.ExecutionID)
	require.Empty(t, item.History)
	// Stronger than duroxide: the version is the message's or "unknown",
	// never anything else (duroxide leaves it unchecked).
	require.Contains(t, []string{testVersion, duroxide.UnknownVersion}, item.Version)

	ack(t, h, item.LockToken, duroxide.OrchestrationAck{
		ExecutionID:  duroxide.InitialExecutionID,
		HistoryDelta: []duroxide.Event{startedEvent(inst, 1, "2.0.0")},
		Metadata:     nameVersion(testOrch, "2.0.0"),
	})

	enqueueOrch(t, h, startItem(inst)) // says version 1.0.0
	item2 := fetchInstance(t, h, inst)
	require.Equal(t, testOrch, item2.OrchestrationName)
	require.Equal(t, "2.0.0", item2.Version, "the stored version wins over the message's")
	require.Equal(t, duroxide.InitialExecutionID, item2.ExecutionID)
	require.Len(t, item2.History, 1)
	// Stronger than duroxide: the history is the acked OrchestrationStarted,
	// and the batch holds exactly the new StartOrchestration.
	started, ok := item2.History[0].Kind.(duroxide.OrchestrationStarted)
	require.True(t, ok, "history[0] must be OrchestrationStarted, got %T", item2.History[0].Kind)
	require.Equal(t, "2.0.0", started.Version)
	require.Len(t, item2.Messages, 1)
	require.IsType(t, duroxide.StartOrchestrationItem{}, item2.Messages[0])

	ackEmpty(t, h, item2.LockToken)
}

// Enqueuing a StartOrchestration does not create the instance, yet the
// instance can be fetched; the first ack with name and version creates it.
func noInstanceCreationOnEnqueue(t T, h *Harness) {
	const inst = "instance-B"
	enqueueOrch(t, h, startItem(inst))
	item := fetchOrch(t, h, longLock)
	require.NotNil(t, item, "an instance without a record must be fetchable")
	require.Equal(t, inst, item.Instance)

	// Stronger than duroxide (which checks nothing about the record, despite
	// the name): neither the enqueue nor the fetch created an instance record.
	// These checks need the management API; without it the duroxide checks
	// still run and the case then skips.
	admin := h.Provider.AsManagementCapability()
	if admin != nil {
		requireNoInstance(t, admin, inst, "enqueue and fetch must not create the instance")
		list, err := admin.ListInstances(t.Context())
		require.NoError(t, err, "list_instances")
		require.Empty(t, list, "no instance may exist before the first ack")
	}

	ack(t, h, item.LockToken, duroxide.OrchestrationAck{
		ExecutionID:  duroxide.InitialExecutionID,
		HistoryDelta: []duroxide.Event{startedEvent(inst, 1, testVersion)},
		Metadata:     nameVersion(testOrch, testVersion),
	})

	if admin == nil {
		admin = h.Admin(t) // skips, with the reason
	}
	// Stronger than duroxide: the ack created exactly this instance.
	instanceCreationRequireInstance(t, admin, inst, testOrch, testVersion)
	list, err := admin.ListInstances(t.Context())
	require.NoError(t, err, "list_instances")
	require.Equal(t, []string{inst}, list)
}

// A StartOrchestration without a version is fetchable; the version in the
// first ack's metadata is stored and reported by later fetches.
func nullVersionHandling(t T, h *Harness) {
	const inst = "instance-C"
	start := startItem(inst)
	start.Version = nil
	enqueueOrch(t, h, start)

	item := fetchInstance(t, h, inst)
	// Stronger than duroxide: with no version anywhere the fetch reports
	// "unknown", and the message's absent version round-trips as absent.
	require.Equal(t, duroxide.UnknownVersion, item.Version)
	require.Equal(t, testOrch, item.OrchestrationName)
	require.Len(t, item.Messages, 1)
	msg, ok := item.Messages[0].(duroxide.StartOrchestrationItem)
	require.True(t, ok, "message must be StartOrchestration, got %T", item.Messages[0])
	require.Nil(t, msg.Version, "an absent version must stay absent")

	ack(t, h, item.LockToken, duroxide.OrchestrationAck{
		ExecutionID:  duroxide.InitialExecutionID,
		HistoryDelta: []duroxide.Event{startedEvent(inst, 1, "3.0.0")},
		Metadata:     nameVersion(testOrch, "3.0.0"),
	})

	enqueueOrch(t, h, startItem(inst))
	item2 := fetchInstance(t, h, inst)
	require.Equal(t, "3.0.0", item2.Version, "the version from the ack metadata must be stored")
	ackEmpty(t, h, item2.LockToken)
}

// A StartOrchestration for a child, enqueued through the parent's ack, is
// routed to the child and fetchable before the child exists; the child's
// first ack creates it with the version from its metadata.
func subOrchestrationInstanceCreation(t T, h *Harness) {
	const (
		parent = "parent-instance"
		child  = "parent-instance::child-instance"
	)
	enqueueOrch(t, h, startItem(parent))
	pItem := mustFetchOrch(t, h, longLock)
	parentStarted := startedEvent(parent, 1, testVersion)
	parentStarted.Kind = duroxide.OrchestrationStarted{Name: "ParentOrch", Version: testVersion, Input: "{}"}
	ack(t, h, pItem.LockToken, duroxide.OrchestrationAck{
		ExecutionID:  duroxide.InitialExecutionID,
		HistoryDelta: []duroxide.Event{parentStarted},
		OrchestratorItems: []duroxide.WorkItem{duroxide.StartOrchestrationItem{
			Instance:       child,
			Orchestration:  "ChildOrch",
			Input:          "{}",
			ParentInstance: ptr(parent),
			ParentID:       ptr(uint64(1)),
			ExecutionID:    duroxide.InitialExecutionID,
		}},
		Metadata: nameVersion("ParentOrch", testVersion),
	})

	cItem := fetchInstance(t, h, child)
	require.Equal(t, "ChildOrch", cItem.OrchestrationName)
	// Stronger than duroxide: the child's batch is exactly the
	// StartOrchestration with its parent fields intact, and the child starts
	// at execution 1 with no history.
	require.Equal(t, duroxide.InitialExecutionID, cItem.ExecutionID)
	require.Empty(t, cItem.History)
	require.Len(t, cItem.Messages, 1)
	msg, ok := cItem.Messages[0].(duroxide.StartOrchestrationItem)
	require.True(t, ok, "child message must be StartOrchestration, got %T", cItem.Messages[0])
	require.Equal(t, ptr(parent), msg.ParentInstance)
	require.Equal(t, ptr(uint64(1)), msg.ParentID)

	childStarted := startedEvent(child, 1, "1.5.0")
	childStarted.Kind = duroxide.OrchestrationStarted{
		Name: "ChildOrch", Version: "1.5.0", Input: "{}",
		ParentInstance: ptr(parent), ParentID: ptr(uint64(1)),
	}
	// Stronger than duroxide: the parent's ack, which enqueued the child's
	// start, did not create the child, and the child's ack did. These checks
	// need the management API; without it the duroxide checks still run and
	// the case then skips.
	admin := h.Provider.AsManagementCapability()
	if admin != nil {
		requireNoInstance(t, admin, child, "enqueuing the child's start must not create it")
	}

	ack(t, h, cItem.LockToken, duroxide.OrchestrationAck{
		ExecutionID:  duroxide.InitialExecutionID,
		HistoryDelta: []duroxide.Event{childStarted},
		// No parent_instance_id, as in duroxide.
		Metadata: nameVersion("ChildOrch", "1.5.0"),
	})
	if admin != nil {
		instanceCreationRequireInstance(t, admin, child, "ChildOrch", "1.5.0")
	}

	enqueueOrch(t, h, duroxide.StartOrchestrationItem{
		Instance:      child,
		Orchestration: "ChildOrch",
		Input:         "{}",
		ExecutionID:   duroxide.InitialExecutionID,
	})
	cItem2 := fetchInstance(t, h, child)
	require.Equal(t, "1.5.0", cItem2.Version, "the stored version wins over the absent one")
	ackEmpty(t, h, cItem2.LockToken)
	if admin == nil {
		h.Admin(t) // skips, with the reason
	}
}
