// Package duroxidelike is a test provider that behaves like duroxide's SQLite
// provider wherever duroxide-go's contract leaves a choice, so that the spec's
// conformance levels can be checked: it must pass every required case and
// fail exactly the strict cases that name one of its behaviours.
//
// It is a decorator over any [duroxide.Provider] (its tests wrap
// memprovider). What it changes, each a behaviour the required level allows
// and a strict case rejects:
//
//   - Racing fetches: a fetch that starts while another fetch of the same
//     queue is selecting its candidate loses the race. Losses alternate
//     between a retryable "database is locked" error (odd losses) and a nil
//     result although work may be left (even losses), as SQLite's busy
//     writers and lost lock upserts do.
//   - Lock tokens: an expired lock is reported as the same permanent
//     [duroxide.ErrInvalidLockToken] as an unknown or used token.
//   - Capability filters: only the first version range is used, and versions
//     compare as packed integers (major*10^6 + minor*10^3 + patch).
//   - Short polling: poll timeouts are ignored.
//   - Fetched items of an instance without an instance record report
//     execution 1, whatever history they carry.
//   - Management timestamps other than completed_at have second resolution,
//     and instance lists are ordered by creation second, oldest first within
//     one second.
//   - Queue depths do not count the messages of an abandoned orchestration
//     batch: they stay tagged by the fetch until a later fetch acks them.
//   - An empty session owner id is an ordinary owner, and key/value reads of
//     an empty instance id find nothing.
//
// It is not a provider anyone should use, and no production package may
// import it: it exists to prove the required level is reachable.
package duroxidelike

import (
	"cmp"
	"context"
	"errors"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/duroxide-go/duroxide"
)

// emptyOwner stands in for the empty session owner id, which the wrapped
// provider would reject.
const emptyOwner = "\x00duroxidelike-empty-owner"

// selectWindow is how many times a fetch yields the processor while it
// "selects" its candidate, so that fetches started together overlap.
const selectWindow = 64

// Provider wraps a provider with duroxide-SQLite-like behaviour (see the
// package doc).
//
// Safe for concurrent use, as the wrapped provider.
type Provider struct {
	duroxide.Provider
	orch, work race

	mu sync.Mutex
	// batches maps a held orchestration lock token to its batch.
	batches map[string]batch
	// tagged counts, per instance, orchestrator messages of abandoned
	// batches: still tagged by a fetch, so not counted as queued.
	tagged map[string]uint64
}

// batch is a held orchestration batch: its instance and message count.
type batch struct {
	instance string
	messages uint64
}

// New wraps inner.
func New(inner duroxide.Provider) *Provider {
	return &Provider{Provider: inner, batches: map[string]batch{}, tagged: map[string]uint64{}}
}

// race simulates one queue's candidate selection: fetches that overlap
// another fetch's selection lose.
type race struct {
	mu        sync.Mutex
	selecting int
	losses    int
}

// enter starts a selection. It returns lost (and the loss number, from 1)
// when another selection is under way; otherwise the caller must call
// selectAndLeave.
func (r *race) enter() (lost bool, loss int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.selecting > 0 {
		r.losses++
		return true, r.losses
	}
	r.selecting++
	return false, 0
}

// selectAndLeave yields the processor to let racing fetches overlap, then
// ends the selection.
func (r *race) selectAndLeave() {
	for range selectWindow {
		runtime.Gosched()
	}
	r.mu.Lock()
	r.selecting--
	r.mu.Unlock()
}

// lossError is the error of an odd loss; an even loss returns no error and
// no work.
func lossError(op string, loss int) error {
	if loss%2 == 1 {
		return duroxide.Retryable(op, duroxide.ErrUnavailable, "database is locked")
	}
	return nil
}

// packed returns v as duroxide's SQLite provider compares it: the version
// whose components are the digits of major*10^6 + minor*10^3 + patch, so
// that a minor or patch of 1000 or more carries into the next component.
func packed(v duroxide.Semver) duroxide.Semver {
	total := v.Major*1_000_000 + v.Minor*1_000 + v.Patch
	return duroxide.Semver{Major: total / 1_000_000, Minor: total / 1_000 % 1_000, Patch: total % 1_000}
}

// sqliteFilter returns filter restricted to its first range, with packed
// bounds.
func sqliteFilter(filter *duroxide.DispatcherCapabilityFilter) *duroxide.DispatcherCapabilityFilter {
	if filter == nil || len(filter.SupportedDuroxideVersions) == 0 {
		return filter
	}
	r := filter.SupportedDuroxideVersions[0]
	r.Min, r.Max = packed(r.Min), packed(r.Max)
	return &duroxide.DispatcherCapabilityFilter{SupportedDuroxideVersions: []duroxide.SemverRange{r}}
}

// FetchOrchestrationItem implements duroxide.Provider.
func (p *Provider) FetchOrchestrationItem(ctx context.Context, lockTimeout, _ time.Duration, filter *duroxide.DispatcherCapabilityFilter) (*duroxide.LockedOrchestrationItem, error) {
	if lockTimeout > 0 { // bad input is the wrapped provider's to reject
		if lost, n := p.orch.enter(); lost {
			return nil, lossError("fetch_orchestration_item", n)
		}
		p.orch.selectAndLeave()
	}
	item, err := p.Provider.FetchOrchestrationItem(ctx, lockTimeout, 0, sqliteFilter(filter))
	if err != nil || item == nil {
		return item, err
	}
	p.mu.Lock()
	delete(p.tagged, item.Instance) // re-tagged by this fetch, and held
	p.batches[item.LockToken] = batch{item.Instance, uint64(len(item.Messages))}
	p.mu.Unlock()
	if admin := p.Provider.AsManagementCapability(); admin != nil {
		if _, err := admin.GetInstanceInfo(ctx, item.Instance); errors.Is(err, duroxide.ErrNotFound) {
			item.ExecutionID = duroxide.InitialExecutionID
		}
	}
	return item, nil
}

// FetchWorkItem implements duroxide.Provider.
func (p *Provider) FetchWorkItem(ctx context.Context, lockTimeout, _ time.Duration, session *duroxide.SessionFetchConfig, tagFilter duroxide.TagFilter) (*duroxide.LockedWorkItem, error) {
	if lockTimeout > 0 {
		if lost, n := p.work.enter(); lost {
			return nil, lossError("fetch_work_item", n)
		}
		p.work.selectAndLeave()
	}
	if session != nil && session.OwnerID == "" {
		s := *session
		s.OwnerID = emptyOwner
		session = &s
	}
	return p.Provider.FetchWorkItem(ctx, lockTimeout, 0, session, tagFilter)
}

// RenewSessionLock implements duroxide.Provider.
func (p *Provider) RenewSessionLock(ctx context.Context, ownerIDs []string, extendFor, idleTimeout time.Duration) (int, error) {
	ids := slices.Clone(ownerIDs)
	for i, id := range ids {
		if id == "" {
			ids[i] = emptyOwner
		}
	}
	return p.Provider.RenewSessionLock(ctx, ids, extendFor, idleTimeout)
}

// oneTokenError reports an expired lock as an invalid token.
func oneTokenError(err error) error {
	var pe *duroxide.ProviderError
	if errors.Is(err, duroxide.ErrLockExpired) && errors.As(err, &pe) {
		return duroxide.Permanent(pe.Op, duroxide.ErrInvalidLockToken, "lock token invalid, expired, or already acked")
	}
	return err
}

// AckOrchestrationItem implements duroxide.Provider.
func (p *Provider) AckOrchestrationItem(ctx context.Context, lockToken string, ack duroxide.OrchestrationAck) error {
	if v := ack.Metadata.PinnedDuroxideVersion; v != nil {
		ack.Metadata.PinnedDuroxideVersion = new(packed(*v)) // a copy: the caller's ack is untouched
	}
	err := p.Provider.AckOrchestrationItem(ctx, lockToken, ack)
	if err == nil {
		p.mu.Lock()
		delete(p.batches, lockToken)
		p.mu.Unlock()
	}
	return oneTokenError(err)
}

// AbandonOrchestrationItem implements duroxide.Provider. The abandoned
// messages stay tagged: queue depths do not count them until they are
// fetched and acked.
func (p *Provider) AbandonOrchestrationItem(ctx context.Context, lockToken string, delay time.Duration, ignoreAttempt bool) error {
	err := p.Provider.AbandonOrchestrationItem(ctx, lockToken, delay, ignoreAttempt)
	if err == nil {
		p.mu.Lock()
		if b, ok := p.batches[lockToken]; ok {
			p.tagged[b.instance] += b.messages
			delete(p.batches, lockToken)
		}
		p.mu.Unlock()
	}
	return oneTokenError(err)
}

// RenewOrchestrationItemLock implements duroxide.Provider.
func (p *Provider) RenewOrchestrationItemLock(ctx context.Context, lockToken string, extendFor time.Duration) error {
	return oneTokenError(p.Provider.RenewOrchestrationItemLock(ctx, lockToken, extendFor))
}

// AckWorkItem implements duroxide.Provider.
func (p *Provider) AckWorkItem(ctx context.Context, lockToken string, completion duroxide.WorkItem) error {
	return oneTokenError(p.Provider.AckWorkItem(ctx, lockToken, completion))
}

// RenewWorkItemLock implements duroxide.Provider.
func (p *Provider) RenewWorkItemLock(ctx context.Context, lockToken string, extendFor time.Duration) error {
	return oneTokenError(p.Provider.RenewWorkItemLock(ctx, lockToken, extendFor))
}

// AbandonWorkItem implements duroxide.Provider.
func (p *Provider) AbandonWorkItem(ctx context.Context, lockToken string, delay time.Duration, ignoreAttempt bool) error {
	return oneTokenError(p.Provider.AbandonWorkItem(ctx, lockToken, delay, ignoreAttempt))
}

// GetKVValue implements duroxide.Provider.
func (p *Provider) GetKVValue(ctx context.Context, instance, key string) (string, bool, error) {
	if instance == "" {
		return "", false, nil
	}
	return p.Provider.GetKVValue(ctx, instance, key)
}

// GetKVAllValues implements duroxide.Provider.
func (p *Provider) GetKVAllValues(ctx context.Context, instance string) (map[string]string, error) {
	if instance == "" {
		return map[string]string{}, nil
	}
	return p.Provider.GetKVAllValues(ctx, instance)
}

// AsManagementCapability implements duroxide.Provider.
func (p *Provider) AsManagementCapability() duroxide.ProviderAdmin {
	a := p.Provider.AsManagementCapability()
	if a == nil {
		return nil
	}
	return admin{a, p}
}

// taggedMessages returns how many orchestrator messages abandoned batches
// left tagged.
func (p *Provider) taggedMessages() uint64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	var n uint64
	for _, c := range p.tagged {
		n += c
	}
	return n
}

// admin wraps a management API with second-resolution created, updated and
// started timestamps,
// creation-second list order and tag-based queue depths.
//
// Safe for concurrent use, as the wrapped API.
type admin struct {
	duroxide.ProviderAdmin
	p *Provider
}

// GetQueueDepths implements duroxide.ProviderAdmin: messages of abandoned
// batches are not counted.
func (a admin) GetQueueDepths(ctx context.Context) (duroxide.QueueDepths, error) {
	d, err := a.ProviderAdmin.GetQueueDepths(ctx)
	if err != nil {
		return d, err
	}
	d.OrchestratorQueue -= min(d.OrchestratorQueue, a.p.taggedMessages())
	return d, nil
}

// seconds truncates Unix milliseconds to whole seconds.
func seconds(ms uint64) uint64 { return ms / 1000 * 1000 }

// GetInstanceInfo implements duroxide.ProviderAdmin.
func (a admin) GetInstanceInfo(ctx context.Context, instance string) (duroxide.InstanceInfo, error) {
	info, err := a.ProviderAdmin.GetInstanceInfo(ctx, instance)
	info.CreatedAt, info.UpdatedAt = seconds(info.CreatedAt), seconds(info.UpdatedAt)
	return info, err
}

// GetExecutionInfo implements duroxide.ProviderAdmin.
func (a admin) GetExecutionInfo(ctx context.Context, instance string, executionID uint64) (duroxide.ExecutionInfo, error) {
	info, err := a.ProviderAdmin.GetExecutionInfo(ctx, instance, executionID)
	info.StartedAt = seconds(info.StartedAt) // CompletedAt keeps milliseconds
	return info, err
}

// ListInstances implements duroxide.ProviderAdmin.
func (a admin) ListInstances(ctx context.Context) ([]string, error) {
	ids, err := a.ProviderAdmin.ListInstances(ctx)
	if err != nil {
		return nil, err
	}
	return a.bySecond(ctx, ids)
}

// ListInstancesByStatus implements duroxide.ProviderAdmin.
func (a admin) ListInstancesByStatus(ctx context.Context, status duroxide.ExecutionStatus) ([]string, error) {
	ids, err := a.ProviderAdmin.ListInstancesByStatus(ctx, status)
	if err != nil {
		return nil, err
	}
	return a.bySecond(ctx, ids)
}

// bySecond reorders a newest-first list by creation second, newest second
// first and oldest first within a second, as ORDER BY created_at DESC over
// second-resolution timestamps may.
func (a admin) bySecond(ctx context.Context, ids []string) ([]string, error) {
	created := make(map[string]uint64, len(ids))
	for _, id := range ids {
		info, err := a.GetInstanceInfo(ctx, id)
		if err != nil {
			return nil, err
		}
		created[id] = info.CreatedAt
	}
	out := slices.Clone(ids)
	slices.Reverse(out)
	slices.SortStableFunc(out, func(x, y string) int { return cmp.Compare(created[y], created[x]) })
	return out, nil
}
