package spec

import (
	"strings"

	"github.com/stretchr/testify/require"

	"github.com/duroxide-go/duroxide"
)

// kvStoreCases: an instance's key/value state lives in two tiers. Every ack
// applies its KV events to the current execution's delta; an ack with a
// terminal status merges the delta into the store. Fetch snapshots show the
// store only; client reads show the store overlaid by the delta. KV belongs
// to the instance: prune never touches it, deletion removes both tiers.
func kvStoreCases() []Case {
	return []Case{
		{"kv_store", "kv_set_and_get", kvSetAndGet, Required},
		{"kv_store", "kv_overwrite", kvOverwrite, Required},
		{"kv_store", "kv_clear_single", kvClearSingle, Required},
		{"kv_store", "kv_clear_all", kvClearAll, Required},
		{"kv_store", "kv_get_nonexistent", kvGetNonexistent, Required},
		{"kv_store", "kv_snapshot_in_fetch", kvSnapshotInFetch, Required},
		{"kv_store", "kv_snapshot_after_clear_single", kvSnapshotAfterClearSingle, Required},
		{"kv_store", "kv_snapshot_after_clear_all", kvSnapshotAfterClearAll, Required},
		{"kv_store", "kv_execution_id_tracking", kvExecutionIDTracking, Required},
		{"kv_store", "kv_cross_execution_overwrite", kvCrossExecutionOverwrite, Required},
		{"kv_store", "kv_cross_execution_remove_readd", kvCrossExecutionRemoveReadd, Required},
		{"kv_store", "kv_prune_preserves_overwritten", kvPrunePreservesOverwritten, Required},
		{"kv_store", "kv_prune_preserves_all_keys", kvPrunePreservesAllKeys, Required},
		{"kv_store", "kv_instance_isolation", kvInstanceIsolation, Required},
		{"kv_store", "kv_delete_instance_cascades", kvDeleteInstanceCascades, Required},
		{"kv_store", "kv_clear_nonexistent_key", kvClearNonexistentKey, Required},
		{"kv_store", "kv_get_unknown_instance", kvGetUnknownInstance, Required},
		{"kv_store", "kv_set_after_clear", kvSetAfterClear, Required},
		{"kv_store", "kv_empty_value", kvEmptyValue, Required},
		{"kv_store", "kv_large_value", kvLargeValue, Required},
		{"kv_store", "kv_special_chars_in_key", kvSpecialCharsInKey, Required},
		{"kv_store", "kv_snapshot_empty", kvSnapshotEmpty, Required},
		{"kv_store", "kv_snapshot_cross_execution", kvSnapshotCrossExecution, Required},
		{"kv_store", "kv_prune_current_execution_protected", kvPruneCurrentExecutionProtected, Required},
		{"kv_store", "kv_delete_instance_with_children", kvDeleteInstanceWithChildren, Required},
		{"kv_store", "kv_clear_isolation", kvClearIsolation, Required},
		{"kv_store", "kv_delta_snapshot_excludes_current_execution", kvDeltaSnapshotExcludesCurrentExecution, Required},
		{"kv_store", "kv_delta_snapshot_includes_completed_execution", kvDeltaSnapshotIncludesCompletedExecution, Required},
		{"kv_store", "kv_delta_client_reads_merged", kvDeltaClientReadsMerged, Required},
		{"kv_store", "kv_delta_tombstone_overrides_store", kvDeltaTombstoneOverridesStore, Required},
		{"kv_store", "kv_delta_clear_all_tombstones_store", kvDeltaClearAllTombstonesStore, Required},
		{"kv_store", "kv_delta_merged_on_completion", kvDeltaMergedOnCompletion, Required},
		{"kv_store", "kv_delta_merged_on_can", kvDeltaMergedOnCan, Required},
		{"kv_store", "kv_delta_delete_instance_cascades", kvDeltaDeleteInstanceCascades, Required},
		{"kv_store", "kv_delta_prune_untouched_key_survives", kvDeltaPruneUntouchedKeySurvives, Required},
		// Not in duroxide:
		{"kv_store", "kv_all_values_overlay", kvAllValuesOverlay, Required},
		{"kv_store", "kv_delta_merged_on_failure", kvDeltaMergedOnFailure, Required},
		{"kv_store", "kv_delta_not_merged_on_running_status", kvDeltaNotMergedOnRunningStatus, Required},
		{"kv_store", "kv_final_turn_mutations_merged", kvFinalTurnMutationsMerged, Required},
		{"kv_store", "kv_merge_keeps_last_updated_at", kvMergeKeepsLastUpdatedAt, Required},
		{"kv_store", "kv_merge_isolation", kvMergeIsolation, Required},
		{"kv_store", "kv_failed_ack_applies_nothing", kvFailedAckAppliesNothing, Required},
		{"kv_store", "kv_results_not_aliased", kvResultsNotAliased, Required},
		{"kv_store", "kv_snapshot_empty_on_history_error", kvSnapshotEmptyOnHistoryError, Required},
		{"kv_store", "kv_append_with_execution_no_kv_effects", kvAppendWithExecutionNoKVEffects, Required},
		{"kv_store", "kv_prune_bulk_preserves_kv", kvPruneBulkPreservesKV, Required},
		{"kv_store", "kv_delete_atomic_and_bulk_cascade", kvDeleteAtomicAndBulkCascade, Required},
		{"kv_store", "kv_empty_instance_id_rejected", kvEmptyInstanceIDRejected, Strict},
		{"kv_store", "kv_applied_without_instance_record", kvAppliedWithoutInstanceRecord, Required},
		{"kv_store", "kv_empty_key_is_a_key", kvEmptyKeyIsAKey, Required},
	}
}

// kvStoreStamp is the LastUpdatedAtMs the cases give the KeyValueSet with
// event id id: non-zero, distinct per event, a realistic Unix ms time.
func kvStoreStamp(id uint64) uint64 { return 1_700_000_000_000 + id }

// kvStoreSet is a KeyValueSet event with id id, stamped kvStoreStamp(id).
func kvStoreSet(instance string, exec, id uint64, key, value string) duroxide.Event {
	return execEvent(instance, exec, id, duroxide.KeyValueSet{Key: key, Value: value, LastUpdatedAtMs: kvStoreStamp(id)})
}

// kvStoreClear is a KeyValueCleared event.
func kvStoreClear(instance string, exec, id uint64, key string) duroxide.Event {
	return execEvent(instance, exec, id, duroxide.KeyValueCleared{Key: key})
}

// kvStoreClearAll is a KeyValuesCleared event.
func kvStoreClearAll(instance string, exec, id uint64) duroxide.Event {
	return execEvent(instance, exec, id, duroxide.KeyValuesCleared{})
}

// kvStoreEntry is the store entry a kvStoreSet with id setID leaves behind.
func kvStoreEntry(value string, setID uint64) duroxide.KvEntry {
	return duroxide.KvEntry{Value: value, LastUpdatedAtMs: kvStoreStamp(setID)}
}

// kvStoreTurn pokes and fetches instance, then acks execution exec with md
// and events. It returns the fetched item.
func kvStoreTurn(t T, h *Harness, instance string, exec uint64, md duroxide.ExecutionMetadata, events ...duroxide.Event) *duroxide.LockedOrchestrationItem {
	t.Helper()
	return runTurn(t, h, instance, externalItem(instance, "poke"), exec, events, md)
}

// kvStoreAckDelta is duroxide's ack_with_delta: one turn of execution exec
// carrying events, with empty metadata (no status: nothing merges).
func kvStoreAckDelta(t T, h *Harness, instance string, exec uint64, events ...duroxide.Event) {
	t.Helper()
	kvStoreTurn(t, h, instance, exec, duroxide.ExecutionMetadata{}, events...)
}

// kvStoreSnapshot runs an empty turn of execution exec and returns the
// KV snapshot its fetch carried.
func kvStoreSnapshot(t T, h *Harness, instance string, exec uint64) map[string]duroxide.KvEntry {
	t.Helper()
	return kvStoreTurn(t, h, instance, exec, duroxide.ExecutionMetadata{}).KVSnapshot
}

// kvStoreFinish acks a turn of execution exec that ends it with status,
// carrying events before the terminal event (id 9999).
func kvStoreFinish(t T, h *Harness, instance string, exec uint64, status duroxide.ExecutionStatus, events ...duroxide.Event) {
	t.Helper()
	md := nameVersion(testOrch, testVersion)
	md.Status = status
	var terminal duroxide.EventKind
	switch status {
	case duroxide.StatusCompleted:
		md.Output = ptr("done")
		terminal = duroxide.OrchestrationCompleted{Output: "done"}
	case duroxide.StatusFailed:
		details := duroxide.Application{Kind: duroxide.AppOrchestrationFailed{}, Message: "boom"}
		md.Output = ptr(details.DisplayMessage())
		terminal = duroxide.OrchestrationFailed{Details: details}
	default:
		require.FailNow(t, "kvStoreFinish: unsupported status", "%q", status)
	}
	events = append(events, execEvent(instance, exec, 9999, terminal))
	kvStoreTurn(t, h, instance, exec, md, events...)
}

// kvStoreComplete is duroxide's complete_instance: a turn that completes
// execution exec (OrchestrationCompleted 9999, status Completed).
func kvStoreComplete(t T, h *Harness, instance string, exec uint64) {
	t.Helper()
	kvStoreFinish(t, h, instance, exec, duroxide.StatusCompleted)
}

// kvStoreContinueAsNew is duroxide's continue_as_new: a status-only turn ends
// execution n-1 as ContinuedAsNew, then a ContinueAsNew message is fetched
// and acked as execution n with an OrchestrationStarted. It returns the
// snapshot of that second fetch: the store right after the merge.
func kvStoreContinueAsNew(t T, h *Harness, instance string, n uint64) map[string]duroxide.KvEntry {
	t.Helper()
	md := nameVersion(testOrch, testVersion)
	md.Status = duroxide.StatusContinuedAsNew
	kvStoreTurn(t, h, instance, n-1, md)

	enqueueOrch(t, h, duroxide.ContinueAsNewItem{
		Instance: instance, Orchestration: testOrch, Input: "{}", Version: ptr(testVersion),
	})
	item := fetchInstance(t, h, instance)
	started := startedEvent(instance, duroxide.InitialEventID, testVersion)
	started.ExecutionID = n
	ack(t, h, item.LockToken, duroxide.OrchestrationAck{
		ExecutionID:  n,
		HistoryDelta: []duroxide.Event{started},
		Metadata:     nameVersion(testOrch, testVersion),
	})
	return item.KVSnapshot
}

// kvStoreRequireValue requires get_kv_value(instance, key) to be want.
func kvStoreRequireValue(t T, h *Harness, instance, key, want string, msgAndArgs ...any) {
	t.Helper()
	v, ok, err := h.Provider.GetKVValue(t.Context(), instance, key)
	require.NoError(t, err, "get_kv_value(%q, %q)", instance, key)
	require.True(t, ok, append([]any{"get_kv_value(%q, %q) must find a value"}, instance, key)...)
	require.Equal(t, want, v, msgAndArgs...)
}

// kvStoreRequireAbsent requires get_kv_value(instance, key) to find nothing.
func kvStoreRequireAbsent(t T, h *Harness, instance, key string, msgAndArgs ...any) {
	t.Helper()
	v, ok, err := h.Provider.GetKVValue(t.Context(), instance, key)
	require.NoError(t, err, "get_kv_value(%q, %q)", instance, key)
	if ok {
		require.False(t, ok, append([]any{"get_kv_value(%q, %q) must be absent, got %q"}, instance, key, v)...)
	}
}

// kvStoreRequireAll requires get_kv_all_values(instance) to be exactly want.
func kvStoreRequireAll(t T, h *Harness, instance string, want map[string]string, msgAndArgs ...any) {
	t.Helper()
	got, err := h.Provider.GetKVAllValues(t.Context(), instance)
	require.NoError(t, err, "get_kv_all_values(%q)", instance)
	if len(want) == 0 {
		require.Empty(t, got, msgAndArgs...)
		return
	}
	require.Equal(t, want, got, msgAndArgs...)
}

// kvStoreRequireSnapshot requires a fetched snapshot to be exactly want,
// values and timestamps.
func kvStoreRequireSnapshot(t T, got, want map[string]duroxide.KvEntry, msgAndArgs ...any) {
	t.Helper()
	if len(want) == 0 {
		require.Empty(t, got, msgAndArgs...)
		return
	}
	require.Equal(t, want, got, msgAndArgs...)
}

// kvStorePrune prunes instance down to its last execution and requires
// deleted executions to go.
func kvStorePrune(t T, h *Harness, instance string, deleted uint64) {
	t.Helper()
	res, err := h.Admin(t).PruneExecutions(t.Context(), instance, duroxide.PruneOptions{KeepLast: ptr(uint32(1))})
	require.NoError(t, err, "prune_executions(%q, keep_last=1)", instance)
	require.Equal(t, deleted, res.ExecutionsDeleted, "executions pruned from %q", instance)
}

// A KeyValueSet acked in a running execution is visible to get_kv_value.
func kvSetAndGet(t T, h *Harness) {
	const inst = "kv-set"
	createInstance(t, h, inst)
	kvStoreAckDelta(t, h, inst, 1, kvStoreSet(inst, 1, 100, "counter", "42"))
	kvStoreRequireValue(t, h, inst, "counter", "42")
	// Stronger than duroxide: get_kv_all_values (never called by duroxide)
	// shows the same live state.
	kvStoreRequireAll(t, h, inst, map[string]string{"counter": "42"})
}

// A later KeyValueSet of the same key in the same execution overwrites it.
func kvOverwrite(t T, h *Harness) {
	const inst = "kv-over"
	createInstance(t, h, inst)
	kvStoreAckDelta(t, h, inst, 1, kvStoreSet(inst, 1, 100, "status", "old"))
	kvStoreRequireValue(t, h, inst, "status", "old", "initial value")
	kvStoreAckDelta(t, h, inst, 1, kvStoreSet(inst, 1, 101, "status", "new"))
	kvStoreRequireValue(t, h, inst, "status", "new")
	// Stronger than duroxide: the overwrite leaves one key, not two.
	kvStoreRequireAll(t, h, inst, map[string]string{"status": "new"})
}

// KeyValueCleared removes one key.
func kvClearSingle(t T, h *Harness) {
	const inst = "kv-clr1"
	createInstance(t, h, inst)
	kvStoreAckDelta(t, h, inst, 1, kvStoreSet(inst, 1, 100, "remove_me", "x"))
	kvStoreRequireValue(t, h, inst, "remove_me", "x", "set before the clear")
	kvStoreAckDelta(t, h, inst, 1, kvStoreClear(inst, 1, 101, "remove_me"))
	kvStoreRequireAbsent(t, h, inst, "remove_me")
	// Stronger than duroxide: the tombstone is not listed as a key.
	kvStoreRequireAll(t, h, inst, nil, "a cleared key must not be listed")
}

// KeyValuesCleared removes every key; a later turn can set a key again.
func kvClearAll(t T, h *Harness) {
	const inst = "kv-clra"
	createInstance(t, h, inst)
	kvStoreAckDelta(t, h, inst, 1, kvStoreSet(inst, 1, 100, "a", "1"), kvStoreSet(inst, 1, 101, "b", "2"))
	kvStoreRequireValue(t, h, inst, "a", "1")
	kvStoreRequireValue(t, h, inst, "b", "2")
	kvStoreAckDelta(t, h, inst, 1, kvStoreClearAll(inst, 1, 102))
	kvStoreRequireAbsent(t, h, inst, "a")
	kvStoreRequireAbsent(t, h, inst, "b")
	kvStoreRequireAll(t, h, inst, nil)

	// Stronger than duroxide: a KeyValueSet in a later turn re-creates just
	// that key.
	kvStoreAckDelta(t, h, inst, 1, kvStoreSet(inst, 1, 103, "a", "again"))
	kvStoreRequireValue(t, h, inst, "a", "again")
	kvStoreRequireAbsent(t, h, inst, "b")
	kvStoreRequireAll(t, h, inst, map[string]string{"a": "again"})
}

// Reading a key that was never set is absent, not an error.
func kvGetNonexistent(t T, h *Harness) {
	const inst = "kv-none"
	createInstance(t, h, inst)
	kvStoreRequireAbsent(t, h, inst, "nope")
	// Stronger than duroxide: an instance without KV lists no values.
	kvStoreRequireAll(t, h, inst, nil)
}

// After the execution completes, the next fetch's snapshot holds exactly the
// merged keys.
func kvSnapshotInFetch(t T, h *Harness) {
	const inst = "kv-fetch"
	createInstance(t, h, inst)
	kvStoreAckDelta(t, h, inst, 1, kvStoreSet(inst, 1, 100, "x", "10"), kvStoreSet(inst, 1, 101, "y", "20"))
	kvStoreComplete(t, h, inst, 1)
	// Stronger than duroxide: each entry keeps its KeyValueSet's
	// last_updated_at_ms (duroxide never reads the timestamps back).
	kvStoreRequireSnapshot(t, kvStoreSnapshot(t, h, inst, 1), map[string]duroxide.KvEntry{
		"x": kvStoreEntry("10", 100),
		"y": kvStoreEntry("20", 101),
	})
}

// A key cleared before completion is not in the merged snapshot.
func kvSnapshotAfterClearSingle(t T, h *Harness) {
	const inst = "kv-fclr1"
	createInstance(t, h, inst)
	kvStoreAckDelta(t, h, inst, 1, kvStoreSet(inst, 1, 100, "keep", "yes"), kvStoreSet(inst, 1, 101, "remove", "bye"))
	kvStoreAckDelta(t, h, inst, 1, kvStoreClear(inst, 1, 102, "remove"))
	kvStoreComplete(t, h, inst, 1)
	kvStoreRequireSnapshot(t, kvStoreSnapshot(t, h, inst, 1), map[string]duroxide.KvEntry{
		"keep": kvStoreEntry("yes", 100),
	})
}

// After a clear-all in a running execution the snapshot is empty.
func kvSnapshotAfterClearAll(t T, h *Harness) {
	const inst = "kv-fclra"
	createInstance(t, h, inst)
	kvStoreAckDelta(t, h, inst, 1, kvStoreSet(inst, 1, 100, "a", "1"), kvStoreSet(inst, 1, 101, "b", "2"))
	kvStoreAckDelta(t, h, inst, 1, kvStoreClearAll(inst, 1, 102))
	kvStoreRequireSnapshot(t, kvStoreSnapshot(t, h, inst, 1), nil)

	// Stronger than duroxide (whose check passes with nothing ever merged):
	// completing the execution merges the tombstones, and the store stays
	// empty.
	kvStoreComplete(t, h, inst, 1)
	kvStoreRequireSnapshot(t, kvStoreSnapshot(t, h, inst, 1), nil, "clear-all must survive the merge")
	kvStoreRequireAll(t, h, inst, nil)
}

// A key written in two executions reads the latest write, also after the
// first execution is pruned.
func kvExecutionIDTracking(t T, h *Harness) {
	const inst = "kv-exec"
	h.Admin(t)
	createInstance(t, h, inst)
	kvStoreAckDelta(t, h, inst, 1, kvStoreSet(inst, 1, 100, "shared", "from_exec_1"))
	kvStoreRequireValue(t, h, inst, "shared", "from_exec_1")

	snap := kvStoreContinueAsNew(t, h, inst, 2)
	// Stronger than duroxide: the continue-as-new merged execution 1's write.
	kvStoreRequireSnapshot(t, snap, map[string]duroxide.KvEntry{"shared": kvStoreEntry("from_exec_1", 100)})

	kvStoreAckDelta(t, h, inst, 2, kvStoreSet(inst, 2, 200, "shared", "from_exec_2"))
	kvStoreRequireValue(t, h, inst, "shared", "from_exec_2")

	// Stronger than duroxide: the prune really removed execution 1, so the
	// check after it is not vacuous.
	kvStorePrune(t, h, inst, 1)
	kvStoreRequireValue(t, h, inst, "shared", "from_exec_2", "prune must not touch KV")
	// Stronger than duroxide: the store still holds execution 1's merged
	// value, and execution 2's write is still only in its delta.
	kvStoreRequireSnapshot(t, kvStoreSnapshot(t, h, inst, 2), map[string]duroxide.KvEntry{
		"shared": kvStoreEntry("from_exec_1", 100),
	})
}

// A later execution's write overrides the value merged from an earlier one.
func kvCrossExecutionOverwrite(t T, h *Harness) {
	const inst = "kv-xexec"
	createInstance(t, h, inst)
	kvStoreAckDelta(t, h, inst, 1, kvStoreSet(inst, 1, 100, "k", "v1"))
	kvStoreRequireValue(t, h, inst, "k", "v1")
	snap := kvStoreContinueAsNew(t, h, inst, 2)
	kvStoreAckDelta(t, h, inst, 2, kvStoreSet(inst, 2, 200, "k", "v2"))
	kvStoreRequireValue(t, h, inst, "k", "v2")

	// Stronger than duroxide: the merged store has v1, and execution 2's
	// write does not reach the snapshot until execution 2 ends.
	kvStoreRequireSnapshot(t, snap, map[string]duroxide.KvEntry{"k": kvStoreEntry("v1", 100)})
	kvStoreRequireSnapshot(t, kvStoreSnapshot(t, h, inst, 2), map[string]duroxide.KvEntry{"k": kvStoreEntry("v1", 100)})
}

// A key cleared in one execution reads absent, and can be set again in a
// later execution.
func kvCrossExecutionRemoveReadd(t T, h *Harness) {
	const inst = "kv-xrm"
	createInstance(t, h, inst)
	kvStoreAckDelta(t, h, inst, 1, kvStoreSet(inst, 1, 100, "cycle", "exec1"))
	kvStoreRequireValue(t, h, inst, "cycle", "exec1")

	kvStoreContinueAsNew(t, h, inst, 2)
	kvStoreAckDelta(t, h, inst, 2, kvStoreClear(inst, 2, 200, "cycle"))
	kvStoreRequireAbsent(t, h, inst, "cycle", "a tombstone hides the stored value")

	snap := kvStoreContinueAsNew(t, h, inst, 3)
	// Stronger than duroxide (whose cases only read the snapshot and the
	// delta, never the store itself):
	// merging execution 2's tombstone removed the key from the store.
	kvStoreRequireSnapshot(t, snap, nil, "the merged tombstone must delete the stored key")
	kvStoreRequireAbsent(t, h, inst, "cycle", "after the merge")

	kvStoreAckDelta(t, h, inst, 3, kvStoreSet(inst, 3, 300, "cycle", "exec3"))
	kvStoreRequireValue(t, h, inst, "cycle", "exec3")
}

// Pruning old executions keeps a key's latest value.
func kvPrunePreservesOverwritten(t T, h *Harness) {
	const inst = "kv-prn1"
	h.Admin(t)
	createInstance(t, h, inst)
	kvStoreAckDelta(t, h, inst, 1, kvStoreSet(inst, 1, 100, "survive", "v1"))
	kvStoreContinueAsNew(t, h, inst, 2)
	kvStoreAckDelta(t, h, inst, 2, kvStoreSet(inst, 2, 200, "survive", "v2"))
	// Stronger than duroxide: the prune really deleted execution 1.
	kvStorePrune(t, h, inst, 1)
	kvStoreRequireValue(t, h, inst, "survive", "v2")
	// Stronger than duroxide: the merged store kept execution 1's value.
	kvStoreRequireSnapshot(t, kvStoreSnapshot(t, h, inst, 2), map[string]duroxide.KvEntry{"survive": kvStoreEntry("v1", 100)})
}

// Pruning an execution never deletes the keys it wrote: KV belongs to the
// instance.
func kvPrunePreservesAllKeys(t T, h *Harness) {
	const inst = "kv-prn2"
	h.Admin(t)
	createInstance(t, h, inst)
	kvStoreAckDelta(t, h, inst, 1, kvStoreSet(inst, 1, 100, "orphan", "survives"))
	kvStoreContinueAsNew(t, h, inst, 2)
	kvStoreAckDelta(t, h, inst, 2, kvStoreSet(inst, 2, 200, "keeper", "alive"))
	kvStoreRequireValue(t, h, inst, "orphan", "survives")
	kvStoreRequireValue(t, h, inst, "keeper", "alive")

	// Stronger than duroxide: the prune really deleted execution 1.
	kvStorePrune(t, h, inst, 1)
	kvStoreRequireValue(t, h, inst, "orphan", "survives", "a key of a pruned execution must survive")
	kvStoreRequireValue(t, h, inst, "keeper", "alive")
	// Stronger than duroxide: both tiers are intact, store and delta.
	kvStoreRequireAll(t, h, inst, map[string]string{"orphan": "survives", "keeper": "alive"})
	kvStoreRequireSnapshot(t, kvStoreSnapshot(t, h, inst, 2), map[string]duroxide.KvEntry{"orphan": kvStoreEntry("survives", 100)})
}

// The same key on two instances holds two independent values.
func kvInstanceIsolation(t T, h *Harness) {
	const a, b = "kv-iso-a", "kv-iso-b"
	createInstance(t, h, a)
	createInstance(t, h, b)
	kvStoreAckDelta(t, h, a, 1, kvStoreSet(a, 1, 100, "shared_name", "from_a"))
	kvStoreAckDelta(t, h, b, 1, kvStoreSet(b, 1, 100, "shared_name", "from_b"))
	kvStoreRequireValue(t, h, a, "shared_name", "from_a")
	kvStoreRequireValue(t, h, b, "shared_name", "from_b")

	// Stronger than duroxide: the listings and, after completion, the
	// merged snapshots are per instance too.
	kvStoreRequireAll(t, h, a, map[string]string{"shared_name": "from_a"})
	kvStoreRequireAll(t, h, b, map[string]string{"shared_name": "from_b"})
	kvStoreComplete(t, h, a, 1)
	kvStoreComplete(t, h, b, 1)
	kvStoreRequireSnapshot(t, kvStoreSnapshot(t, h, a, 1), map[string]duroxide.KvEntry{"shared_name": kvStoreEntry("from_a", 100)})
	kvStoreRequireSnapshot(t, kvStoreSnapshot(t, h, b, 1), map[string]duroxide.KvEntry{"shared_name": kvStoreEntry("from_b", 100)})
}

// Deleting an instance deletes its KV.
func kvDeleteInstanceCascades(t T, h *Harness) {
	const inst = "kv-del"
	admin := h.Admin(t)
	createInstance(t, h, inst)
	kvStoreAckDelta(t, h, inst, 1, kvStoreSet(inst, 1, 100, "doomed", "bye"))
	kvStoreComplete(t, h, inst, 1)
	kvStoreRequireValue(t, h, inst, "doomed", "bye")

	deleteInstance(t, admin, inst, false)
	kvStoreRequireAbsent(t, h, inst, "doomed", "KV must go with the instance")
	kvStoreRequireAll(t, h, inst, nil)

	// Stronger than duroxide: a new instance with the same id starts with an
	// empty store, so nothing was merely hidden.
	createInstance(t, h, inst)
	kvStoreRequireSnapshot(t, kvStoreSnapshot(t, h, inst, 1), nil, "a recreated instance must not inherit KV")
	kvStoreRequireAll(t, h, inst, nil)
}

// Clearing a key that never existed succeeds and leaves it absent.
func kvClearNonexistentKey(t T, h *Harness) {
	const inst = "kv-clrne"
	createInstance(t, h, inst)
	kvStoreAckDelta(t, h, inst, 1, kvStoreClear(inst, 1, 100, "ghost"))
	kvStoreRequireAbsent(t, h, inst, "ghost")
	// Stronger than duroxide: merging the tombstone of a missing key is
	// harmless and creates nothing.
	kvStoreRequireAll(t, h, inst, nil)
	kvStoreComplete(t, h, inst, 1)
	kvStoreRequireSnapshot(t, kvStoreSnapshot(t, h, inst, 1), nil)
	kvStoreRequireAll(t, h, inst, nil)
}

// Reading KV of an instance that never existed is absent, not an error.
func kvGetUnknownInstance(t T, h *Harness) {
	kvStoreRequireAbsent(t, h, "no-such-instance", "k")
	// Stronger than duroxide: the listing is empty, not an error.
	kvStoreRequireAll(t, h, "no-such-instance", nil)
}

// Events of one ack apply in order: a set after a clear-all survives it.
func kvSetAfterClear(t T, h *Harness) {
	const inst = "kv-sac"
	createInstance(t, h, inst)
	kvStoreAckDelta(t, h, inst, 1, kvStoreSet(inst, 1, 100, "old_a", "1"), kvStoreSet(inst, 1, 101, "old_b", "2"))
	kvStoreAckDelta(t, h, inst, 1, kvStoreClearAll(inst, 1, 102), kvStoreSet(inst, 1, 103, "new_x", "fresh"))
	kvStoreRequireAbsent(t, h, inst, "old_a")
	kvStoreRequireAbsent(t, h, inst, "old_b")
	kvStoreRequireValue(t, h, inst, "new_x", "fresh")

	// Stronger than duroxide: the listing and, after completion, the store
	// hold only new_x.
	kvStoreRequireAll(t, h, inst, map[string]string{"new_x": "fresh"})
	kvStoreComplete(t, h, inst, 1)
	kvStoreRequireSnapshot(t, kvStoreSnapshot(t, h, inst, 1), map[string]duroxide.KvEntry{"new_x": kvStoreEntry("fresh", 103)})
}

// The empty string is a value, distinct from absent.
func kvEmptyValue(t T, h *Harness) {
	const inst = "kv-empty"
	createInstance(t, h, inst)
	kvStoreAckDelta(t, h, inst, 1, kvStoreSet(inst, 1, 100, "blank", ""))
	kvStoreRequireValue(t, h, inst, "blank", "")
	// Stronger than duroxide: the empty value is listed and survives the
	// merge into the store.
	kvStoreRequireAll(t, h, inst, map[string]string{"blank": ""})
	kvStoreComplete(t, h, inst, 1)
	kvStoreRequireSnapshot(t, kvStoreSnapshot(t, h, inst, 1), map[string]duroxide.KvEntry{"blank": kvStoreEntry("", 100)})
	kvStoreRequireValue(t, h, inst, "blank", "")
}

// A 16 KiB value round-trips byte for byte.
func kvLargeValue(t T, h *Harness) {
	const inst = "kv-big"
	big := strings.Repeat("x", 16*1024)
	createInstance(t, h, inst)
	kvStoreAckDelta(t, h, inst, 1, kvStoreSet(inst, 1, 100, "payload", big))
	kvStoreRequireValue(t, h, inst, "payload", big)
	// Stronger than duroxide: it also survives the merge into the store.
	kvStoreComplete(t, h, inst, 1)
	kvStoreRequireSnapshot(t, kvStoreSnapshot(t, h, inst, 1), map[string]duroxide.KvEntry{"payload": kvStoreEntry(big, 100)})
	kvStoreRequireValue(t, h, inst, "payload", big)
}

// Keys with spaces, dots, slashes and non-ASCII text round-trip.
func kvSpecialCharsInKey(t T, h *Harness) {
	const inst = "kv-chars"
	keys := []string{"key with spaces", "日本語キー", "dotted.key.name", "path/like/key", "emoji🎉key"}
	values := []string{"v1", "v2", "v3", "v4", "v5"}
	createInstance(t, h, inst)
	var events []duroxide.Event
	wantAll := map[string]string{}
	wantSnap := map[string]duroxide.KvEntry{}
	for i, k := range keys {
		id := uint64(100 + i)
		events = append(events, kvStoreSet(inst, 1, id, k, values[i]))
		wantAll[k] = values[i]
		wantSnap[k] = kvStoreEntry(values[i], id)
	}
	kvStoreAckDelta(t, h, inst, 1, events...)
	for i, k := range keys {
		kvStoreRequireValue(t, h, inst, k, values[i], "key %q", k)
	}
	// Stronger than duroxide: the listing and the merged store give the
	// keys back unchanged.
	kvStoreRequireAll(t, h, inst, wantAll)
	kvStoreComplete(t, h, inst, 1)
	kvStoreRequireSnapshot(t, kvStoreSnapshot(t, h, inst, 1), wantSnap)
}

// An instance that never wrote KV fetches with an empty snapshot.
func kvSnapshotEmpty(t T, h *Harness) {
	const inst = "kv-sempty"
	createInstance(t, h, inst)
	kvStoreRequireSnapshot(t, kvStoreSnapshot(t, h, inst, 1), nil)
}

// The snapshot holds earlier executions' merged keys but not the current
// execution's writes.
func kvSnapshotCrossExecution(t T, h *Harness) {
	const inst = "kv-scross"
	createInstance(t, h, inst)
	kvStoreAckDelta(t, h, inst, 1, kvStoreSet(inst, 1, 100, "A", "from_exec1"))
	kvStoreContinueAsNew(t, h, inst, 2)
	kvStoreAckDelta(t, h, inst, 2, kvStoreSet(inst, 2, 200, "B", "from_exec2"))
	kvStoreRequireSnapshot(t, kvStoreSnapshot(t, h, inst, 2), map[string]duroxide.KvEntry{
		"A": kvStoreEntry("from_exec1", 100),
	}, "B belongs to the running execution")
	// Stronger than duroxide: the client sees both tiers.
	kvStoreRequireAll(t, h, inst, map[string]string{"A": "from_exec1", "B": "from_exec2"})
}

// Pruning an instance with a single execution deletes nothing, and its KV
// stays.
func kvPruneCurrentExecutionProtected(t T, h *Harness) {
	const inst = "kv-prncur"
	h.Admin(t)
	createInstance(t, h, inst)
	kvStoreAckDelta(t, h, inst, 1, kvStoreSet(inst, 1, 100, "alive", "yes"))
	// Stronger than duroxide: the prune deleted no execution.
	kvStorePrune(t, h, inst, 0)
	kvStoreRequireValue(t, h, inst, "alive", "yes")
	kvStoreRequireAll(t, h, inst, map[string]string{"alive": "yes"})
}

// Deleting a root cascades to its child, and removes both instances' KV.
func kvDeleteInstanceWithChildren(t T, h *Harness) {
	const parent, child = "kv-parent", "kv-child"
	admin := h.Admin(t)
	createInstance(t, h, parent)
	kvStoreAckDelta(t, h, parent, 1, kvStoreSet(parent, 1, 100, "parent_key", "parent_val"))

	start := startItem(child)
	start.ParentInstance = ptr(parent)
	start.ParentID = ptr(uint64(1))
	enqueueOrch(t, h, start)
	item := fetchInstance(t, h, child)
	started := startedEvent(child, 1, testVersion)
	started.Kind = duroxide.OrchestrationStarted{
		Name: testOrch, Version: testVersion, Input: "{}",
		ParentInstance: ptr(parent), ParentID: ptr(uint64(1)),
	}
	md := nameVersion(testOrch, testVersion)
	md.ParentInstanceID = ptr(parent)
	ack(t, h, item.LockToken, duroxide.OrchestrationAck{
		ExecutionID: 1, HistoryDelta: []duroxide.Event{started}, Metadata: md,
	})

	kvStoreAckDelta(t, h, child, 1, kvStoreSet(child, 1, 100, "child_key", "child_val"))
	kvStoreComplete(t, h, child, 1)
	kvStoreComplete(t, h, parent, 1)

	res := deleteInstance(t, admin, parent, false)
	// Stronger than duroxide: the delete really took the child too.
	require.Equal(t, uint64(2), res.InstancesDeleted, "parent and child must be deleted")
	kvStoreRequireAbsent(t, h, parent, "parent_key", "parent KV must be removed")
	kvStoreRequireAbsent(t, h, child, "child_key", "child KV must be removed with its root")
	kvStoreRequireAll(t, h, parent, nil)
	kvStoreRequireAll(t, h, child, nil)
}

// A clear-all on one instance leaves another instance's keys alone.
func kvClearIsolation(t T, h *Harness) {
	const a, b = "kv-ciso-a", "kv-ciso-b"
	createInstance(t, h, a)
	createInstance(t, h, b)
	kvStoreAckDelta(t, h, a, 1, kvStoreSet(a, 1, 100, "shared", "from_a"))
	kvStoreAckDelta(t, h, b, 1, kvStoreSet(b, 1, 100, "shared", "from_b"))
	kvStoreAckDelta(t, h, a, 1, kvStoreClearAll(a, 1, 101))
	kvStoreRequireAbsent(t, h, a, "shared")
	kvStoreRequireValue(t, h, b, "shared", "from_b")

	// Stronger than duroxide: the same holds for the merged stores.
	kvStoreComplete(t, h, a, 1)
	kvStoreComplete(t, h, b, 1)
	kvStoreRequireSnapshot(t, kvStoreSnapshot(t, h, a, 1), nil)
	kvStoreRequireSnapshot(t, kvStoreSnapshot(t, h, b, 1), map[string]duroxide.KvEntry{"shared": kvStoreEntry("from_b", 100)})
}

// A write of the running execution is visible to clients but not in the
// fetch snapshot.
func kvDeltaSnapshotExcludesCurrentExecution(t T, h *Harness) {
	const inst = "kv-ds1"
	createInstance(t, h, inst)
	kvStoreAckDelta(t, h, inst, 1, kvStoreSet(inst, 1, 100, "counter", "1"))
	kvStoreRequireValue(t, h, inst, "counter", "1")
	kvStoreRequireSnapshot(t, kvStoreSnapshot(t, h, inst, 1), nil, "the running execution's writes come back by replay, not in the snapshot")
	// Stronger than duroxide: the empty turn changed nothing for clients.
	kvStoreRequireAll(t, h, inst, map[string]string{"counter": "1"})
}

// After a continue-as-new the next execution's snapshot holds the previous
// execution's writes.
func kvDeltaSnapshotIncludesCompletedExecution(t T, h *Harness) {
	const inst = "kv-ds2"
	createInstance(t, h, inst)
	kvStoreAckDelta(t, h, inst, 1, kvStoreSet(inst, 1, 100, "counter", "5"))
	snap := kvStoreContinueAsNew(t, h, inst, 2)
	want := map[string]duroxide.KvEntry{"counter": kvStoreEntry("5", 100)}
	kvStoreRequireSnapshot(t, kvStoreSnapshot(t, h, inst, 2), want)
	// Stronger than duroxide: the merge was visible at the first fetch after
	// the ContinuedAsNew ack already.
	kvStoreRequireSnapshot(t, snap, want)
}

// Client reads overlay the running execution's writes on the merged store.
func kvDeltaClientReadsMerged(t T, h *Harness) {
	const inst = "kv-dm"
	createInstance(t, h, inst)
	kvStoreAckDelta(t, h, inst, 1, kvStoreSet(inst, 1, 100, "color", "red"), kvStoreSet(inst, 1, 101, "size", "large"))
	kvStoreComplete(t, h, inst, 1)
	// Execution 2 exists only because the ack names it.
	kvStoreAckDelta(t, h, inst, 2, kvStoreSet(inst, 2, 200, "color", "blue"), kvStoreSet(inst, 2, 201, "shape", "circle"))
	kvStoreRequireValue(t, h, inst, "color", "blue", "the delta overrides the store")
	kvStoreRequireValue(t, h, inst, "size", "large", "from the store")
	kvStoreRequireValue(t, h, inst, "shape", "circle", "only in the delta")

	// Stronger than duroxide: the listing is the same overlay, and the
	// snapshot is the store alone.
	kvStoreRequireAll(t, h, inst, map[string]string{"color": "blue", "size": "large", "shape": "circle"})
	kvStoreRequireSnapshot(t, kvStoreSnapshot(t, h, inst, 2), map[string]duroxide.KvEntry{
		"color": kvStoreEntry("red", 100),
		"size":  kvStoreEntry("large", 101),
	})
}

// A clear in the running execution hides the stored value.
func kvDeltaTombstoneOverridesStore(t T, h *Harness) {
	const inst = "kv-dt"
	createInstance(t, h, inst)
	kvStoreAckDelta(t, h, inst, 1, kvStoreSet(inst, 1, 100, "temp", "exists"))
	kvStoreComplete(t, h, inst, 1)
	kvStoreAckDelta(t, h, inst, 2, kvStoreClear(inst, 2, 200, "temp"))
	kvStoreRequireAbsent(t, h, inst, "temp")

	// Stronger than duroxide: the listing hides it too, the store keeps it
	// until execution 2 ends, and the merge then deletes it.
	kvStoreRequireAll(t, h, inst, nil)
	kvStoreRequireSnapshot(t, kvStoreSnapshot(t, h, inst, 2), map[string]duroxide.KvEntry{"temp": kvStoreEntry("exists", 100)})
	kvStoreComplete(t, h, inst, 2)
	kvStoreRequireSnapshot(t, kvStoreSnapshot(t, h, inst, 2), nil, "the merged tombstone must delete the stored key")
	kvStoreRequireAbsent(t, h, inst, "temp")
}

// A clear-all in a later execution hides keys that live only in the store;
// a set after it in the same ack survives.
func kvDeltaClearAllTombstonesStore(t T, h *Harness) {
	const inst = "kv-dca"
	createInstance(t, h, inst)
	kvStoreAckDelta(t, h, inst, 1, kvStoreSet(inst, 1, 100, "a", "1"), kvStoreSet(inst, 1, 101, "b", "2"))
	kvStoreComplete(t, h, inst, 1)
	kvStoreAckDelta(t, h, inst, 2, kvStoreClearAll(inst, 2, 200), kvStoreSet(inst, 2, 201, "c", "3"))
	kvStoreRequireAbsent(t, h, inst, "a")
	kvStoreRequireAbsent(t, h, inst, "b")
	kvStoreRequireValue(t, h, inst, "c", "3")

	// Stronger than duroxide: after execution 2 completes the store holds c
	// alone: the clear-all reached the store.
	kvStoreRequireAll(t, h, inst, map[string]string{"c": "3"})
	kvStoreComplete(t, h, inst, 2)
	kvStoreRequireSnapshot(t, kvStoreSnapshot(t, h, inst, 2), map[string]duroxide.KvEntry{"c": kvStoreEntry("3", 201)})
	kvStoreRequireAll(t, h, inst, map[string]string{"c": "3"})
}

// Completion merges the delta; the value stays readable.
func kvDeltaMergedOnCompletion(t T, h *Harness) {
	const inst = "kv-dmc"
	createInstance(t, h, inst)
	kvStoreAckDelta(t, h, inst, 1, kvStoreSet(inst, 1, 100, "result", "42"))
	kvStoreComplete(t, h, inst, 1)
	kvStoreRequireValue(t, h, inst, "result", "42")
	// Stronger than duroxide (whose read would pass with no merge at all):
	// the value is now in the store.
	kvStoreRequireSnapshot(t, kvStoreSnapshot(t, h, inst, 1), map[string]duroxide.KvEntry{"result": kvStoreEntry("42", 100)})
}

// A status-only ContinuedAsNew ack merges every turn's writes, the last
// write of a key winning.
func kvDeltaMergedOnCan(t T, h *Harness) {
	const inst = "kv-dmc2"
	createInstance(t, h, inst)
	kvStoreAckDelta(t, h, inst, 1, kvStoreSet(inst, 1, 100, "version", "1"), kvStoreSet(inst, 1, 101, "progress", "50%"))
	kvStoreAckDelta(t, h, inst, 1, kvStoreSet(inst, 1, 102, "progress", "100%"))
	kvStoreContinueAsNew(t, h, inst, 2)
	// Stronger than duroxide: the timestamps are the last write's.
	kvStoreRequireSnapshot(t, kvStoreSnapshot(t, h, inst, 2), map[string]duroxide.KvEntry{
		"version":  kvStoreEntry("1", 100),
		"progress": kvStoreEntry("100%", 102),
	})
}

// Force-deleting a running instance removes its unmerged writes too.
func kvDeltaDeleteInstanceCascades(t T, h *Harness) {
	const inst = "kv-ddel"
	admin := h.Admin(t)
	createInstance(t, h, inst)
	kvStoreAckDelta(t, h, inst, 1, kvStoreSet(inst, 1, 100, "data", "important"))
	kvStoreRequireValue(t, h, inst, "data", "important")
	deleteInstance(t, admin, inst, true)
	kvStoreRequireAbsent(t, h, inst, "data")
	kvStoreRequireAll(t, h, inst, nil)

	// Stronger than duroxide: the delta is really gone, not hidden. A new
	// instance with the same id that completes merges nothing old.
	createInstance(t, h, inst)
	kvStoreComplete(t, h, inst, 1)
	kvStoreRequireSnapshot(t, kvStoreSnapshot(t, h, inst, 1), nil, "a stale delta must not be merged into the new instance")
	kvStoreRequireAll(t, h, inst, nil)
}

// Keys merged from pruned executions survive in reads and in the snapshot.
func kvDeltaPruneUntouchedKeySurvives(t T, h *Harness) {
	const inst = "kv-dprn"
	h.Admin(t)
	createInstance(t, h, inst)
	kvStoreAckDelta(t, h, inst, 1, kvStoreSet(inst, 1, 100, "stale_config", "from_exec_1"))
	kvStoreContinueAsNew(t, h, inst, 2)
	kvStoreAckDelta(t, h, inst, 2, kvStoreSet(inst, 2, 200, "other", "unrelated"))
	kvStoreContinueAsNew(t, h, inst, 3)
	kvStoreRequireValue(t, h, inst, "stale_config", "from_exec_1")
	kvStoreRequireValue(t, h, inst, "other", "unrelated")

	// Stronger than duroxide: both old executions were really pruned.
	kvStorePrune(t, h, inst, 2)
	kvStoreRequireValue(t, h, inst, "stale_config", "from_exec_1", "KV is instance-scoped")
	kvStoreRequireValue(t, h, inst, "other", "unrelated")
	// Stronger than duroxide: the snapshot is exactly these two entries.
	kvStoreRequireSnapshot(t, kvStoreSnapshot(t, h, inst, 3), map[string]duroxide.KvEntry{
		"stale_config": kvStoreEntry("from_exec_1", 100),
		"other":        kvStoreEntry("unrelated", 200),
	})
}

// get_kv_all_values is the store with every delta row applied: sets add or
// override, tombstones remove, untouched store keys stay
// ([duroxide.Provider.GetKVAllValues]).
func kvAllValuesOverlay(t T, h *Harness) {
	const inst = "kv-all"
	createInstance(t, h, inst)
	kvStoreAckDelta(t, h, inst, 1,
		kvStoreSet(inst, 1, 100, "override", "old"),
		kvStoreSet(inst, 1, 101, "cleared", "x"),
		kvStoreSet(inst, 1, 102, "untouched", "same"))
	kvStoreComplete(t, h, inst, 1)
	kvStoreAckDelta(t, h, inst, 2,
		kvStoreSet(inst, 2, 200, "override", "new"),
		kvStoreClear(inst, 2, 201, "cleared"),
		kvStoreSet(inst, 2, 202, "added", "delta-only"))
	kvStoreRequireAll(t, h, inst, map[string]string{"override": "new", "untouched": "same", "added": "delta-only"})
	kvStoreRequireValue(t, h, inst, "override", "new")
	kvStoreRequireAbsent(t, h, inst, "cleared")
	kvStoreRequireValue(t, h, inst, "untouched", "same")
	kvStoreRequireValue(t, h, inst, "added", "delta-only")
	kvStoreRequireSnapshot(t, kvStoreSnapshot(t, h, inst, 2), map[string]duroxide.KvEntry{
		"override":  kvStoreEntry("old", 100),
		"cleared":   kvStoreEntry("x", 101),
		"untouched": kvStoreEntry("same", 102),
	})
}

// An ack with status Failed merges the delta like Completed: every ack that
// ends an execution merges it.
func kvDeltaMergedOnFailure(t T, h *Harness) {
	const inst = "kv-dfail"
	createInstance(t, h, inst)
	kvStoreAckDelta(t, h, inst, 1, kvStoreSet(inst, 1, 100, "partial", "kept"), kvStoreSet(inst, 1, 101, "gone", "x"))
	kvStoreAckDelta(t, h, inst, 1, kvStoreClear(inst, 1, 102, "gone"))
	kvStoreFinish(t, h, inst, 1, duroxide.StatusFailed)
	kvStoreRequireSnapshot(t, kvStoreSnapshot(t, h, inst, 1), map[string]duroxide.KvEntry{"partial": kvStoreEntry("kept", 100)},
		"a failed execution's writes must be merged")
	kvStoreRequireAll(t, h, inst, map[string]string{"partial": "kept"})
}

// An ack with status Running, or with no status, merges nothing: only an ack
// that ends the execution merges the delta.
func kvDeltaNotMergedOnRunningStatus(t T, h *Harness) {
	const inst = "kv-drun"
	createInstance(t, h, inst)
	md := nameVersion(testOrch, testVersion)
	md.Status = duroxide.StatusRunning
	kvStoreTurn(t, h, inst, 1, md, kvStoreSet(inst, 1, 100, "k", "v"))
	kvStoreRequireSnapshot(t, kvStoreSnapshot(t, h, inst, 1), nil, "status Running must not merge")
	kvStoreTurn(t, h, inst, 1, md)
	kvStoreRequireSnapshot(t, kvStoreSnapshot(t, h, inst, 1), nil, "a status-only Running ack must not merge")
	kvStoreRequireValue(t, h, inst, "k", "v")
	kvStoreRequireAll(t, h, inst, map[string]string{"k": "v"})
}

// The merge runs after the final turn's own KV events: a set and a clear in
// the completing ack both reach the store.
func kvFinalTurnMutationsMerged(t T, h *Harness) {
	const inst = "kv-final"
	createInstance(t, h, inst)
	kvStoreAckDelta(t, h, inst, 1, kvStoreSet(inst, 1, 100, "early", "1"), kvStoreSet(inst, 1, 101, "doomed", "2"))
	kvStoreFinish(t, h, inst, 1, duroxide.StatusCompleted,
		kvStoreSet(inst, 1, 102, "late", "3"),
		kvStoreClear(inst, 1, 103, "doomed"),
		kvStoreSet(inst, 1, 104, "early", "1b"))
	kvStoreRequireSnapshot(t, kvStoreSnapshot(t, h, inst, 1), map[string]duroxide.KvEntry{
		"early": kvStoreEntry("1b", 104),
		"late":  kvStoreEntry("3", 102),
	})
	kvStoreRequireAll(t, h, inst, map[string]string{"early": "1b", "late": "3"})
}

// The store keeps each key's last_updated_at_ms from its KeyValueSet, and a
// later execution's rewrite of the same value updates it.
func kvMergeKeepsLastUpdatedAt(t T, h *Harness) {
	const inst = "kv-stamp"
	createInstance(t, h, inst)
	zero := execEvent(inst, 1, 101, duroxide.KeyValueSet{Key: "legacy", Value: "z", LastUpdatedAtMs: 0})
	kvStoreAckDelta(t, h, inst, 1, kvStoreSet(inst, 1, 100, "k", "same"), zero)
	snap := kvStoreContinueAsNew(t, h, inst, 2)
	kvStoreRequireSnapshot(t, snap, map[string]duroxide.KvEntry{
		"k":      kvStoreEntry("same", 100),
		"legacy": {Value: "z", LastUpdatedAtMs: 0},
	})
	kvStoreAckDelta(t, h, inst, 2, kvStoreSet(inst, 2, 250, "k", "same"))
	snap = kvStoreContinueAsNew(t, h, inst, 3)
	kvStoreRequireSnapshot(t, snap, map[string]duroxide.KvEntry{
		"k":      kvStoreEntry("same", 250),
		"legacy": {Value: "z", LastUpdatedAtMs: 0},
	}, "rewriting a value must update its timestamp")
}

// Ending one instance's execution merges only that instance's delta: KV
// state is per instance.
func kvMergeIsolation(t T, h *Harness) {
	const a, b = "kv-miso-a", "kv-miso-b"
	createInstance(t, h, a)
	createInstance(t, h, b)
	kvStoreAckDelta(t, h, a, 1, kvStoreSet(a, 1, 100, "ka", "va"))
	kvStoreAckDelta(t, h, b, 1, kvStoreSet(b, 1, 100, "kb", "vb"))
	kvStoreComplete(t, h, a, 1)
	kvStoreRequireSnapshot(t, kvStoreSnapshot(t, h, a, 1), map[string]duroxide.KvEntry{"ka": kvStoreEntry("va", 100)})
	kvStoreRequireSnapshot(t, kvStoreSnapshot(t, h, b, 1), nil, "another instance's completion must not merge b's delta")
	kvStoreRequireAll(t, h, a, map[string]string{"ka": "va"})
	kvStoreRequireAll(t, h, b, map[string]string{"kb": "vb"})

	// A clear-all in b's later turn does not reach a's store.
	kvStoreAckDelta(t, h, b, 1, kvStoreClearAll(b, 1, 101))
	kvStoreComplete(t, h, b, 1)
	kvStoreRequireAll(t, h, a, map[string]string{"ka": "va"})
	kvStoreRequireSnapshot(t, kvStoreSnapshot(t, h, a, 1), map[string]duroxide.KvEntry{"ka": kvStoreEntry("va", 100)})
}

// An ack that fails, for a duplicate event id or an expired lock, applies
// none of its KV events and merges nothing
// ([duroxide.Provider.AckOrchestrationItem] is all or nothing).
func kvFailedAckAppliesNothing(t T, h *Harness) {
	const inst = "kv-fail"
	createInstance(t, h, inst)
	kvStoreAckDelta(t, h, inst, 1, kvStoreSet(inst, 1, 100, "a", "1"))
	kvStoreComplete(t, h, inst, 1)

	// Event id 1 (OrchestrationStarted) already exists in execution 1.
	completed := nameVersion(testOrch, testVersion)
	completed.Status = duroxide.StatusCompleted
	item := raiseAndFetch(t, h, inst, "poke")
	err := h.Provider.AckOrchestrationItem(t.Context(), item.LockToken, duroxide.OrchestrationAck{
		ExecutionID: 1,
		HistoryDelta: []duroxide.Event{
			kvStoreSet(inst, 1, 101, "a", "2"),
			kvStoreSet(inst, 1, 102, "b", "new"),
			kvStoreClearAll(inst, 1, 103),
			kvStoreSet(inst, 1, 1, "c", "dup"),
		},
		Metadata: completed,
	})
	requirePermanentIs(t, err, duroxide.ErrDuplicateEvent, "an ack with a duplicate event id must fail")
	kvStoreRequireAll(t, h, inst, map[string]string{"a": "1"}, "a failed ack must not apply its KV events")

	// The lock is still held: the same token acks a smaller turn.
	ack(t, h, item.LockToken, duroxide.OrchestrationAck{
		ExecutionID:  1,
		HistoryDelta: []duroxide.Event{kvStoreSet(inst, 1, 101, "a", "2")},
	})
	kvStoreRequireAll(t, h, inst, map[string]string{"a": "2"})
	kvStoreRequireSnapshot(t, kvStoreSnapshot(t, h, inst, 1), map[string]duroxide.KvEntry{"a": kvStoreEntry("1", 100)},
		"the failed ack's Completed status must not have merged")

	// An ack on an expired lock fails and leaves delta and store alone.
	enqueueOrch(t, h, externalItem(inst, "poke"))
	expiring := mustFetchOrch(t, h, h.LockTimeout)
	require.Equal(t, inst, expiring.Instance)
	h.Sleep(t, h.LockTimeout+h.Slack)
	err = h.Provider.AckOrchestrationItem(t.Context(), expiring.LockToken, duroxide.OrchestrationAck{
		ExecutionID:  1,
		HistoryDelta: []duroxide.Event{kvStoreClearAll(inst, 1, 104)},
		Metadata:     completed,
	})
	requireTokenRefused(t, err, "an ack on an expired lock must fail")
	kvStoreRequireAll(t, h, inst, map[string]string{"a": "2"}, "an ack on an expired lock must not apply its KV events")
	kvStoreRequireSnapshot(t, kvStoreSnapshot(t, h, inst, 1), map[string]duroxide.KvEntry{"a": kvStoreEntry("1", 100)},
		"an ack on an expired lock must not merge")
}

// Snapshots and listings are the caller's: changing them, or the events
// passed to ack, changes nothing in the provider (Provider ownership rule).
func kvResultsNotAliased(t T, h *Harness) {
	const inst = "kv-alias"
	createInstance(t, h, inst)
	delta := []duroxide.Event{kvStoreSet(inst, 1, 100, "k", "v")}
	kvStoreAckDelta(t, h, inst, 1, delta...)
	delta[0].Kind = duroxide.KeyValueSet{Key: "k", Value: "mutated", LastUpdatedAtMs: 1}
	kvStoreRequireValue(t, h, inst, "k", "v", "the provider must not keep the caller's events")
	kvStoreComplete(t, h, inst, 1)

	item := raiseAndFetch(t, h, inst, "poke")
	want := map[string]duroxide.KvEntry{"k": kvStoreEntry("v", 100)}
	kvStoreRequireSnapshot(t, item.KVSnapshot, want)
	item.KVSnapshot["k"] = duroxide.KvEntry{Value: "mutated", LastUpdatedAtMs: 1}
	item.KVSnapshot["extra"] = duroxide.KvEntry{Value: "x"}
	ackEmpty(t, h, item.LockToken)
	kvStoreRequireSnapshot(t, kvStoreSnapshot(t, h, inst, 1), want, "a returned snapshot must not alias the store")

	all, err := h.Provider.GetKVAllValues(t.Context(), inst)
	require.NoError(t, err)
	all["k"] = "mutated"
	all["extra"] = "x"
	kvStoreRequireAll(t, h, inst, map[string]string{"k": "v"}, "a returned listing must not alias the store")
}

// A fetch whose history cannot be decoded carries an empty, non-nil
// snapshot ([duroxide.LockedOrchestrationItem]); the KV itself is untouched.
func kvSnapshotEmptyOnHistoryError(t T, h *Harness) {
	const inst = "kv-corrupt"
	hooks := h.RequireHooks(t)
	createInstance(t, h, inst)
	kvStoreAckDelta(t, h, inst, 1, kvStoreSet(inst, 1, 100, "k", "v"))
	kvStoreComplete(t, h, inst, 1)
	require.NoError(t, hooks.CorruptInstanceHistory(t.Context(), inst), "corrupt_instance_history")

	item := raiseAndFetch(t, h, inst, "poke")
	require.NotEmpty(t, item.HistoryError, "undecodable history must be reported")
	require.NotNil(t, item.KVSnapshot, "the snapshot must be an empty map, not nil")
	require.Empty(t, item.KVSnapshot, "no snapshot with undecodable history")
	abandonOrch(t, h, item.LockToken, false)
	kvStoreRequireValue(t, h, inst, "k", "v", "KV is not history: it must stay readable")
}

// append_with_execution stores KV events as history only: no delta, no
// store, no clear ([duroxide.Provider.AppendWithExecution]).
func kvAppendWithExecutionNoKVEffects(t T, h *Harness) {
	const inst = "kv-append"
	createInstance(t, h, inst)
	kvStoreAckDelta(t, h, inst, 1, kvStoreSet(inst, 1, 100, "kept", "yes"))
	require.NoError(t, h.Provider.AppendWithExecution(t.Context(), inst, 1, []duroxide.Event{
		kvStoreSet(inst, 1, 101, "appended", "no"),
		kvStoreClear(inst, 1, 102, "kept"),
		kvStoreClearAll(inst, 1, 103),
	}), "append_with_execution")
	require.Contains(t, eventIDs(read(t, h, inst)), uint64(103), "the events must be stored as history")
	kvStoreRequireAll(t, h, inst, map[string]string{"kept": "yes"}, "append must not apply KV events")
	kvStoreComplete(t, h, inst, 1)
	kvStoreRequireSnapshot(t, kvStoreSnapshot(t, h, inst, 1), map[string]duroxide.KvEntry{"kept": kvStoreEntry("yes", 100)})
}

// Bulk pruning, like pruning one instance, never touches KV: KV state
// belongs to the instance, not to an execution.
func kvPruneBulkPreservesKV(t T, h *Harness) {
	const inst = "kv-bprn"
	admin := h.Admin(t)
	createInstance(t, h, inst)
	kvStoreAckDelta(t, h, inst, 1, kvStoreSet(inst, 1, 100, "merged", "m"))
	kvStoreContinueAsNew(t, h, inst, 2)
	kvStoreAckDelta(t, h, inst, 2, kvStoreSet(inst, 2, 200, "running", "r"))

	res, err := admin.PruneExecutionsBulk(t.Context(), duroxide.InstanceFilter{InstanceIDs: []string{inst}},
		duroxide.PruneOptions{KeepLast: ptr(uint32(1))})
	require.NoError(t, err, "prune_executions_bulk")
	require.Equal(t, uint64(1), res.ExecutionsDeleted, "execution 1 must be pruned")
	kvStoreRequireAll(t, h, inst, map[string]string{"merged": "m", "running": "r"})
	kvStoreRequireSnapshot(t, kvStoreSnapshot(t, h, inst, 2), map[string]duroxide.KvEntry{"merged": kvStoreEntry("m", 100)})
}

// delete_instances_atomic and delete_instance_bulk remove both KV tiers of
// the deleted instances and nothing else.
func kvDeleteAtomicAndBulkCascade(t T, h *Harness) {
	const a, b, c = "kv-datom", "kv-dbulk", "kv-dkeep"
	admin := h.Admin(t)
	for _, inst := range []string{a, b, c} {
		createInstance(t, h, inst)
		kvStoreAckDelta(t, h, inst, 1, kvStoreSet(inst, 1, 100, "stored", inst))
		kvStoreComplete(t, h, inst, 1)
	}
	// a also has unmerged writes of a running execution 2.
	kvStoreAckDelta(t, h, a, 2, kvStoreSet(a, 2, 200, "pending", "p"))
	kvStoreRequireAll(t, h, a, map[string]string{"stored": a, "pending": "p"})

	_, err := admin.DeleteInstancesAtomic(t.Context(), []string{a}, true)
	require.NoError(t, err, "delete_instances_atomic")
	res, err := admin.DeleteInstanceBulk(t.Context(), duroxide.InstanceFilter{InstanceIDs: []string{b}})
	require.NoError(t, err, "delete_instance_bulk")
	require.Equal(t, uint64(1), res.InstancesDeleted, "the completed root must be bulk-deleted")

	kvStoreRequireAll(t, h, a, nil, "atomic delete must remove store and delta")
	kvStoreRequireAll(t, h, b, nil, "bulk delete must remove the store")
	kvStoreRequireAll(t, h, c, map[string]string{"stored": c}, "an instance not deleted keeps its KV")

	createInstance(t, h, a)
	kvStoreComplete(t, h, a, 1)
	kvStoreRequireSnapshot(t, kvStoreSnapshot(t, h, a, 1), nil, "a stale delta must not be merged into the new instance")
}

// KV reads with an empty instance id are bad input: a permanent
// ErrInvalidArgument (Provider error rules). Strict, not required: nothing
// can be stored under an empty instance id, so a provider that answers
// "no value" (as duroxide's SQLite provider does) tells the client nothing
// false; the error only points out the caller's mistake sooner.
func kvEmptyInstanceIDRejected(t T, h *Harness) {
	_, _, err := h.Provider.GetKVValue(t.Context(), "", "k")
	requirePermanentIs(t, err, duroxide.ErrInvalidArgument, "get_kv_value with an empty instance id")
	_, err = h.Provider.GetKVAllValues(t.Context(), "")
	requirePermanentIs(t, err, duroxide.ErrInvalidArgument, "get_kv_all_values with an empty instance id")
}

// Not in duroxide (KV events are applied whether or not the ack creates an
// instance record): key/value events of an ack whose metadata creates no
// instance record (no name and version) are still recorded and merged.
func kvAppliedWithoutInstanceRecord(t T, h *Harness) {
	const inst = "kv-no-record"
	enqueueOrch(t, h, startItem(inst))
	item := mustFetchOrch(t, h, longLock)
	ack(t, h, item.LockToken, duroxide.OrchestrationAck{
		ExecutionID:  1,
		HistoryDelta: []duroxide.Event{startedEvent(inst, 1, testVersion), kvStoreSet(inst, 1, 2, "k", "v")},
	})
	kvStoreRequireValue(t, h, inst, "k", "v", "the write is visible to clients")
	kvStoreTurn(t, h, inst, 1, duroxide.ExecutionMetadata{Status: duroxide.StatusCompleted})
	kvStoreRequireAll(t, h, inst, map[string]string{"k": "v"}, "and merged when the execution ends")
}

// Not in duroxide (keys are opaque strings): the
// empty string is a key like any other.
func kvEmptyKeyIsAKey(t T, h *Harness) {
	const inst = "kv-empty-key"
	createInstance(t, h, inst)
	kvStoreAckDelta(t, h, inst, 1, kvStoreSet(inst, 1, 2, "", "empty-key"), kvStoreSet(inst, 1, 3, "x", "other"))
	kvStoreRequireValue(t, h, inst, "", "empty-key")
	kvStoreRequireAll(t, h, inst, map[string]string{"": "empty-key", "x": "other"})
	kvStoreAckDelta(t, h, inst, 1, execEvent(inst, 1, 4, duroxide.KeyValueCleared{Key: ""}))
	kvStoreRequireAbsent(t, h, inst, "")
	kvStoreRequireAll(t, h, inst, map[string]string{"x": "other"})
}
