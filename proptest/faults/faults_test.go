package faults_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/duroxide-go/duroxide"
	"github.com/duroxide-go/duroxide/fakeclock"
	"github.com/duroxide-go/duroxide/proptest/faults"
	"github.com/duroxide-go/duroxide/spec"
)

// fake is a tiny provider that records which methods were called and
// answers every call with a non-zero result, or with err when set. With
// admin it is its own management API.
type fake struct {
	admin bool
	err   error

	mu    sync.Mutex
	calls map[string]int
}

func newFake(admin bool) *fake { return &fake{admin: admin, calls: map[string]int{}} }

func (f *fake) record(op string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls[op]++
	return f.err
}

func (f *fake) called(op faults.Op) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[op.String()]
}

func (f *fake) total() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, c := range f.calls {
		n += c
	}
	return n
}

// ret returns v, or the zero T with f's error.
func ret[T any](f *fake, op string, v T) (T, error) {
	if err := f.record(op); err != nil {
		var zero T
		return zero, err
	}
	return v, nil
}

func (f *fake) Name() string    { return "fake" }
func (f *fake) Version() string { return "1.2.3" }
func (f *fake) FetchOrchestrationItem(context.Context, time.Duration, time.Duration, *duroxide.DispatcherCapabilityFilter) (*duroxide.LockedOrchestrationItem, error) {
	return ret(f, "fetch_orchestration_item", &duroxide.LockedOrchestrationItem{LockToken: "o1", AttemptCount: 1})
}
func (f *fake) AckOrchestrationItem(context.Context, string, duroxide.OrchestrationAck) error {
	return f.record("ack_orchestration_item")
}
func (f *fake) AbandonOrchestrationItem(context.Context, string, time.Duration, bool) error {
	return f.record("abandon_orchestration_item")
}
func (f *fake) RenewOrchestrationItemLock(context.Context, string, time.Duration) error {
	return f.record("renew_orchestration_item_lock")
}
func (f *fake) Read(context.Context, string) ([]duroxide.Event, error) {
	return ret(f, "read", []duroxide.Event{{EventID: 1}})
}
func (f *fake) ReadWithExecution(context.Context, string, uint64) ([]duroxide.Event, error) {
	return ret(f, "read_with_execution", []duroxide.Event{{EventID: 1}})
}
func (f *fake) AppendWithExecution(context.Context, string, uint64, []duroxide.Event) error {
	return f.record("append_with_execution")
}
func (f *fake) EnqueueForOrchestrator(context.Context, duroxide.WorkItem, time.Duration) error {
	return f.record("enqueue_for_orchestrator")
}
func (f *fake) EnqueueForWorker(context.Context, duroxide.WorkItem) error {
	return f.record("enqueue_for_worker")
}
func (f *fake) FetchWorkItem(context.Context, time.Duration, time.Duration, *duroxide.SessionFetchConfig, duroxide.TagFilter) (*duroxide.LockedWorkItem, error) {
	return ret(f, "fetch_work_item", &duroxide.LockedWorkItem{LockToken: "w1", AttemptCount: 1})
}
func (f *fake) AckWorkItem(context.Context, string, duroxide.WorkItem) error {
	return f.record("ack_work_item")
}
func (f *fake) RenewWorkItemLock(context.Context, string, time.Duration) error {
	return f.record("renew_work_item_lock")
}
func (f *fake) AbandonWorkItem(context.Context, string, time.Duration, bool) error {
	return f.record("abandon_work_item")
}
func (f *fake) RenewSessionLock(context.Context, []string, time.Duration, time.Duration) (int, error) {
	return ret(f, "renew_session_lock", 2)
}
func (f *fake) CleanupOrphanedSessions(context.Context, time.Duration) (int, error) {
	return ret(f, "cleanup_orphaned_sessions", 3)
}
func (f *fake) GetCustomStatus(context.Context, string, uint64) (duroxide.CustomStatus, bool, error) {
	cs, err := ret(f, "get_custom_status", duroxide.CustomStatus{Version: 4})
	return cs, err == nil, err
}
func (f *fake) GetKVValue(context.Context, string, string) (string, bool, error) {
	v, err := ret(f, "get_kv_value", "v")
	return v, err == nil, err
}
func (f *fake) GetKVAllValues(context.Context, string) (map[string]string, error) {
	return ret(f, "get_kv_all_values", map[string]string{"k": "v"})
}
func (f *fake) AsManagementCapability() duroxide.ProviderAdmin {
	if f.admin {
		return f
	}
	return nil
}
func (f *fake) ListInstances(context.Context) ([]string, error) {
	return ret(f, "list_instances", []string{"a"})
}
func (f *fake) ListInstancesByStatus(context.Context, duroxide.ExecutionStatus) ([]string, error) {
	return ret(f, "list_instances_by_status", []string{"a"})
}
func (f *fake) ListExecutions(context.Context, string) ([]uint64, error) {
	return ret(f, "list_executions", []uint64{1})
}
func (f *fake) ReadHistoryWithExecutionID(context.Context, string, uint64) ([]duroxide.Event, error) {
	return ret(f, "read_history_with_execution_id", []duroxide.Event{{EventID: 1}})
}
func (f *fake) ReadHistory(context.Context, string) ([]duroxide.Event, error) {
	return ret(f, "read_history", []duroxide.Event{{EventID: 1}})
}
func (f *fake) LatestExecutionID(context.Context, string) (uint64, error) {
	return ret(f, "latest_execution_id", uint64(1))
}
func (f *fake) GetInstanceInfo(context.Context, string) (duroxide.InstanceInfo, error) {
	return ret(f, "get_instance_info", duroxide.InstanceInfo{InstanceID: "a"})
}
func (f *fake) GetExecutionInfo(context.Context, string, uint64) (duroxide.ExecutionInfo, error) {
	return ret(f, "get_execution_info", duroxide.ExecutionInfo{ExecutionID: 1})
}
func (f *fake) GetSystemMetrics(context.Context) (duroxide.SystemMetrics, error) {
	return ret(f, "get_system_metrics", duroxide.SystemMetrics{TotalInstances: 1})
}
func (f *fake) GetQueueDepths(context.Context) (duroxide.QueueDepths, error) {
	return ret(f, "get_queue_depths", duroxide.QueueDepths{WorkerQueue: 1})
}
func (f *fake) ListChildren(context.Context, string) ([]string, error) {
	return ret(f, "list_children", []string{"c"})
}
func (f *fake) GetParentID(context.Context, string) (*string, error) {
	p := "p"
	return ret(f, "get_parent_id", &p)
}
func (f *fake) GetInstanceTree(context.Context, string) (duroxide.InstanceTree, error) {
	return ret(f, "get_instance_tree", duroxide.InstanceTree{RootID: "a"})
}
func (f *fake) DeleteInstance(context.Context, string, bool) (duroxide.DeleteInstanceResult, error) {
	return ret(f, "delete_instance", duroxide.DeleteInstanceResult{InstancesDeleted: 1})
}
func (f *fake) DeleteInstancesAtomic(context.Context, []string, bool) (duroxide.DeleteInstanceResult, error) {
	return ret(f, "delete_instances_atomic", duroxide.DeleteInstanceResult{InstancesDeleted: 1})
}
func (f *fake) DeleteInstanceBulk(context.Context, duroxide.InstanceFilter) (duroxide.DeleteInstanceResult, error) {
	return ret(f, "delete_instance_bulk", duroxide.DeleteInstanceResult{InstancesDeleted: 1})
}
func (f *fake) PruneExecutions(context.Context, string, duroxide.PruneOptions) (duroxide.PruneResult, error) {
	return ret(f, "prune_executions", duroxide.PruneResult{ExecutionsDeleted: 1})
}
func (f *fake) PruneExecutionsBulk(context.Context, duroxide.InstanceFilter, duroxide.PruneOptions) (duroxide.PruneResult, error) {
	return ret(f, "prune_executions_bulk", duroxide.PruneResult{ExecutionsDeleted: 1})
}

// method is one failing method of the provider or admin API: its op and a
// call returning its results (as one value) and error.
type method struct {
	op   faults.Op
	call func(ctx context.Context, p duroxide.Provider) (any, error)
}

// pair is a result with an extra ok flag.
type pair[T any] struct {
	V  T
	OK bool
}

// methods lists every failing method with its op.
func methods() []method {
	admin := func(p duroxide.Provider) duroxide.ProviderAdmin { return p.AsManagementCapability() }
	// err0 makes an error-only method's result "succeeded" (zero when it
	// failed).
	err0 := func(err error) (any, error) { return err == nil, err }
	return []method{
		{faults.OpFetchOrchestrationItem, func(ctx context.Context, p duroxide.Provider) (any, error) {
			return p.FetchOrchestrationItem(ctx, time.Second, 0, nil)
		}},
		{faults.OpAckOrchestrationItem, func(ctx context.Context, p duroxide.Provider) (any, error) {
			return err0(p.AckOrchestrationItem(ctx, "t", duroxide.OrchestrationAck{}))
		}},
		{faults.OpAbandonOrchestrationItem, func(ctx context.Context, p duroxide.Provider) (any, error) {
			return err0(p.AbandonOrchestrationItem(ctx, "t", 0, false))
		}},
		{faults.OpRenewOrchestrationItemLock, func(ctx context.Context, p duroxide.Provider) (any, error) {
			return err0(p.RenewOrchestrationItemLock(ctx, "t", time.Second))
		}},
		{faults.OpRead, func(ctx context.Context, p duroxide.Provider) (any, error) { return p.Read(ctx, "a") }},
		{faults.OpReadWithExecution, func(ctx context.Context, p duroxide.Provider) (any, error) {
			return p.ReadWithExecution(ctx, "a", 1)
		}},
		{faults.OpAppendWithExecution, func(ctx context.Context, p duroxide.Provider) (any, error) {
			return err0(p.AppendWithExecution(ctx, "a", 1, nil))
		}},
		{faults.OpEnqueueForOrchestrator, func(ctx context.Context, p duroxide.Provider) (any, error) {
			return err0(p.EnqueueForOrchestrator(ctx, duroxide.CancelInstanceItem{Instance: "a"}, 0))
		}},
		{faults.OpEnqueueForWorker, func(ctx context.Context, p duroxide.Provider) (any, error) {
			return err0(p.EnqueueForWorker(ctx, duroxide.ActivityExecuteItem{Instance: "a"}))
		}},
		{faults.OpFetchWorkItem, func(ctx context.Context, p duroxide.Provider) (any, error) {
			return p.FetchWorkItem(ctx, time.Second, 0, nil, duroxide.FilterAny())
		}},
		{faults.OpAckWorkItem, func(ctx context.Context, p duroxide.Provider) (any, error) {
			return err0(p.AckWorkItem(ctx, "t", nil))
		}},
		{faults.OpRenewWorkItemLock, func(ctx context.Context, p duroxide.Provider) (any, error) {
			return err0(p.RenewWorkItemLock(ctx, "t", time.Second))
		}},
		{faults.OpAbandonWorkItem, func(ctx context.Context, p duroxide.Provider) (any, error) {
			return err0(p.AbandonWorkItem(ctx, "t", 0, false))
		}},
		{faults.OpRenewSessionLock, func(ctx context.Context, p duroxide.Provider) (any, error) {
			return p.RenewSessionLock(ctx, []string{"o"}, time.Second, time.Second)
		}},
		{faults.OpCleanupOrphanedSessions, func(ctx context.Context, p duroxide.Provider) (any, error) {
			return p.CleanupOrphanedSessions(ctx, time.Second)
		}},
		{faults.OpGetCustomStatus, func(ctx context.Context, p duroxide.Provider) (any, error) {
			s, ok, err := p.GetCustomStatus(ctx, "a", 0)
			return pair[duroxide.CustomStatus]{s, ok}, err
		}},
		{faults.OpGetKVValue, func(ctx context.Context, p duroxide.Provider) (any, error) {
			v, ok, err := p.GetKVValue(ctx, "a", "k")
			return pair[string]{v, ok}, err
		}},
		{faults.OpGetKVAllValues, func(ctx context.Context, p duroxide.Provider) (any, error) {
			return p.GetKVAllValues(ctx, "a")
		}},
		{faults.OpListInstances, func(ctx context.Context, p duroxide.Provider) (any, error) {
			return admin(p).ListInstances(ctx)
		}},
		{faults.OpListInstancesByStatus, func(ctx context.Context, p duroxide.Provider) (any, error) {
			return admin(p).ListInstancesByStatus(ctx, duroxide.StatusRunning)
		}},
		{faults.OpListExecutions, func(ctx context.Context, p duroxide.Provider) (any, error) {
			return admin(p).ListExecutions(ctx, "a")
		}},
		{faults.OpReadHistoryWithExecutionID, func(ctx context.Context, p duroxide.Provider) (any, error) {
			return admin(p).ReadHistoryWithExecutionID(ctx, "a", 1)
		}},
		{faults.OpReadHistory, func(ctx context.Context, p duroxide.Provider) (any, error) {
			return admin(p).ReadHistory(ctx, "a")
		}},
		{faults.OpLatestExecutionID, func(ctx context.Context, p duroxide.Provider) (any, error) {
			return admin(p).LatestExecutionID(ctx, "a")
		}},
		{faults.OpGetInstanceInfo, func(ctx context.Context, p duroxide.Provider) (any, error) {
			return admin(p).GetInstanceInfo(ctx, "a")
		}},
		{faults.OpGetExecutionInfo, func(ctx context.Context, p duroxide.Provider) (any, error) {
			return admin(p).GetExecutionInfo(ctx, "a", 1)
		}},
		{faults.OpGetSystemMetrics, func(ctx context.Context, p duroxide.Provider) (any, error) {
			return admin(p).GetSystemMetrics(ctx)
		}},
		{faults.OpGetQueueDepths, func(ctx context.Context, p duroxide.Provider) (any, error) {
			return admin(p).GetQueueDepths(ctx)
		}},
		{faults.OpListChildren, func(ctx context.Context, p duroxide.Provider) (any, error) {
			return admin(p).ListChildren(ctx, "a")
		}},
		{faults.OpGetParentID, func(ctx context.Context, p duroxide.Provider) (any, error) {
			return admin(p).GetParentID(ctx, "a")
		}},
		{faults.OpGetInstanceTree, func(ctx context.Context, p duroxide.Provider) (any, error) {
			return admin(p).GetInstanceTree(ctx, "a")
		}},
		{faults.OpDeleteInstance, func(ctx context.Context, p duroxide.Provider) (any, error) {
			return admin(p).DeleteInstance(ctx, "a", false)
		}},
		{faults.OpDeleteInstancesAtomic, func(ctx context.Context, p duroxide.Provider) (any, error) {
			return admin(p).DeleteInstancesAtomic(ctx, []string{"a"}, false)
		}},
		{faults.OpDeleteInstanceBulk, func(ctx context.Context, p duroxide.Provider) (any, error) {
			return admin(p).DeleteInstanceBulk(ctx, duroxide.InstanceFilter{})
		}},
		{faults.OpPruneExecutions, func(ctx context.Context, p duroxide.Provider) (any, error) {
			return admin(p).PruneExecutions(ctx, "a", duroxide.PruneOptions{})
		}},
		{faults.OpPruneExecutionsBulk, func(ctx context.Context, p duroxide.Provider) (any, error) {
			return admin(p).PruneExecutionsBulk(ctx, duroxide.InstanceFilter{}, duroxide.PruneOptions{})
		}},
	}
}

// isZero reports whether v is nil or its type's zero value.
func isZero(v any) bool { return v == nil || reflect.ValueOf(v).IsZero() }

// TestMethodsTable checks that the table covers every method exactly once.
func TestMethodsTable(t *testing.T) {
	var all faults.Op
	for _, m := range methods() {
		require.Equal(t, 1, bits.OnesCount64(uint64(m.op)), "%v is not one method", m.op)
		require.False(t, all.Has(m.op), "%v listed twice", m.op)
		all |= m.op
	}
	require.Equal(t, faults.OpAll, all)
}

// TestNoFaultDelegates: without a firing rule every call reaches the wrapped
// provider once and returns its result unchanged.
func TestNoFaultDelegates(t *testing.T) {
	inner := newFake(true)
	p := faults.Wrap(inner, 1)
	for _, m := range methods() {
		t.Run(m.op.String(), func(t *testing.T) {
			got, err := m.call(t.Context(), p)
			require.NoError(t, err)
			assert.False(t, isZero(got), "result was not passed through")
			assert.Equal(t, 1, inner.called(m.op))
		})
	}
	assert.Empty(t, p.Counts())
	assert.Len(t, p.Calls(), len(methods()))
	assert.Equal(t, "faults(fake)", p.Name())
	assert.Equal(t, "1.2.3", p.Version())
	assert.Same(t, inner, p.Unwrap())
}

// TestModes checks, for every mode and method, what the wrapped provider
// sees and what the caller gets: Before never calls it, After calls it
// exactly once and still fails; the error wraps ErrInjected, and
// ErrUnavailable exactly when retryable; results are zero.
func TestModes(t *testing.T) {
	tests := []struct {
		mode       faults.Mode
		innerCalls int
		retryable  bool
	}{
		{faults.Before, 0, true},
		{faults.After, 1, true},
		{faults.BeforePermanent, 0, false},
		{faults.AfterPermanent, 1, false},
	}
	for _, tt := range tests {
		for _, m := range methods() {
			t.Run(tt.mode.String()+"/"+m.op.String(), func(t *testing.T) {
				inner := newFake(true)
				p := faults.Wrap(inner, 7, faults.Rule{Ops: m.op, Mode: tt.mode, Every: 1})
				got, err := m.call(t.Context(), p)
				require.Error(t, err)
				assert.True(t, isZero(got), "a faulted call returned %v", got)
				assert.Equal(t, tt.innerCalls, inner.called(m.op), "calls reaching the wrapped provider")
				assert.Equal(t, tt.innerCalls, inner.total(), "other methods called")

				assert.ErrorIs(t, err, faults.ErrInjected)
				assert.Equal(t, tt.retryable, errors.Is(err, duroxide.ErrUnavailable), "wraps ErrUnavailable")
				assert.Equal(t, tt.retryable, duroxide.IsRetryable(err), "retryable")
				var pe *duroxide.ProviderError
				require.ErrorAs(t, err, &pe)
				assert.Equal(t, m.op.String(), pe.Op)
				f := faults.InjectedFault(err)
				require.NotNil(t, f)
				assert.Equal(t, faults.Fault{Op: m.op, Mode: tt.mode}, *f)
				assert.Equal(t, tt.mode.Committed(), tt.innerCalls == 1)

				assert.Equal(t, faults.Counts{{Op: m.op, Mode: tt.mode}: 1}, p.Counts())
			})
		}
	}
}

// TestInnerErrors: an error of the wrapped provider is returned unchanged
// and is no injected fault; an After fault on a call that failed on its own
// is not counted.
func TestInnerErrors(t *testing.T) {
	real := duroxide.Permanent("ack_orchestration_item", duroxide.ErrInvalidLockToken, "Invalid lock token")
	tests := []struct {
		name     string
		rules    []faults.Rule
		inner    int
		wantReal bool
	}{
		{"no rule", nil, 1, true},
		{"after", []faults.Rule{{Ops: faults.OpAll, Mode: faults.After, Every: 1}}, 1, true},
		{"after-permanent", []faults.Rule{{Ops: faults.OpAll, Mode: faults.AfterPermanent, Every: 1}}, 1, true},
		{"before", []faults.Rule{{Ops: faults.OpAll, Mode: faults.Before, Every: 1}}, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inner := newFake(false)
			inner.err = real
			p := faults.Wrap(inner, 1, tt.rules...)
			err := p.AckOrchestrationItem(t.Context(), "t", duroxide.OrchestrationAck{})
			assert.Equal(t, tt.inner, inner.called(faults.OpAckOrchestrationItem))
			if tt.wantReal {
				assert.Same(t, real, err)
				assert.Nil(t, faults.InjectedFault(err))
				assert.Zero(t, p.Counts().Total())
			} else {
				assert.ErrorIs(t, err, faults.ErrInjected)
				assert.Equal(t, 1, p.Counts().Total())
			}
		})
	}
}

// pattern calls fetch_work_item n times through p and returns which calls
// failed, by mode ('.' for none).
func pattern(t *testing.T, p *faults.Provider, n int) string {
	t.Helper()
	b := make([]byte, n)
	for i := range b {
		_, err := p.FetchWorkItem(t.Context(), time.Second, 0, nil, duroxide.FilterAny())
		switch f := faults.InjectedFault(err); {
		case err == nil:
			b[i] = '.'
		case f != nil:
			b[i] = f.Mode.String()[0]
		default:
			t.Fatalf("unexpected error %v", err)
		}
	}
	return string(b)
}

// TestDeterministicBySeed: the same seed and rules give the same faults for
// the same calls; another seed gives others.
func TestDeterministicBySeed(t *testing.T) {
	rules := []faults.Rule{
		{Ops: faults.OpFetches, Mode: faults.Before, Probability: 0.2},
		{Ops: faults.OpFetches, Mode: faults.After, Probability: 0.2},
	}
	a := pattern(t, faults.Wrap(newFake(false), 42, rules...), 500)
	b := pattern(t, faults.Wrap(newFake(false), 42, rules...), 500)
	c := pattern(t, faults.Wrap(newFake(false), 43, rules...), 500)
	assert.Equal(t, a, b, "same seed, different faults")
	assert.NotEqual(t, a, c, "different seeds, same faults")
	assert.Contains(t, a, "b")
	assert.Contains(t, a, "a")
	assert.Contains(t, a, ".")
}

// TestSchedules checks Every, Limit, probability 1 and rule precedence.
func TestSchedules(t *testing.T) {
	tests := []struct {
		name  string
		rules []faults.Rule
		want  string
	}{
		{"every 3", []faults.Rule{{Ops: faults.OpFetchWorkItem, Mode: faults.Before, Every: 3}}, "..b..b..b."},
		{"every 3 limit 2", []faults.Rule{{Ops: faults.OpFetchWorkItem, Mode: faults.After, Every: 3, Limit: 2}}, "..a..a...."},
		{"first call only", []faults.Rule{{Ops: faults.OpFetchWorkItem, Mode: faults.Before, Every: 1, Limit: 1}}, "b........."},
		{"probability 1", []faults.Rule{{Ops: faults.OpFetches, Mode: faults.After, Probability: 1}}, "aaaaaaaaaa"},
		{"other method", []faults.Rule{{Ops: faults.OpFetchOrchestrationItem, Mode: faults.Before, Every: 1}}, ".........."},
		{"first rule wins, second keeps its own schedule", []faults.Rule{
			{Ops: faults.OpFetchWorkItem, Mode: faults.Before, Every: 2},
			{Ops: faults.OpFetchWorkItem, Mode: faults.After, Every: 3},
		}, ".bab.b.bab"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, pattern(t, faults.Wrap(newFake(false), 1, tt.rules...), len(tt.want)))
		})
	}
}

// TestCounts checks the counters and their views.
func TestCounts(t *testing.T) {
	p := faults.Wrap(newFake(true), 1,
		faults.Rule{Ops: faults.OpAckOrchestrationItem, Mode: faults.After, Every: 2},
		faults.Rule{Ops: faults.OpFetches, Mode: faults.Before, Every: 1},
		faults.Rule{Ops: faults.OpGetInstanceInfo, Mode: faults.BeforePermanent, Every: 1},
	)
	ctx := t.Context()
	for range 4 {
		_ = p.AckOrchestrationItem(ctx, "t", duroxide.OrchestrationAck{})
		_, _ = p.FetchOrchestrationItem(ctx, time.Second, 0, nil)
	}
	_, _ = p.FetchWorkItem(ctx, time.Second, 0, nil, duroxide.FilterAny())
	_, _ = p.AsManagementCapability().GetInstanceInfo(ctx, "a")

	c := p.Counts()
	assert.Equal(t, faults.Counts{
		{Op: faults.OpAckOrchestrationItem, Mode: faults.After}:      2,
		{Op: faults.OpFetchOrchestrationItem, Mode: faults.Before}:   4,
		{Op: faults.OpFetchWorkItem, Mode: faults.Before}:            1,
		{Op: faults.OpGetInstanceInfo, Mode: faults.BeforePermanent}: 1,
	}, c)
	assert.Equal(t, 8, c.Total())
	assert.Equal(t, 5, c.Mode(faults.Before))
	assert.Equal(t, 2, c.Mode(faults.After))
	assert.Equal(t, 5, c.Op(faults.OpFetches))
	assert.Equal(t, 1, c.Op(faults.OpAdmin))
	assert.Equal(t, map[faults.Op]int{
		faults.OpAckOrchestrationItem: 4, faults.OpFetchOrchestrationItem: 4,
		faults.OpFetchWorkItem: 1, faults.OpGetInstanceInfo: 1,
	}, p.Calls())

	s := c.String()
	assert.Regexp(t, `ack_orchestration_item +0 +2 +0 +0\n`, s)
	assert.Regexp(t, `get_instance_info +0 +0 +1 +0\n`, s)
	assert.Regexp(t, `total +5 +2 +1 +0$`, s)

	// A snapshot is a copy.
	c[faults.Key{Op: faults.OpRead, Mode: faults.After}] = 9
	assert.Equal(t, 8, p.Counts().Total())
	sum := faults.Counts{}
	sum.Add(c)
	sum.Add(c)
	assert.Equal(t, 34, sum.Total())
}

// TestManagementCapability: a provider without management has none through
// the injector either; one with it gets a wrapped admin.
func TestManagementCapability(t *testing.T) {
	assert.Nil(t, faults.Wrap(newFake(false), 1).AsManagementCapability())
	inner := newFake(true)
	a := faults.Wrap(inner, 1, faults.Rule{Ops: faults.OpListInstances, Mode: faults.Before, Every: 1}).AsManagementCapability()
	require.NotNil(t, a)
	_, isInner := a.(*fake)
	assert.False(t, isInner, "the admin API must be wrapped")
	_, err := a.ListInstances(t.Context())
	assert.ErrorIs(t, err, faults.ErrInjected)
	assert.Zero(t, inner.called(faults.OpListInstances))
}

// TestRuleValidate lists invalid rules; New returns their error and Wrap
// panics on them.
func TestRuleValidate(t *testing.T) {
	valid := []faults.Rule{
		{Ops: faults.OpAll, Mode: faults.Before, Probability: 1},
		{Ops: faults.OpRead, Mode: faults.AfterPermanent, Every: 5, Limit: 1},
		{Ops: faults.OpFetches, Mode: faults.After, Probability: 0.001},
	}
	for _, r := range valid {
		assert.NoError(t, r.Validate(), "%v", r)
	}
	invalid := map[string]faults.Rule{
		"no ops":          {Mode: faults.Before, Every: 1},
		"unknown op":      {Ops: 1 << 63, Mode: faults.Before, Every: 1},
		"no mode":         {Ops: faults.OpRead, Every: 1},
		"bad mode":        {Ops: faults.OpRead, Mode: 9, Every: 1},
		"no schedule":     {Ops: faults.OpRead, Mode: faults.Before},
		"both schedules":  {Ops: faults.OpRead, Mode: faults.Before, Every: 2, Probability: 0.5},
		"probability > 1": {Ops: faults.OpRead, Mode: faults.Before, Probability: 1.5},
		"probability < 0": {Ops: faults.OpRead, Mode: faults.Before, Probability: -0.5},
		"negative every":  {Ops: faults.OpRead, Mode: faults.Before, Every: -1},
		"negative limit":  {Ops: faults.OpRead, Mode: faults.Before, Every: 1, Limit: -1},
		"probability NaN": {Ops: faults.OpRead, Mode: faults.Before, Probability: math.NaN()},
	}
	for name, r := range invalid {
		t.Run(name, func(t *testing.T) {
			assert.Error(t, r.Validate())
			_, err := faults.New(newFake(false), 1, r)
			assert.Error(t, err, "New reports an invalid rule")
			assert.Panics(t, func() { faults.Wrap(newFake(false), 1, r) })
		})
	}
	_, err := faults.New(nil, 1)
	assert.Error(t, err, "New reports a nil provider")
	assert.Panics(t, func() { faults.Wrap(nil, 1) })
	assert.Equal(t, "after fetch_orchestration_item|fetch_work_item p=0.1", faults.Rule{Ops: faults.OpFetches, Mode: faults.After, Probability: 0.1}.String())
	assert.Equal(t, "before read every=5 limit=1", faults.Rule{Ops: faults.OpRead, Mode: faults.Before, Every: 5, Limit: 1}.String())
}

// TestOps checks the method sets and name round trip.
func TestOps(t *testing.T) {
	assert.Equal(t, 18, bits.OnesCount64(uint64(faults.OpProvider)))
	assert.Equal(t, 18, bits.OnesCount64(uint64(faults.OpAdmin)))
	assert.Zero(t, faults.OpProvider&faults.OpAdmin)
	assert.Equal(t, faults.OpAll, faults.OpProvider|faults.OpAdmin)
	assert.True(t, faults.OpProvider.Has(faults.OpDispatch|faults.OpReads))

	for op := range faults.OpAll.Each() {
		got, err := faults.ParseOp(op.String())
		require.NoError(t, err)
		assert.Equal(t, op, got)
	}
	got, err := faults.ParseOp("ack_orchestration_item, fetch_work_item|read")
	require.NoError(t, err)
	assert.Equal(t, faults.OpAckOrchestrationItem|faults.OpFetchWorkItem|faults.OpRead, got)
	_, err = faults.ParseOp("ack_everything")
	assert.Error(t, err)
	assert.Equal(t, "none", faults.Op(0).String())
	assert.Equal(t, "ack_orchestration_item|ack_work_item", faults.OpAcks.String())
	assert.Equal(t, "read|0x8000000000000000", (faults.OpRead | 1<<63).String())
}

// TestModeProperties checks the mode predicates.
func TestModeProperties(t *testing.T) {
	tests := []struct {
		mode                 faults.Mode
		name                 string
		committed, retryable bool
	}{
		{faults.Before, "before", false, true},
		{faults.After, "after", true, true},
		{faults.BeforePermanent, "before-permanent", false, false},
		{faults.AfterPermanent, "after-permanent", true, false},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.name, tt.mode.String())
		assert.Equal(t, tt.committed, tt.mode.Committed(), tt.name)
		assert.Equal(t, tt.retryable, tt.mode.Retryable(), tt.name)
	}
	assert.Equal(t, len(tests), len(faults.Modes()))
	assert.Equal(t, "Mode(0)", faults.Mode(0).String())
}

// TestConcurrentUse calls the injector from many goroutines (run with
// -race): every call is counted, and faults never exceed calls.
func TestConcurrentUse(t *testing.T) {
	inner := newFake(true)
	p := faults.Wrap(inner, 3, faults.DefaultRules()...)
	const workers, each = 8, 200
	var wg sync.WaitGroup
	var mu sync.Mutex
	injected := 0
	for range workers {
		wg.Go(func() {
			for range each {
				err := p.EnqueueForOrchestrator(t.Context(), duroxide.CancelInstanceItem{Instance: "a"}, 0)
				if faults.InjectedFault(err) != nil {
					mu.Lock()
					injected++
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	c := p.Counts()
	assert.Equal(t, workers*each, p.Calls()[faults.OpEnqueueForOrchestrator])
	assert.Equal(t, injected, c.Total())
	assert.Equal(t, workers*each-c.Mode(faults.Before), inner.called(faults.OpEnqueueForOrchestrator))
	assert.Positive(t, c.Mode(faults.Before))
	assert.Positive(t, c.Mode(faults.After))
}

// TestRunNeedsFakeClock: the workload refuses a real-time harness, and
// invalid rules.
func TestRunNeedsFakeClock(t *testing.T) {
	_, err := faults.Run(t.Context(), &spec.Harness{Provider: newFake(false)}, faults.Config{Rules: faults.DefaultRules()})
	assert.ErrorIs(t, err, faults.ErrNeedsFakeClock)

	h := &spec.Harness{Provider: newFake(false), Clock: fakeclock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))}
	r, err := faults.Run(t.Context(), h, faults.Config{Rules: []faults.Rule{{Ops: faults.OpRead, Mode: faults.Before}}})
	require.Error(t, err, "Run accepted a rule without a schedule")
	assert.NotErrorIs(t, err, faults.ErrNeedsFakeClock)
	assert.Nil(t, r)
}

// ExampleWrap shows an After fault on an ack: the wrapped provider committed
// the turn, the caller sees a retryable injected error.
func ExampleWrap() {
	inner := newFake(false)
	p := faults.Wrap(inner, 1, faults.Rule{Ops: faults.OpAckOrchestrationItem, Mode: faults.After, Every: 1})
	err := p.AckOrchestrationItem(context.Background(), "token", duroxide.OrchestrationAck{})
	f := faults.InjectedFault(err)
	fmt.Println(err)
	fmt.Println("retryable:", duroxide.IsRetryable(err), "committed:", f.Mode.Committed(), "reached the provider:", inner.called(faults.OpAckOrchestrationItem))
	// Output:
	// ack_orchestration_item: injected after fault: ack_orchestration_item took effect, the caller sees an error
	// retryable: true committed: true reached the provider: 1
}
