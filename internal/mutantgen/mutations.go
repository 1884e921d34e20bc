package mutantgen

// Mutations is the catalog: every mutant is one realistic provider bug. Each
// snippet is a small, distinctive line of memprovider (a condition, one
// assignment, one call), searched within one function, so that unrelated
// changes to memprovider leave it valid.
//
// To add a mutant: append a Mutation whose replacement keeps the original
// code when p.mut.on("<name>") is false, run
// go generate ./internal/mutantprovider, and run go test
// ./internal/mutantprovider: TestMutants fails until the spec or proptest
// kills the new mutant.
var Mutations = []Mutation{
	// --- Orchestrator queue: ack ---
	{
		Name:        "ack_not_atomic",
		Bug:         "ack is not atomic: history is written before the lock check, so an ack refused for an expired lock leaves its history behind while queues and lock stay unchanged",
		File:        "orchestrator.go",
		Func:        "Provider.AckOrchestrationItem",
		Original:    `return duroxide.Permanent(op, duroxide.ErrLockExpired,`,
		Replacement: "if p.mut.on(\"ack_not_atomic\") {\n\t\t\tp.mutAppendHistoryOnly(in, a)\n\t\t}\n\t\treturn duroxide.Permanent(op, duroxide.ErrLockExpired,",
		Helper: `
// mutAppendHistoryOnly appends an ack's history (when its event ids are
// valid) and changes nothing else: the first half of a two-step ack.
func (p *Provider) mutAppendHistoryOnly(in *instance, a duroxide.OrchestrationAck) {
	if checkEvents("ack_orchestration_item", in.execByID(a.ExecutionID), a.HistoryDelta) == nil {
		in.exec(a.ExecutionID).appendEvents(a.HistoryDelta)
	}
}`,
	},
	{
		Name:        "ack_ignores_expiry",
		Bug:         "ack is accepted with an expired instance lock",
		File:        "orchestrator.go",
		Func:        "Provider.AckOrchestrationItem",
		Original:    `if in.lock.until <= now {`,
		Replacement: `if !p.mut.on("ack_ignores_expiry") && in.lock.until <= now {`,
	},
	{
		Name:     "ack_accepted_twice",
		Bug:      "ack releases the instance lock but does not retire its token: the same token acks again until the next fetch",
		File:     "orchestrator.go",
		Func:     "Provider.AckOrchestrationItem",
		Original: `p.releaseLock(in)`,
		Replacement: `if p.mut.on("ack_accepted_twice") {
		if in.lock.indexed {
			p.orchLocks.Delete(in.lockKey())
			in.lock.indexed = false
		}
	} else {
		p.releaseLock(in)
	}`,
	},
	{
		Name:        "ack_deletes_unfetched_messages",
		Bug:         "ack deletes every visible message of the instance, including messages that arrived during the lock and were not in the batch",
		File:        "orchestrator.go",
		Func:        "Provider.AckOrchestrationItem",
		Original:    `return m.batch == lockToken`,
		Replacement: `return m.batch == lockToken || p.mut.on("ack_deletes_unfetched_messages")`,
	},
	{
		Name:        "timer_fired_visible_early",
		Bug:         "a TimerFired enqueued by an ack is visible at once instead of at its fire_at_ms",
		File:        "orchestrator.go",
		Func:        "Provider.AckOrchestrationItem",
		Original:    `if t, ok := w.(duroxide.TimerFiredItem); ok {`,
		Replacement: `if t, ok := w.(duroxide.TimerFiredItem); ok && !p.mut.on("timer_fired_visible_early") {`,
	},
	{
		Name:        "current_execution_not_advanced",
		Bug:         "ack never raises the instance's current execution id: after continue-as-new, fetches keep loading the old execution",
		File:        "orchestrator.go",
		Func:        "Provider.applyMetadata",
		Original:    `in.meta.currentExec = max(in.meta.currentExec, a.ExecutionID)`,
		Replacement: "if !p.mut.on(\"current_execution_not_advanced\") {\n\t\t\tin.meta.currentExec = max(in.meta.currentExec, a.ExecutionID)\n\t\t}",
	},
	{
		Name:        "kv_not_merged_on_completion",
		Bug:         "a terminal ack (Completed, Failed, ContinuedAsNew) does not merge the execution's key/value writes into the store",
		File:        "orchestrator.go",
		Func:        "Provider.applyMetadata",
		Original:    `if md.Status.IsTerminal() {`,
		Replacement: `if md.Status.IsTerminal() && !p.mut.on("kv_not_merged_on_completion") {`,
	},
	{
		Name:        "custom_status_version_not_bumped",
		Bug:         "a custom status update is stored without bumping its version, so pollers never see it",
		File:        "orchestrator.go",
		Func:        "Provider.applyCustomStatus",
		Original:    `in.meta.statusVersion++`,
		Replacement: "if !p.mut.on(\"custom_status_version_not_bumped\") {\n\t\t\t\tin.meta.statusVersion++\n\t\t\t}",
	},

	{
		Name:        "enqueue_retains_caller_item",
		Bug:         "enqueue_for_orchestrator stores the caller's item without a deep copy: changing its pointer fields afterwards rewrites the queued message",
		File:        "orchestrator.go",
		Func:        "Provider.EnqueueForOrchestrator",
		Original:    `c := duroxide.CloneWorkItem(item)`,
		Replacement: "c := duroxide.CloneWorkItem(item)\n\tif p.mut.on(\"enqueue_retains_caller_item\") {\n\t\tc = item\n\t}",
	},

	// --- Orchestrator queue: fetch ---
	{
		Name:        "lock_expiry_ignored",
		Bug:         "an expired instance lock is never reclaimed: the instance stays locked forever",
		File:        "state.go",
		Func:        "Provider.promoteOrch",
		Original:    `if !ok || k.until > now {`,
		Replacement: `if !ok || k.until > now || p.mut.on("lock_expiry_ignored") {`,
	},
	{
		Name:     "superseded_token_accepted",
		Bug:      "a fetch that reclaims an expired lock keeps its token instead of issuing a new one: the superseded holder can still ack and renew the new holder's turn",
		File:     "orchestrator.go",
		Func:     "Provider.lockAndBuild",
		Original: `p.releaseLock(in)`,
		Replacement: `mutStale := "" // the expired lock's token, kept by the mutation
	if in.lock != nil && p.mut.on("superseded_token_accepted") {
		mutStale = in.lock.token
	}
	p.releaseLock(in)`,
		More: []Point{{
			File:     "orchestrator.go",
			Func:     "Provider.lockAndBuild",
			Original: `token := p.newToken()`,
			Replacement: `token := p.newToken()
	if mutStale != "" {
		token = mutStale
	}`,
		}},
	},
	{
		Name:        "attempt_count_not_incremented",
		Bug:         "redelivery does not increment the attempt count (it is set to 1 on every fetch), so poison messages are never detected",
		File:        "orchestrator.go",
		Func:        "Provider.lockAndBuild",
		Original:    `m.attempts++`,
		Replacement: "if p.mut.on(\"attempt_count_not_incremented\") {\n\t\t\tm.attempts = 1\n\t\t} else {\n\t\t\tm.attempts++\n\t\t}",
	},
	{
		Name:        "redelivery_skips_stale_messages",
		Bug:         "a fetch takes only never-fetched messages: those of an expired or abandoned batch are never delivered again",
		File:        "orchestrator.go",
		Func:        "Provider.lockAndBuild",
		Original:    `m.batch = token`,
		Replacement: "if p.mut.on(\"redelivery_skips_stale_messages\") && m.batch != \"\" {\n\t\t\tcontinue\n\t\t}\n\t\tm.batch = token",
	},
	{
		Name:     "batch_order_reversed",
		Bug:      "FIFO broken within an instance: the batch lists messages newest first",
		File:     "orchestrator.go",
		Func:     "Provider.lockAndBuild",
		Original: `item.AttemptCount = max(item.AttemptCount, m.attempts)`,
		Replacement: `item.AttemptCount = max(item.AttemptCount, m.attempts)
		if p.mut.on("batch_order_reversed") {
			item.Messages = append([]duroxide.WorkItem{duroxide.CloneWorkItem(m.item)}, item.Messages...)
			continue
		}`,
	},
	{
		Name:     "history_aliased",
		Bug:      "a fetched item's history shares the stored events (the Clone was dropped): a runtime that edits it rewrites history",
		File:     "orchestrator.go",
		Func:     "Provider.lockAndBuild",
		Original: `item.History = history`,
		Replacement: `item.History = history
		if p.mut.on("history_aliased") {
			item.History = p.mutStoredEvents(in, item.ExecutionID)
		}`,
		Helper: `
// mutStoredEvents returns the stored events of an execution without
// cloning them.
func (p *Provider) mutStoredEvents(in *instance, executionID uint64) []duroxide.Event {
	e := in.execByID(executionID)
	if e == nil {
		return []duroxide.Event{}
	}
	return append([]duroxide.Event{}, e.history...) // a shallow copy: kinds and pointers are shared
}`,
	},
	{
		Name:        "fetch_reads_first_execution",
		Bug:         "continue-as-new reads the wrong execution: a fetch reports and loads execution 1 whatever the current execution (a hard-coded id)",
		File:        "orchestrator.go",
		Func:        "Provider.lockAndBuild",
		Original:    `history, herr := decodedHistory(in, `,
		Replacement: "if p.mut.on(\"fetch_reads_first_execution\") {\n\t\titem.ExecutionID = duroxide.InitialExecutionID\n\t}\n\thistory, herr := decodedHistory(in, ",
	},
	{
		Name:        "kv_snapshot_includes_current_execution",
		Bug:         "a fetch's key/value snapshot includes the current execution's writes, which replay rebuilds (they are applied twice)",
		File:        "orchestrator.go",
		Func:        "Provider.lockAndBuild",
		Original:    `item.KVSnapshot = kvSnapshot(in)`,
		Replacement: "item.KVSnapshot = kvSnapshot(in)\n\t\tif p.mut.on(\"kv_snapshot_includes_current_execution\") {\n\t\t\titem.KVSnapshot = mutSnapshotWithDelta(in)\n\t\t}",
		Helper: `
// mutSnapshotWithDelta returns the merged store overlaid by the current
// execution's writes, as a client read sees it.
func mutSnapshotWithDelta(in *instance) map[string]duroxide.KvEntry {
	out := maps.Clone(in.kv)
	if out == nil {
		out = map[string]duroxide.KvEntry{}
	}
	for k, d := range in.kvDelta {
		if d.value == nil {
			delete(out, k)
		} else {
			out[k] = duroxide.KvEntry{Value: *d.value, LastUpdatedAtMs: d.at}
		}
	}
	return out
}`,
	},
	{
		Name:        "orphan_queue_messages_kept",
		Bug:         "QueueMessages for an instance that was never started are kept (parked) instead of dropped",
		File:        "orchestrator.go",
		Func:        "Provider.startable",
		Original:    `if allQueue {`,
		Replacement: `if allQueue && !p.mut.on("orphan_queue_messages_kept") {`,
	},
	{
		Name:        "capability_filter_after_lock",
		Bug:         "the capability filter is applied after locking: incompatible instances are locked and their attempts counted",
		File:        "orchestrator.go",
		Func:        "Provider.tryFetchOrch",
		Original:    `if filter != nil && !filter.Compatible(in.currentPinned()) {`,
		Replacement: "if filter != nil && !filter.Compatible(in.currentPinned()) {\n\t\t\tif p.mut.on(\"capability_filter_after_lock\") {\n\t\t\t\tp.lockAndBuild(in, now, lockTimeout)\n\t\t\t\tcontinue\n\t\t\t}",
	},

	// --- Orchestrator queue: abandon and renew ---
	{
		Name:        "abandon_ignores_delay",
		Bug:         "abandon with a delay makes the messages visible at once",
		File:        "orchestrator.go",
		Func:        "Provider.AbandonOrchestrationItem",
		Original:    `if delay > 0 {`,
		Replacement: `if delay > 0 && !p.mut.on("abandon_ignores_delay") {`,
	},
	{
		Name:        "ignore_attempt_ignored",
		Bug:         "abandon with ignoreAttempt keeps the fetch's attempt increment",
		File:        "orchestrator.go",
		Func:        "Provider.AbandonOrchestrationItem",
		Original:    `if ignoreAttempt {`,
		Replacement: `if ignoreAttempt && !p.mut.on("ignore_attempt_ignored") {`,
	},
	{
		Name:        "renew_extends_old_expiry",
		Bug:         "renew adds extendFor to the old expiry instead of setting now+extendFor",
		File:        "orchestrator.go",
		Func:        "Provider.RenewOrchestrationItemLock",
		Original:    `in.lock.until = addNs(now, extendFor)`,
		Replacement: "if p.mut.on(\"renew_extends_old_expiry\") {\n\t\tin.lock.until = addNs(in.lock.until, extendFor)\n\t} else {\n\t\tin.lock.until = addNs(now, extendFor)\n\t}",
	},

	// --- Worker queue ---
	{
		Name:        "worker_lock_expiry_ignored",
		Bug:         "an expired work-item lock is never reclaimed: the activity is never redelivered",
		File:        "worker.go",
		Func:        "workerQueue.promote",
		Original:    `if !ok || e.until > now {`,
		Replacement: `if !ok || e.until > now || w.mut.on("worker_lock_expiry_ignored") {`,
	},
	{
		Name:        "worker_ack_ignores_expiry",
		Bug:         "worker ack does not check the lock's expiry: an expired (not re-fetched) lock still acks",
		File:        "worker.go",
		Func:        "Provider.AckWorkItem",
		Original:    `e, err := p.heldWork(op, lockToken, now)`,
		Replacement: "e, err := p.heldWork(op, lockToken, now)\n\tif held, ok := p.worker.tokens.get(lockToken); err != nil && p.mut.on(\"worker_ack_ignores_expiry\") && ok {\n\t\te, err = held, nil\n\t}",
	},
	{
		Name:        "worker_lock_expiry_not_strict",
		Bug:         "a work-item lock whose expiry equals now still acks and renews (expiry must be strict)",
		File:        "worker.go",
		Func:        "Provider.heldWork",
		Original:    `if e.until <= now {`,
		Replacement: `if e.until < now || (e.until == now && !p.mut.on("worker_lock_expiry_not_strict")) {`,
	},
	{
		Name:        "worker_ack_keeps_item",
		Bug:         "worker ack enqueues the completion but does not delete the work item, which is delivered again after the lock expires",
		File:        "worker.go",
		Func:        "Provider.AckWorkItem",
		Original:    `p.worker.remove(e)`,
		Replacement: "if !p.mut.on(\"worker_ack_keeps_item\") {\n\t\tp.worker.remove(e)\n\t}",
	},
	{
		Name:        "worker_renew_extends_old_expiry",
		Bug:         "work-item renew adds extendFor to the old expiry instead of setting now+extendFor",
		File:        "worker.go",
		Func:        "Provider.RenewWorkItemLock",
		Original:    `e.until = addNs(now, extendFor)`,
		Replacement: "if p.mut.on(\"worker_renew_extends_old_expiry\") {\n\t\te.until = addNs(e.until, extendFor)\n\t} else {\n\t\te.until = addNs(now, extendFor)\n\t}",
	},
	{
		Name:        "worker_abandon_ignores_delay",
		Bug:         "work-item abandon with a delay makes the item visible at once",
		File:        "worker.go",
		Func:        "Provider.AbandonWorkItem",
		Original:    `if delay > 0 {`,
		Replacement: `if delay > 0 && !p.mut.on("worker_abandon_ignores_delay") {`,
	},
	{
		Name:        "worker_ignore_attempt_ignored",
		Bug:         "work-item abandon with ignoreAttempt keeps the fetch's attempt increment",
		File:        "worker.go",
		Func:        "Provider.AbandonWorkItem",
		Original:    `if ignoreAttempt && e.attempts > 0 {`,
		Replacement: `if ignoreAttempt && e.attempts > 0 && !p.mut.on("worker_ignore_attempt_ignored") {`,
	},
	{
		Name:        "worker_attempt_count_not_incremented",
		Bug:         "work-item redelivery does not increment the attempt count (it is set to 1 on every fetch)",
		File:        "worker.go",
		Func:        "Provider.tryFetchWork",
		Original:    `best.attempts++`,
		Replacement: "if p.mut.on(\"worker_attempt_count_not_incremented\") {\n\t\tbest.attempts = 1\n\t} else {\n\t\tbest.attempts++\n\t}",
	},
	{
		Name:        "tag_filter_ignored",
		Bug:         "the worker fetch ignores its tag filter and takes items of any tag",
		File:        "worker.go",
		Func:        "Provider.tryFetchWork",
		Original:    `classes := filterClasses(filter)`,
		Replacement: "classes := filterClasses(filter)\n\tif p.mut.on(\"tag_filter_ignored\") {\n\t\tclasses = nil\n\t}",
	},
	{
		Name:        "session_affinity_ignored",
		Bug:         "session affinity ignored: a worker fetch takes items of sessions another owner holds an active lease on, and steals the lease",
		File:        "worker.go",
		Func:        "Provider.tryFetchWork",
		Original:    `[]string{"", cfg.OwnerID}`,
		Replacement: `p.mutSessionPartitions(cfg.OwnerID)`,
		Helper: `
// mutSessionPartitions returns the session partitions a fetch by owner
// looks at: unowned sessions and its own, or, with session affinity
// ignored, every owner's.
func (p *Provider) mutSessionPartitions(owner string) []string {
	parts := []string{"", owner}
	if p.mut.on("session_affinity_ignored") {
		for other := range p.worker.byOwner {
			parts = append(parts, other)
		}
	}
	return parts
}`,
	},
	{
		Name:        "session_lease_never_expires",
		Bug:         "a session lease never lapses: no other owner can ever claim the session",
		File:        "worker.go",
		Func:        "workerQueue.promote",
		Original:    `if !ok || r.until > now {`,
		Replacement: `if !ok || r.until > now || w.mut.on("session_lease_never_expires") {`,
	},
	{
		Name:        "session_lease_not_refreshed_by_owner",
		Bug:         "a fetch by the session's owner does not refresh its lease (only a claim sets it)",
		File:        "worker.go",
		Func:        "Provider.tryFetchWork",
		Original:    `w.lease(best.session, cfg.OwnerID, until, now)`,
		Replacement: "if r := w.rows[best.session]; !p.mut.on(\"session_lease_not_refreshed_by_owner\") || r == nil || r.owner != cfg.OwnerID || r.until <= now {\n\t\t\tw.lease(best.session, cfg.OwnerID, until, now)\n\t\t}",
	},
	{
		Name:        "renew_session_ignores_idle",
		Bug:         "RenewSessionLock renews idle sessions too, so an idle session's lease never lapses",
		File:        "worker.go",
		Func:        "Provider.RenewSessionLock",
		Original:    `r.lastActivity > cutoff`,
		Replacement: `(r.lastActivity > cutoff || p.mut.on("renew_session_ignores_idle"))`,
	},
	{
		Name:        "cleanup_removes_referenced_sessions",
		Bug:         "CleanupOrphanedSessions deletes expired sessions that work items still reference",
		File:        "worker.go",
		Func:        "Provider.CleanupOrphanedSessions",
		Original:    `p.worker.queues[id] == nil`,
		Replacement: `(p.worker.queues[id] == nil || p.mut.on("cleanup_removes_referenced_sessions"))`,
	},
	{
		Name:        "cancelled_activities_not_deleted",
		Bug:         "an ack's cancelled activities are not deleted from the worker queue",
		File:        "worker.go",
		Func:        "Provider.applyWorkerItems",
		Original:    `for _, c := range a.CancelledActivities {`,
		Replacement: "for _, c := range a.CancelledActivities {\n\t\tif p.mut.on(\"cancelled_activities_not_deleted\") {\n\t\t\tbreak\n\t\t}",
	},

	{
		Name:        "worker_ack_stores_pointer_details",
		Bug:         "worker ack does not validate its completion: an ActivityFailed whose ErrorDetails is a pointer (&Infrastructure{}) is stored, sharing the caller's value, and no JSON-backed provider could store it",
		File:        "worker.go",
		Func:        "Provider.AckWorkItem",
		Original:    `if err := duroxide.ValidateWorkItem(completion); err != nil {`,
		Replacement: `if err := duroxide.ValidateWorkItem(completion); err != nil && !p.mut.on("worker_ack_stores_pointer_details") {`,
	},

	// --- Client reads ---
	{
		Name:        "kv_tombstones_ignored",
		Bug:         "client key/value reads ignore the current execution's deletions and return the stored value",
		File:        "history.go",
		Func:        "Provider.GetKVValue",
		Original:    `if d, ok := in.kvDelta[key]; ok {`,
		Replacement: `if d, ok := in.kvDelta[key]; ok && (d.value != nil || !p.mut.on("kv_tombstones_ignored")) {`,
	},
	{
		Name:        "append_stores_pointer_kinds",
		Bug:         "append_with_execution does not validate event kinds: a pointer kind (&KeyValueSet{}) is appended, sharing the caller's value, and no JSON-backed provider could store it",
		File:        "history.go",
		Func:        "Provider.AppendWithExecution",
		Original:    `if err := checkKinds(op, "events", events); err != nil {`,
		Replacement: `if err := checkKinds(op, "events", events); err != nil && !p.mut.on("append_stores_pointer_kinds") {`,
	},

	{
		Name:        "kv_empty_value_deletes",
		Bug:         "a key/value write of the empty string is stored as a deletion (as a store that maps \"\" to NULL would): the key reads as absent",
		File:        "orchestrator.go",
		Func:        "Provider.applyMetadata",
		Original:    `applyKV(in, a.HistoryDelta, now)`,
		Replacement: "applyKV(in, a.HistoryDelta, now)\n\tif p.mut.on(\"kv_empty_value_deletes\") {\n\t\tmutEmptyValuesDeleted(in)\n\t}",
		Helper: `
// mutEmptyValuesDeleted turns the current execution's empty-string writes
// into tombstones.
func mutEmptyValuesDeleted(in *instance) {
	for key, d := range in.kvDelta {
		if d.value != nil && *d.value == "" {
			in.kvDelta[key] = kvDelta{at: d.at}
		}
	}
}`,
	},
	{
		Name:        "history_error_hidden",
		Bug:         "a fetch of undecodable history hides the error: it returns an empty history and no HistoryError, so the runtime replays from scratch instead of poisoning the instance",
		File:        "orchestrator.go",
		Func:        "Provider.lockAndBuild",
		Original:    "if herr != \"\" {\n\t\titem.History = []duroxide.Event{}",
		Replacement: "if herr != \"\" && p.mut.on(\"history_error_hidden\") {\n\t\thistory = []duroxide.Event{}\n\t\therr = \"\"\n\t}\n\tif herr != \"\" {\n\t\titem.History = []duroxide.Event{}",
	},
	{
		Name:        "tag_match_case_insensitive",
		Bug:         "tags match case-insensitively: a worker filtering on \"gpu\" takes items tagged \"GPU\"",
		File:        "worker.go",
		Func:        "workerQueue.add",
		Original:    `class: tagClass(item.Tag)`,
		Replacement: `class: mutFoldClass(w.mut.on("tag_match_case_insensitive"), tagClass(item.Tag))`,
		More: []Point{{
			File:        "worker.go",
			Func:        "Provider.tryFetchWork",
			Original:    `best := w.firstPlain(classes)`,
			Replacement: "if p.mut.on(\"tag_match_case_insensitive\") && classes != nil {\n\t\tfolded := make([]string, len(classes))\n\t\tfor i, c := range classes {\n\t\t\tfolded[i] = mutFoldClass(true, c)\n\t\t}\n\t\tclasses = folded\n\t}\n\tbest := w.firstPlain(classes)",
		}},
		Helper: `
// mutFoldClass lower-cases an ASCII tag class when on.
func mutFoldClass(on bool, class string) string {
	if !on {
		return class
	}
	b := []byte(class)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}`,
	},

	// --- Management ---
	{
		Name:        "delete_leaves_worker_items",
		Bug:         "deleting an instance leaves its queued and locked work items behind",
		File:        "admin.go",
		Func:        "Provider.deleteAtomic",
		Original:    `ii := p.worker.byInstance[id]; ii != nil;`,
		Replacement: `ii := p.worker.byInstance[id]; ii != nil && !p.mut.on("delete_leaves_worker_items");`,
	},
	{
		Name:        "delete_keeps_instance_lock",
		Bug:         "deleting an instance does not release its lock: an in-flight ack with the old token succeeds",
		File:        "admin.go",
		Func:        "Provider.deleteAtomic",
		Original:    `p.releaseLock(in)`,
		Replacement: "if !p.mut.on(\"delete_keeps_instance_lock\") {\n\t\t\tp.releaseLock(in)\n\t\t}",
	},
	{
		Name:        "delete_ignores_running",
		Bug:         "a non-forced delete deletes running instances",
		File:        "admin.go",
		Func:        "Provider.deleteAtomic",
		Original:    `if !force {`,
		Replacement: `if !force && !p.mut.on("delete_ignores_running") {`,
	},
	{
		Name:        "prune_deletes_running_executions",
		Bug:         "pruning deletes old executions that are still running",
		File:        "admin.go",
		Func:        "Provider.prune",
		Original:    `e.status == duroxide.StatusRunning ||`,
		Replacement: `(e.status == duroxide.StatusRunning && !p.mut.on("prune_deletes_running_executions")) ||`,
	},

	// --- Time ---
	{
		Name:        "long_poll_not_rearmed",
		Bug:         "a call that makes work due before a waiting long poll planned to look again (a delayed enqueue or abandon, a renew that shortens a lock or lease) does not wake it: the poll sleeps out its plan",
		File:        "provider.go",
		Func:        "Provider.wakeAt",
		Original:    `if at < p.waitUntil {`,
		Replacement: `if at < p.waitUntil && !p.mut.on("long_poll_not_rearmed") {`,
	},
	{
		Name:        "clock_step_back_not_repaired",
		Bug:         "a lock or lease seen expired stays expired after the clock steps back: another dispatcher takes what it holds while it is valid by the clock",
		File:        "provider.go",
		Func:        "Provider.now",
		Original:    `if n < p.lastNow {`,
		Replacement: `if n < p.lastNow && !p.mut.on("clock_step_back_not_repaired") {`,
	},
}
