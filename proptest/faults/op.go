package faults

import (
	"fmt"
	"iter"
	"math/bits"
	"strings"
)

// Op is a set of provider methods, one bit per method. A single bit names one
// method (and is the key of the fault counters); rules select methods with
// the union of several bits, e.g. OpFetchOrchestrationItem|OpFetchWorkItem
// or the predefined [OpFetches]. The zero Op is the empty set.
//
// An Op is an immutable value.
type Op uint64

// One bit per method that can fail: the [duroxide.Provider] methods (up to
// OpGetKVAllValues), then the [duroxide.ProviderAdmin] methods (from
// OpListInstances). Each is named after its method.
const (
	OpFetchOrchestrationItem Op = 1 << iota
	OpAckOrchestrationItem
	OpAbandonOrchestrationItem
	OpRenewOrchestrationItemLock
	OpRead
	OpReadWithExecution
	OpAppendWithExecution
	OpEnqueueForOrchestrator
	OpEnqueueForWorker
	OpFetchWorkItem
	OpAckWorkItem
	OpRenewWorkItemLock
	OpAbandonWorkItem
	OpRenewSessionLock
	OpCleanupOrphanedSessions
	OpGetCustomStatus
	OpGetKVValue
	OpGetKVAllValues
	OpListInstances
	OpListInstancesByStatus
	OpListExecutions
	OpReadHistoryWithExecutionID
	OpReadHistory
	OpLatestExecutionID
	OpGetInstanceInfo
	OpGetExecutionInfo
	OpGetSystemMetrics
	OpGetQueueDepths
	OpListChildren
	OpGetParentID
	OpGetInstanceTree
	OpDeleteInstance
	OpDeleteInstancesAtomic
	OpDeleteInstanceBulk
	OpPruneExecutions
	OpPruneExecutionsBulk

	opEnd // one past the last method bit
)

// Method sets.
const (
	// OpFetches are the two dequeue calls.
	OpFetches = OpFetchOrchestrationItem | OpFetchWorkItem
	// OpAcks are the two commit calls.
	OpAcks = OpAckOrchestrationItem | OpAckWorkItem
	// OpAbandons are the two lock-release calls.
	OpAbandons = OpAbandonOrchestrationItem | OpAbandonWorkItem
	// OpRenews are the lock and lease renewals.
	OpRenews = OpRenewOrchestrationItemLock | OpRenewWorkItemLock | OpRenewSessionLock
	// OpEnqueues are the two direct enqueues (client starts, events).
	OpEnqueues = OpEnqueueForOrchestrator | OpEnqueueForWorker
	// OpDispatch is everything a runtime's dispatchers and client call on the
	// hot path: fetches, acks, abandons, renewals and enqueues.
	OpDispatch = OpFetches | OpAcks | OpAbandons | OpRenews | OpEnqueues
	// OpReads are the read-only client calls of [duroxide.Provider].
	OpReads = OpRead | OpReadWithExecution | OpGetCustomStatus | OpGetKVValue | OpGetKVAllValues
	// OpProvider is every failing method of [duroxide.Provider].
	OpProvider = OpListInstances - 1
	// OpAdmin is every method of [duroxide.ProviderAdmin].
	OpAdmin = (opEnd - 1) &^ OpProvider
	// OpAll is every method.
	OpAll = OpProvider | OpAdmin
)

// opNames are the snake_case operation names, in bit order. They match the
// Op field of the errors duroxide's providers return.
var opNames = [...]string{
	"fetch_orchestration_item",
	"ack_orchestration_item",
	"abandon_orchestration_item",
	"renew_orchestration_item_lock",
	"read",
	"read_with_execution",
	"append_with_execution",
	"enqueue_for_orchestrator",
	"enqueue_for_worker",
	"fetch_work_item",
	"ack_work_item",
	"renew_work_item_lock",
	"abandon_work_item",
	"renew_session_lock",
	"cleanup_orphaned_sessions",
	"get_custom_status",
	"get_kv_value",
	"get_kv_all_values",
	"list_instances",
	"list_instances_by_status",
	"list_executions",
	"read_history_with_execution_id",
	"read_history",
	"latest_execution_id",
	"get_instance_info",
	"get_execution_info",
	"get_system_metrics",
	"get_queue_depths",
	"list_children",
	"get_parent_id",
	"get_instance_tree",
	"delete_instance",
	"delete_instances_atomic",
	"delete_instance_bulk",
	"prune_executions",
	"prune_executions_bulk",
}

// Compile-time check: exactly one name per method bit.
const (
	_ = opEnd - 1<<len(opNames)
	_ = 1<<len(opNames) - opEnd
)

// Has reports whether every method of x is in o.
func (o Op) Has(x Op) bool { return o&x == x }

// Each yields the single-method bits of o in bit order.
func (o Op) Each() iter.Seq[Op] {
	return func(yield func(Op) bool) {
		for rest := o & OpAll; rest != 0; rest &= rest - 1 {
			if !yield(rest & -rest) {
				return
			}
		}
	}
}

// String returns the snake_case method names of o joined by "|", e.g.
// "ack_orchestration_item|ack_work_item"; "none" for the empty set. Bits
// outside [OpAll] are shown in hex.
func (o Op) String() string {
	if o == 0 {
		return "none"
	}
	var names []string
	for op := range o.Each() {
		names = append(names, opNames[bits.TrailingZeros64(uint64(op))])
	}
	if extra := o &^ OpAll; extra != 0 {
		names = append(names, fmt.Sprintf("%#x", uint64(extra)))
	}
	return strings.Join(names, "|")
}

// ParseOp returns the set named by a list of snake_case method names
// separated by "|" or ",", e.g. "ack_orchestration_item,fetch_work_item".
// An unknown name is an error.
func ParseOp(names string) (Op, error) {
	var o Op
	for name := range strings.FieldsFuncSeq(names, func(r rune) bool { return r == '|' || r == ',' || r == ' ' }) {
		i := indexOf(name)
		if i < 0 {
			return 0, fmt.Errorf("faults: unknown operation %q", name)
		}
		o |= 1 << i
	}
	return o, nil
}

func indexOf(name string) int {
	for i, n := range opNames {
		if n == name {
			return i
		}
	}
	return -1
}
