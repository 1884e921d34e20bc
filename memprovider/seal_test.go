package memprovider_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/duroxide-go/duroxide"
)

// Values that satisfy the sum-type interfaces but are not variants (pointers
// to variants, typed nil pointers, invalid nested ErrorDetails) must be
// refused on every write path, as a JSON-backed provider's encoder refuses
// them, and change nothing.

// ptBadKinds are event kinds no provider may store.
func ptBadKinds() map[string]duroxide.EventKind {
	return map[string]duroxide.EventKind{
		"pointer KeyValueSet":              &duroxide.KeyValueSet{Key: "k9", Value: "v9"},
		"pointer KeyValuesCleared":         &duroxide.KeyValuesCleared{},
		"pointer CustomStatusUpdated":      &duroxide.CustomStatusUpdated{Status: ptStr("s")},
		"pointer ExternalEvent":            &duroxide.ExternalEvent{Name: "e"},
		"nil pointer OrchestrationStarted": (*duroxide.OrchestrationStarted)(nil),
		"OrchestrationFailed pointer details": duroxide.OrchestrationFailed{
			Details: &duroxide.Application{Kind: duroxide.AppOrchestrationFailed{}, Message: "m"},
		},
		"ActivityFailed pointer app kind": duroxide.ActivityFailed{
			Details: duroxide.Application{Kind: &duroxide.AppCancelled{Reason: "r"}},
		},
		"SubOrchestrationFailed nil details": duroxide.SubOrchestrationFailed{},
		"nil kind":                           nil,
	}
}

// ptBadOrchItems are orchestrator-queue items (by routing) no provider may
// store.
func ptBadOrchItems() map[string]duroxide.WorkItem {
	return map[string]duroxide.WorkItem{
		"pointer StartOrchestration":         &duroxide.StartOrchestrationItem{Instance: "alpha", Orchestration: ptOrch},
		"pointer ExternalRaised":             &duroxide.ExternalRaisedItem{Instance: "alpha", Name: "n"},
		"nil pointer TimerFired":             (*duroxide.TimerFiredItem)(nil),
		"nil pointer ActivityExecute":        (*duroxide.ActivityExecuteItem)(nil),
		"ActivityFailed pointer details":     duroxide.ActivityFailedItem{Instance: "alpha", ExecutionID: 2, ID: 3, Details: &duroxide.Infrastructure{Operation: "o"}},
		"SubOrchFailed pointer poison type":  duroxide.SubOrchFailedItem{ParentInstance: "alpha", Details: duroxide.Poison{MessageType: &duroxide.PoisonOrchestration{Instance: "c"}}},
		"ActivityFailed unknown config kind": duroxide.ActivityFailedItem{Instance: "alpha", Details: duroxide.Configuration{Kind: "Other"}},
	}
}

// ptBadWorkerItems are worker-queue items no provider may store.
func ptBadWorkerItems() map[string]duroxide.WorkItem {
	a := ptActivity("alpha", 2, 9)
	return map[string]duroxide.WorkItem{
		"pointer ActivityExecute":     &a,
		"nil pointer ActivityExecute": (*duroxide.ActivityExecuteItem)(nil),
	}
}

// ptBadCompletions are worker-ack completions no provider may store.
func ptBadCompletions() map[string]duroxide.WorkItem {
	return map[string]duroxide.WorkItem{
		"pointer ActivityCompleted":      &duroxide.ActivityCompletedItem{Instance: "alpha", ExecutionID: 2, ID: 3},
		"nil pointer ActivityFailed":     (*duroxide.ActivityFailedItem)(nil),
		"ActivityFailed pointer details": duroxide.ActivityFailedItem{Instance: "alpha", ExecutionID: 2, ID: 3, Details: &duroxide.Configuration{Kind: duroxide.Nondeterminism}},
		"ActivityFailed nil details":     duroxide.ActivityFailedItem{Instance: "alpha", ExecutionID: 2, ID: 3},
	}
}

func ptNonVariantCalls() []ptRejectedCall {
	var out []ptRejectedCall
	add := func(name string, call func(ctx context.Context, f *ptFixture) error) {
		out = append(out, ptRejectedCall{name: name, sentinel: duroxide.ErrInvalidArgument, call: call})
	}
	ack := func(a duroxide.OrchestrationAck) func(ctx context.Context, f *ptFixture) error {
		return func(ctx context.Context, f *ptFixture) error {
			a.ExecutionID = 1
			a.Metadata = ptMeta()
			return f.p.AckOrchestrationItem(ctx, f.orchToken, a)
		}
	}
	ok := ptEvent("beta", 1, 2, duroxide.ExternalEvent{Name: "e1", Data: "1"})
	for name, kind := range ptBadKinds() {
		bad := ptEvent("beta", 1, 3, kind)
		add("AckOrchestrationItem/history_delta/"+name, ack(duroxide.OrchestrationAck{HistoryDelta: []duroxide.Event{ok, bad}}))
		add("AppendWithExecution/"+name, func(ctx context.Context, f *ptFixture) error {
			return f.p.AppendWithExecution(ctx, "alpha", 2, []duroxide.Event{ptEvent("alpha", 2, 7, duroxide.TimerFired{}), ptEvent("alpha", 2, 8, kind)})
		})
		add("AppendWithExecution/new instance/"+name, func(ctx context.Context, f *ptFixture) error {
			return f.p.AppendWithExecution(ctx, "fresh", 1, []duroxide.Event{ptEvent("fresh", 1, 1, kind)})
		})
	}
	for name, item := range ptBadOrchItems() {
		add("EnqueueForOrchestrator/"+name, func(ctx context.Context, f *ptFixture) error {
			return f.p.EnqueueForOrchestrator(ctx, item, 0)
		})
		add("AckOrchestrationItem/orchestrator_items/"+name, ack(duroxide.OrchestrationAck{
			HistoryDelta:      []duroxide.Event{ok},
			OrchestratorItems: []duroxide.WorkItem{duroxide.ExternalRaisedItem{Instance: "alpha", Name: "x"}, item},
		}))
	}
	for name, item := range ptBadWorkerItems() {
		add("EnqueueForWorker/"+name, func(ctx context.Context, f *ptFixture) error {
			return f.p.EnqueueForWorker(ctx, item)
		})
		add("AckOrchestrationItem/worker_items/"+name, ack(duroxide.OrchestrationAck{
			HistoryDelta: []duroxide.Event{ok},
			WorkerItems:  []duroxide.WorkItem{ptActivity("beta", 1, 3), item},
		}))
	}
	for name, item := range ptBadCompletions() {
		add("AckWorkItem/"+name, func(ctx context.Context, f *ptFixture) error {
			return f.p.AckWorkItem(ctx, f.workToken, item)
		})
	}
	return out
}

// TestNonVariantsAreRefusedOnEveryWritePath: a pointer variant (or another
// value the wire format cannot encode) fails the call with a permanent
// ErrInvalidArgument that also matches ErrUnknownVariant, does not panic, and
// changes nothing.
func TestNonVariantsAreRefusedOnEveryWritePath(t *testing.T) {
	want := ptObserve(t, newPtFixture(t))
	for _, tc := range ptNonVariantCalls() {
		t.Run(tc.name, func(t *testing.T) {
			f := newPtFixture(t)
			var err error
			require.NotPanics(t, func() { err = tc.call(t.Context(), f) })
			requirePermanentIs(t, err, duroxide.ErrInvalidArgument)
			require.ErrorIs(t, err, duroxide.ErrUnknownVariant)
			require.Equal(t, want, ptObserve(t, f), "a rejected call changed the provider's state")
		})
	}
}

// TestInvalidArgumentMessagesHaveOnePrefix: the message names the operation
// and "invalid argument" once, then the argument, then the problem.
func TestInvalidArgumentMessagesHaveOnePrefix(t *testing.T) {
	cases := []struct {
		name string
		call func(ctx context.Context, f *ptFixture) error
		want string
	}{
		{"ack orchestrator item on the wrong queue", func(ctx context.Context, f *ptFixture) error {
			return f.p.AckOrchestrationItem(ctx, f.orchToken, duroxide.OrchestrationAck{ExecutionID: 1, OrchestratorItems: []duroxide.WorkItem{ptActivity("beta", 1, 3)}})
		}, "ack_orchestration_item: invalid argument: orchestrator_items[0]: ActivityExecute belongs to the worker queue, not the orchestrator queue"},
		{"ack nil orchestrator item", func(ctx context.Context, f *ptFixture) error {
			return f.p.AckOrchestrationItem(ctx, f.orchToken, duroxide.OrchestrationAck{ExecutionID: 1, OrchestratorItems: []duroxide.WorkItem{duroxide.ExternalRaisedItem{Instance: "beta"}, nil}})
		}, "ack_orchestration_item: invalid argument: orchestrator_items[1]: unknown variant: nil WorkItem"},
		{"ack orchestrator item without instance", func(ctx context.Context, f *ptFixture) error {
			return f.p.AckOrchestrationItem(ctx, f.orchToken, duroxide.OrchestrationAck{ExecutionID: 1, OrchestratorItems: []duroxide.WorkItem{duroxide.SubOrchCompletedItem{}}})
		}, "ack_orchestration_item: invalid argument: orchestrator_items[0]: SubOrchCompleted has an empty instance id"},
		{"ack worker item on the wrong queue", func(ctx context.Context, f *ptFixture) error {
			return f.p.AckOrchestrationItem(ctx, f.orchToken, duroxide.OrchestrationAck{ExecutionID: 1, WorkerItems: []duroxide.WorkItem{duroxide.ExternalRaisedItem{Instance: "beta"}}})
		}, "ack_orchestration_item: invalid argument: worker_items[0]: ExternalRaised belongs to the orchestrator queue (the worker queue takes only ActivityExecute)"},
		{"ack worker item with empty session", func(ctx context.Context, f *ptFixture) error {
			a := ptActivity("beta", 1, 3)
			a.SessionID = ptStr("")
			return f.p.AckOrchestrationItem(ctx, f.orchToken, duroxide.OrchestrationAck{ExecutionID: 1, WorkerItems: []duroxide.WorkItem{a}})
		}, "ack_orchestration_item: invalid argument: worker_items[0]: ActivityExecute has an empty session id"},
		{"ack pointer event kind", func(ctx context.Context, f *ptFixture) error {
			return f.p.AckOrchestrationItem(ctx, f.orchToken, duroxide.OrchestrationAck{ExecutionID: 1, HistoryDelta: []duroxide.Event{ptEvent("beta", 1, 5, &duroxide.KeyValueSet{})}})
		}, "ack_orchestration_item: invalid argument: history_delta[0] (event_id 5): unknown variant: EventKind *duroxide.KeyValueSet is a pointer; pass the value duroxide.KeyValueSet"},
		{"ack cancelled activity without instance", func(ctx context.Context, f *ptFixture) error {
			return f.p.AckOrchestrationItem(ctx, f.orchToken, duroxide.OrchestrationAck{ExecutionID: 1, CancelledActivities: []duroxide.ScheduledActivityIdentifier{{}}})
		}, "ack_orchestration_item: invalid argument: cancelled_activities[0]: empty instance id"},
		{"append nil kind", func(ctx context.Context, f *ptFixture) error {
			return f.p.AppendWithExecution(ctx, "alpha", 2, []duroxide.Event{ptEvent("alpha", 2, 7, nil)})
		}, "append_with_execution: invalid argument: events[0] (event_id 7): unknown variant: nil EventKind"},
		{"enqueue pointer item", func(ctx context.Context, f *ptFixture) error {
			return f.p.EnqueueForOrchestrator(ctx, &duroxide.StartOrchestrationItem{}, 0)
		}, "enqueue_for_orchestrator: invalid argument: item: unknown variant: WorkItem *duroxide.StartOrchestrationItem is a pointer; pass the value duroxide.StartOrchestrationItem"},
		{"enqueue on the wrong queue", func(ctx context.Context, f *ptFixture) error {
			return f.p.EnqueueForOrchestrator(ctx, ptActivity("alpha", 2, 9), 0)
		}, "enqueue_for_orchestrator: invalid argument: item: ActivityExecute belongs to the worker queue, not the orchestrator queue"},
		{"enqueue worker on the wrong queue", func(ctx context.Context, f *ptFixture) error {
			return f.p.EnqueueForWorker(ctx, ptStart("alpha"))
		}, "enqueue_for_worker: invalid argument: item: StartOrchestration belongs to the orchestrator queue (the worker queue takes only ActivityExecute)"},
		{"worker ack with a non-completion", func(ctx context.Context, f *ptFixture) error {
			return f.p.AckWorkItem(ctx, f.workToken, duroxide.ExternalRaisedItem{Instance: "alpha"})
		}, "ack_work_item: invalid argument: completion: ExternalRaised is not a completion (want ActivityCompleted or ActivityFailed)"},
		{"worker ack with nested pointer", func(ctx context.Context, f *ptFixture) error {
			return f.p.AckWorkItem(ctx, f.workToken, duroxide.ActivityFailedItem{Instance: "alpha", Details: &duroxide.Infrastructure{}})
		}, "ack_work_item: invalid argument: completion: ActivityFailed.details: unknown variant: ErrorDetails *duroxide.Infrastructure is a pointer; pass the value duroxide.Infrastructure"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newPtFixture(t)
			err := tc.call(t.Context(), f)
			requirePermanentIs(t, err, duroxide.ErrInvalidArgument)
			require.EqualError(t, err, tc.want)
		})
	}
}

// TestAckWithoutNameAndVersionCreatesNoRecord: an ack whose metadata lacks
// name or version is valid (the runtime acks every turn after an execution's
// first this way) and writes everything but the instance record; the first
// ack with both creates it.
func TestAckWithoutNameAndVersionCreatesNoRecord(t *testing.T) {
	ctx := t.Context()
	for _, tc := range []struct {
		name string
		md   duroxide.ExecutionMetadata
	}{
		{"empty", duroxide.ExecutionMetadata{}},
		{"name only", duroxide.ExecutionMetadata{OrchestrationName: ptStr(ptOrch)}},
		{"version only", duroxide.ExecutionMetadata{OrchestrationVersion: ptStr(ptVersion)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, _ := ptNew(t)
			const inst = "no-record"
			ptEnqueue(t, p, ptStart(inst))
			item := ptMustFetch(t, p, inst)
			ptAck(t, p, item.LockToken, duroxide.OrchestrationAck{
				ExecutionID: 1,
				HistoryDelta: []duroxide.Event{
					ptStarted(inst, 1),
					ptEvent(inst, 1, 2, duroxide.CustomStatusUpdated{Status: ptStr("s")}),
					ptEvent(inst, 1, 3, duroxide.KeyValueSet{Key: "k", Value: "v", LastUpdatedAtMs: 1}),
				},
				WorkerItems: []duroxide.WorkItem{ptActivity(inst, 1, 4)},
				Metadata:    tc.md,
			})

			history, err := p.Read(ctx, inst)
			require.NoError(t, err)
			require.Len(t, history, 3, "history is stored without a record")
			v, ok, err := p.GetKVValue(ctx, inst, "k")
			require.NoError(t, err)
			require.True(t, ok, "the key/value delta is stored without a record")
			require.Equal(t, "v", v)
			_, changed, err := p.GetCustomStatus(ctx, inst, 0)
			require.NoError(t, err)
			require.False(t, changed, "custom status lives on the record, so it is not applied")
			ids, err := p.ListInstances(ctx)
			require.NoError(t, err)
			require.NotContains(t, ids, inst)
			_, err = p.GetInstanceInfo(ctx, inst)
			requirePermanentIs(t, err, duroxide.ErrNotFound)
			w, err := p.FetchWorkItem(ctx, ptLock, 0, nil, duroxide.FilterDefaultOnly())
			require.NoError(t, err)
			require.NotNil(t, w, "worker items are enqueued without a record")

			// The next turn's identity comes from history; its ack with name
			// and version creates the record.
			ptEnqueue(t, p, duroxide.ExternalRaisedItem{Instance: inst, Name: "e"})
			next := ptMustFetch(t, p, inst)
			require.Equal(t, ptOrch, next.OrchestrationName)
			ptAck(t, p, next.LockToken, duroxide.OrchestrationAck{ExecutionID: 1, Metadata: ptMeta()})
			info, err := p.GetInstanceInfo(ctx, inst)
			require.NoError(t, err)
			require.Equal(t, ptOrch, info.OrchestrationName)
		})
	}
}

// TestStartOrchestrationExecutionIDIsOpaque: the provider does not interpret
// a StartOrchestration's execution id (duroxide's client writes 1 and its
// runtime ignores it); 0 is stored and returned as given, and the fetched
// turn reports the execution the provider knows (1 for a new instance).
func TestStartOrchestrationExecutionIDIsOpaque(t *testing.T) {
	p, _ := ptNew(t)
	start := ptStart("zero")
	start.ExecutionID = 0
	ptEnqueue(t, p, start)
	item := ptMustFetch(t, p, "zero")
	require.Equal(t, []duroxide.WorkItem{start}, item.Messages)
	require.Equal(t, duroxide.InitialExecutionID, item.ExecutionID)
}
