package proptest

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"

	"github.com/duroxide-go/duroxide"
	"github.com/duroxide-go/duroxide/spec"
)

// These tests check the model itself, on hand-written answers: it must
// accept what the contract allows and name the rule a wrong answer breaks.
// (The model is checked against a real provider by the provider's own
// tests, e.g. memprovider's TestProptest.)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func ok() result { return result{} }

func fails(sentinel error) result {
	err := duroxide.Permanent("op", sentinel, "failed")
	return result{err: err, errKind: classify(err)}
}

// mustStep applies o with answer got and fails t on a disagreement.
func mustStep(t *testing.T, m *model, o op, got result) {
	t.Helper()
	if p := m.step(o, got); p != "" {
		t.Fatalf("%s: %s", o, p)
	}
}

// wantProblem applies o with a wrong answer and checks the rule named.
func wantProblem(t *testing.T, m *model, o op, got result, rule string) {
	t.Helper()
	p := m.clone().step(o, got)
	if !strings.Contains(p, rule) {
		t.Fatalf("%s answered %s: problem %q, want one naming %q", o, got, p, rule)
	}
}

// recomputed returns m's fingerprint computed afresh, not the cached one, so
// that a change through shared memory shows.
func recomputed(m *model) string {
	m.fp = ""
	return m.fingerprint()
}

func enqueue(t *testing.T, m *model, item duroxide.WorkItem) {
	t.Helper()
	mustStep(t, m, op{kind: opEnqueueOrch, item: item}, ok())
}

// fetched is the answer a correct provider gives to a fetch of id.
func fetched(m *model, id, token string) result {
	it := m.expectOrchItem(id)
	it.LockToken = token
	return result{orch: it}
}

func start(id, input string) duroxide.StartOrchestrationItem {
	return duroxide.StartOrchestrationItem{Instance: id, Orchestration: "Orch", Input: input, ExecutionID: 1}
}

func TestModelFetchOrder(t *testing.T) {
	m := newModel(t0)
	enqueue(t, m, duroxide.ExternalRaisedItem{Instance: "parked", Name: "ev"}) // cannot start: skipped
	enqueue(t, m, duroxide.QueueMessageItem{Instance: "orphan", Name: "q"})    // never started: dropped
	enqueue(t, m, start("b", "1"))
	enqueue(t, m, start("a", "2"))
	fetch := op{kind: opFetchOrch, dur: time.Second}

	wantProblem(t, m, fetch, fetched(m, "a", "T1"), "FIFO across instances")
	wantProblem(t, m, fetch, fetched(m, "parked", "T1"), "head-of-line rule")
	wantProblem(t, m, fetch, fetched(m, "orphan", "T1"), "orphan rule")
	wantProblem(t, m, fetch, ok(), "lost work")
	mustStep(t, m, fetch, fetched(m, "b", "T1"))
	if len(m.visibleMsgs("orphan")) != 0 || len(m.visibleMsgs("parked")) != 1 {
		t.Fatalf("after the fetch: orphan messages %d (want 0, dropped), parked %d (want 1, kept)", len(m.visibleMsgs("orphan")), len(m.visibleMsgs("parked")))
	}
	wantProblem(t, m, fetch, fetched(m, "b", "T2"), "exclusivity")
	wantProblem(t, m, fetch, fetched(m, "a", "T1"), "tokens")
	mustStep(t, m, fetch, fetched(m, "a", "T2"))
	mustStep(t, m, fetch, ok())
}

func TestModelBatchRules(t *testing.T) {
	m := newModel(t0)
	enqueue(t, m, start("a", "1"))
	mustStep(t, m, op{kind: opEnqueueOrch, item: duroxide.ExternalRaisedItem{Instance: "a", Name: "late"}, dur: time.Second}, ok())
	enqueue(t, m, duroxide.ExternalRaisedItem{Instance: "a", Name: "second"})
	fetch := op{kind: opFetchOrch, dur: time.Second}

	good := fetched(m, "a", "T1")
	if n := len(good.orch.Messages); n != 2 {
		t.Fatalf("batch has %d messages, want 2 (the delayed one is not visible)", n)
	}
	reversed := fetched(m, "a", "T1")
	reversed.orch.Messages[0], reversed.orch.Messages[1] = reversed.orch.Messages[1], reversed.orch.Messages[0]
	wantProblem(t, m, fetch, reversed, "FIFO within an instance")
	short := fetched(m, "a", "T1")
	short.orch.Messages = short.orch.Messages[:1]
	wantProblem(t, m, fetch, short, "lost message")
	early := fetched(m, "a", "T1")
	early.orch.Messages = append(early.orch.Messages, duroxide.ExternalRaisedItem{Instance: "a", Name: "late"})
	wantProblem(t, m, fetch, early, "visibility")
	attempts := fetched(m, "a", "T1")
	attempts.orch.AttemptCount = 2
	wantProblem(t, m, fetch, attempts, "attempt counts")
	mustStep(t, m, fetch, good)

	// The lock expires at exactly now+1s: an ack then is refused, and the
	// next fetch takes every visible message again, attempt 2.
	mustStep(t, m, op{kind: opAdvance, dur: time.Second}, ok())
	ack := op{kind: opAckOrch, token: "T1", ack: duroxide.OrchestrationAck{ExecutionID: 1}}
	wantProblem(t, m, ack, ok(), "lock expired")
	mustStep(t, m, ack, fails(duroxide.ErrLockExpired))
	again := fetched(m, "a", "T2")
	if again.orch.AttemptCount != 2 || len(again.orch.Messages) != 3 {
		t.Fatalf("refetch: attempt %d with %d messages, want attempt 2 with 3", again.orch.AttemptCount, len(again.orch.Messages))
	}
	mustStep(t, m, fetch, again)
	wantProblem(t, m, op{kind: opAbandonOrch, token: "T1"}, ok(), "superseded")
}

func TestModelAckAtomicAndSingle(t *testing.T) {
	m := newModel(t0)
	enqueue(t, m, start("a", "1"))
	mustStep(t, m, op{kind: opFetchOrch, dur: time.Minute}, fetched(m, "a", "T1"))
	ev := func(id uint64) duroxide.Event {
		return duroxide.Event{EventID: id, InstanceID: "a", ExecutionID: 1, Kind: duroxide.ExternalEvent{Name: "x"}}
	}
	before := m.fingerprint()
	dup := op{kind: opAckOrch, token: "T1", ack: duroxide.OrchestrationAck{ExecutionID: 1, HistoryDelta: []duroxide.Event{ev(1), ev(1)},
		WorkerItems: []duroxide.WorkItem{duroxide.ActivityExecuteItem{Instance: "a", ExecutionID: 1, ID: 2}}}}
	wantProblem(t, m, dup, ok(), "duplicate event id")
	mustStep(t, m, dup, fails(duroxide.ErrDuplicateEvent))
	if recomputed(m) != before {
		t.Fatalf("a failed ack changed the model")
	}
	good := op{kind: opAckOrch, token: "T1", ack: duroxide.OrchestrationAck{ExecutionID: 1, HistoryDelta: []duroxide.Event{ev(2), ev(1)}}}
	mustStep(t, m, good, ok())
	wantProblem(t, m, good, ok(), "single ack")
	mustStep(t, m, op{kind: opRead, instance: "a"}, result{events: []duroxide.Event{ev(1), ev(2)}})
	wantProblem(t, m, op{kind: opRead, instance: "a"}, result{events: []duroxide.Event{ev(2), ev(1)}}, "history")
}

func TestModelWorkerSessions(t *testing.T) {
	m := newModel(t0)
	s := "s1"
	item := duroxide.ActivityExecuteItem{Instance: "a", ExecutionID: 1, ID: 1, SessionID: &s}
	mustStep(t, m, op{kind: opEnqueueWorker, item: item}, ok())
	cfg := func(owner string) *duroxide.SessionFetchConfig {
		return &duroxide.SessionFetchConfig{OwnerID: owner, LockTimeout: 10 * time.Second}
	}
	got := result{work: &duroxide.LockedWorkItem{Item: item, LockToken: "W1", AttemptCount: 1}}
	wantProblem(t, m, op{kind: opFetchWork, dur: time.Second, tags: duroxide.FilterAny()}, got, "sessions")
	mustStep(t, m, op{kind: opFetchWork, dur: time.Second, tags: duroxide.FilterAny(), session: cfg("o1")}, got)
	// The item lock lapses at 1s; the session lease (o1) holds until 10s.
	mustStep(t, m, op{kind: opAdvance, dur: 2 * time.Second}, ok())
	again := result{work: &duroxide.LockedWorkItem{Item: item, LockToken: "W2", AttemptCount: 2}}
	wantProblem(t, m, op{kind: opFetchWork, dur: time.Second, tags: duroxide.FilterAny(), session: cfg("o2")}, again, "leased by")
	mustStep(t, m, op{kind: opFetchWork, dur: time.Second, tags: duroxide.FilterAny(), session: cfg("o1")}, again)
	wantProblem(t, m, op{kind: opAckWork, token: "W1"}, ok(), "invalid lock token")
	mustStep(t, m, op{kind: opAckWork, token: "W2"}, ok())
	mustStep(t, m, op{kind: opCleanupSessions}, ok()) // lease still active: nothing deleted
	mustStep(t, m, op{kind: opAdvance, dur: 20 * time.Second}, ok())
	wantProblem(t, m, op{kind: opCleanupSessions}, ok(), "sessions")
	mustStep(t, m, op{kind: opCleanupSessions}, result{n: 1})
}

func TestCloneIsIndependent(t *testing.T) {
	m := newModel(t0)
	enqueue(t, m, start("a", "1"))
	mustStep(t, m, op{kind: opFetchOrch, dur: time.Minute}, fetched(m, "a", "T1"))
	before := m.fingerprint()
	c := m.clone()
	mustStep(t, c, op{kind: opAckOrch, token: "T1", ack: duroxide.OrchestrationAck{ExecutionID: 1,
		HistoryDelta: []duroxide.Event{{EventID: 1, Kind: duroxide.KeyValueSet{Key: "k", Value: "v"}}}}}, ok())
	if recomputed(m) != before || recomputed(c) == before {
		t.Fatalf("clone shares state with its original")
	}
}

func TestLinModelStepIsPure(t *testing.T) {
	lm := linModel(newModel(t0))
	s0 := lm.Init()
	fp := s0.(*model).fingerprint()
	okStep, s1 := lm.Step(s0, op{kind: opEnqueueOrch, item: start("a", "1")}, ok())
	if !okStep || recomputed(s0.(*model)) != fp || lm.Equal(s0, s1) {
		t.Fatalf("step: ok %v, initial state changed %v, new state equal to initial %v", okStep, recomputed(s0.(*model)) != fp, lm.Equal(s0, s1))
	}
	if okStep, _ := lm.Step(s0, op{kind: opEnqueueOrch, item: start("a", "1")}, fails(duroxide.ErrUnavailable)); okStep {
		t.Fatalf("step accepted an error for a valid enqueue")
	}
	// Two enqueues that raced may be linearized either way.
	e1 := porcupine.Operation{ClientId: 0, Input: op{kind: opEnqueueOrch, item: start("a", "1")}, Call: 1, Output: ok(), Return: 4}
	e2 := porcupine.Operation{ClientId: 1, Input: op{kind: opEnqueueOrch, item: start("a", "2")}, Call: 2, Output: ok(), Return: 3}
	m := newModel(t0)
	enqueue(t, m, start("a", "2"))
	enqueue(t, m, start("a", "1"))
	f := porcupine.Operation{ClientId: 0, Input: op{kind: opFetchOrch, dur: time.Second}, Call: 5, Output: fetched(m, "a", "T"), Return: 6}
	if !porcupine.CheckOperations(lm, []porcupine.Operation{e1, e2, f}) {
		t.Fatalf("racing enqueues then a fetch in the second order: want linearizable")
	}
	e2.Call, e2.Return = 5, 6
	f.Call, f.Return = 7, 8
	if porcupine.CheckOperations(lm, []porcupine.Operation{e1, e2, f}) {
		t.Fatalf("sequential enqueues fetched in the wrong order: want not linearizable")
	}
}

func TestHarnessT(t *testing.T) {
	ht := &harnessT{name: "x"}
	ht.ctx, ht.cancel = t.Context(), func() {}
	cleaned := false
	if _, err := ht.build(func(t spec.T) *spec.Harness { t.Cleanup(func() { cleaned = true }); t.Skipf("no database"); return nil }); err == nil || !strings.Contains(err.Error(), "no database") {
		t.Fatalf("skip: err %v", err)
	}
	ht.finish()
	if !cleaned {
		t.Fatalf("cleanup did not run")
	}
	ht = &harnessT{name: "y"}
	ht.ctx, ht.cancel = t.Context(), func() {}
	if _, err := ht.build(func(spec.T) *spec.Harness { return &spec.Harness{} }); err == nil {
		t.Fatalf("a harness without provider was accepted")
	}
	if _, err := CheckHistory(func(spec.T) *spec.Harness { panic("boom") }, 1); err == nil {
		t.Fatalf("a panicking harness function was accepted")
	}
}

func TestOpTable(t *testing.T) {
	seen := map[string]int{}
	for _, n := range opNamesWeighted {
		seen[n]++
	}
	for i, e := range opTable {
		if seen[e.name] != e.weight || opNamesWeighted[i] != e.name {
			t.Fatalf("action %q: %d entries (want %d), round-robin position %d holds %q", e.name, seen[e.name], e.weight, i, opNamesWeighted[i])
		}
	}
}

func TestClassify(t *testing.T) {
	if classify(errors.New("plain")) != errNotProvider {
		t.Fatalf("a plain error is not a ProviderError")
	}
	if classify(duroxide.Retryable("op", duroxide.ErrUnavailable, "busy")) != duroxide.ErrUnavailable {
		t.Fatalf("sentinel not found")
	}
	if classify(duroxide.Permanent("op", nil, "x")) != errOther {
		t.Fatalf("a ProviderError without sentinel")
	}
}

// TestModelWidenedDraws checks the rules behind the widened generators: a
// corrupt history, an empty key/value value, pointer variants, and when a
// long poll has work.
func TestModelWidenedDraws(t *testing.T) {
	started := func(m *model, id, token string) {
		t.Helper()
		enqueue(t, m, start(id, "in"))
		mustStep(t, m, op{kind: opFetchOrch, dur: time.Minute}, fetched(m, id, token))
		ack := duroxide.OrchestrationAck{ExecutionID: 1,
			HistoryDelta: []duroxide.Event{
				{EventID: 1, InstanceID: id, ExecutionID: 1, Kind: duroxide.OrchestrationStarted{Name: "Orch", Version: "1.0.0"}},
				{EventID: 2, InstanceID: id, ExecutionID: 1, Kind: duroxide.KeyValueSet{Key: "k", Value: ""}},
			},
			Metadata: duroxide.ExecutionMetadata{OrchestrationName: ptr("Orch"), OrchestrationVersion: ptr("1.0.0")}}
		mustStep(t, m, op{kind: opAckOrch, token: token, ack: ack}, ok())
	}

	t.Run("corrupt history", func(t *testing.T) {
		m := newModel(t0)
		started(m, "i", "T1")
		mustStep(t, m, op{kind: opCorrupt, instance: "i"}, ok())
		read := op{kind: opRead, instance: "i"}
		wantProblem(t, m, read, result{events: []duroxide.Event{}}, "history error")
		mustStep(t, m, read, fails(duroxide.ErrCorruptData))

		enqueue(t, m, duroxide.ExternalRaisedItem{Instance: "i", Name: "ev"})
		fetch := op{kind: opFetchOrch, dur: time.Second}
		good := fetched(m, "i", "T2")
		if good.orch.HistoryError == "" || len(good.orch.History) != 0 || good.orch.KVSnapshot == nil {
			t.Fatalf("expected item of a corrupt history = %s; want HistoryError, no history, an empty non-nil snapshot", good)
		}
		hidden := fetched(m, "i", "T2")
		hidden.orch.HistoryError = ""
		wantProblem(t, m, fetch, hidden, "history error")
		nilSnapshot := fetched(m, "i", "T2")
		nilSnapshot.orch.KVSnapshot = nil
		wantProblem(t, m, fetch, nilSnapshot, "history error")
		mustStep(t, m, fetch, good)
	})

	t.Run("empty value is a value", func(t *testing.T) {
		m := newModel(t0)
		started(m, "i", "T1")
		get := op{kind: opGetKV, instance: "i", key: "k"}
		wantProblem(t, m, get, result{}, "key/value")
		mustStep(t, m, get, result{ok: true})
	})

	t.Run("pointer variants are refused", func(t *testing.T) {
		m := newModel(t0)
		for _, o := range []op{
			{kind: opEnqueueOrch, item: &duroxide.StartOrchestrationItem{Instance: "i", Orchestration: "Orch"}},
			{kind: opEnqueueWorker, item: &duroxide.ActivityExecuteItem{Instance: "i", Name: "Act"}},
			{kind: opEnqueueOrch, item: duroxide.ActivityFailedItem{Instance: "i", Details: &duroxide.Application{Kind: duroxide.AppActivityFailed{}}}},
			{kind: opAppend, instance: "i", exec: 1, events: []duroxide.Event{{EventID: 1, Kind: &duroxide.KeyValueSet{Key: "k"}}}},
		} {
			wantProblem(t, m, o, ok(), "want an error wrapping one of [invalid argument]")
			mustStep(t, m, o, fails(duroxide.ErrInvalidArgument))
		}
	})

	t.Run("long poll sees work due later", func(t *testing.T) {
		m := newModel(t0)
		mustStep(t, m, op{kind: opEnqueueOrch, item: start("i", "in"), dur: 2 * time.Second}, ok())
		fetch := op{kind: opFetchOrch, dur: time.Second, poll: 5 * time.Second}
		due := t0.Add(2 * time.Second).UnixNano()
		if m.hasWorkAt(fetch, due-int64(time.Millisecond)) || !m.hasWorkAt(fetch, due) {
			t.Fatalf("hasWorkAt: want work exactly from %s", m.at(due))
		}
		if m.now != t0.UnixNano() {
			t.Fatalf("hasWorkAt moved the model's clock to %s", m.at(m.now))
		}
	})
}
