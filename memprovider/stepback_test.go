package memprovider_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/duroxide-go/duroxide"
	"github.com/duroxide-go/duroxide/memprovider"
)

// TestLocksSurviveClockSteppingBack covers a clock that steps back after a
// call saw a lock or lease as expired: the lock is valid again by the clock,
// so nobody else may take what it holds, its holder may renew and ack it,
// and the provider keeps working (no stale index entry, no panic).
func TestLocksSurviveClockSteppingBack(t *testing.T) {
	const (
		lock = 10 * time.Second
		back = 5 * time.Second // after lock+1s: the lock has 4s left again
	)
	noVersions := &duroxide.DispatcherCapabilityFilter{SupportedDuroxideVersions: []duroxide.SemverRange{}}
	sessionItem := func(id uint64) duroxide.ActivityExecuteItem {
		a := ptActivity("i", 1, id)
		a.SessionID = ptStr("s")
		return a
	}
	session := func(owner string) *duroxide.SessionFetchConfig {
		return &duroxide.SessionFetchConfig{OwnerID: owner, LockTimeout: lock}
	}
	elsewhere, err := duroxide.FilterTags("elsewhere")
	require.NoError(t, err)
	fetchWork := func(t *testing.T, p *memprovider.Provider, sess *duroxide.SessionFetchConfig, filter duroxide.TagFilter) *duroxide.LockedWorkItem {
		t.Helper()
		w, err := p.FetchWorkItem(t.Context(), lock, 0, sess, filter)
		require.NoError(t, err)
		return w
	}
	cases := []struct {
		name string
		// hold takes the lock; seeExpired is a call that, lock+1s later,
		// sees it expired without taking what it holds; renew, other and
		// release run after the step back: the holder's renew (nil: none),
		// another dispatcher's fetch that must find nothing (nil: none),
		// and the holder's ack.
		hold       func(t *testing.T, p *memprovider.Provider) string
		seeExpired func(t *testing.T, p *memprovider.Provider)
		renew      func(t *testing.T, p *memprovider.Provider, token string)
		other      func(t *testing.T, p *memprovider.Provider) bool
		release    func(t *testing.T, p *memprovider.Provider, token string)
	}{
		{
			name: "orchestration lock renewed",
			hold: func(t *testing.T, p *memprovider.Provider) string {
				ptEnqueue(t, p, ptStart("a"))
				item, err := p.FetchOrchestrationItem(t.Context(), lock, 0, nil)
				require.NoError(t, err)
				require.NotNil(t, item)
				return item.LockToken
			},
			seeExpired: func(t *testing.T, p *memprovider.Provider) {
				item, err := p.FetchOrchestrationItem(t.Context(), lock, 0, noVersions)
				require.NoError(t, err)
				require.Nil(t, item)
			},
			renew: func(t *testing.T, p *memprovider.Provider, token string) {
				require.NoError(t, p.RenewOrchestrationItemLock(t.Context(), token, lock))
			},
			other: func(t *testing.T, p *memprovider.Provider) bool { return ptFetch(t, p) != nil },
			release: func(t *testing.T, p *memprovider.Provider, token string) {
				ptAck(t, p, token, duroxide.OrchestrationAck{ExecutionID: 1, HistoryDelta: []duroxide.Event{ptStarted("a", 1)}, Metadata: ptMeta()})
			},
		},
		{
			// Renewed and acked with nobody fetching in between: the ack
			// must leave no index entry behind for a later fetch.
			name: "orchestration lock renewed then acked",
			hold: func(t *testing.T, p *memprovider.Provider) string {
				ptEnqueue(t, p, ptStart("a"))
				item, err := p.FetchOrchestrationItem(t.Context(), lock, 0, nil)
				require.NoError(t, err)
				require.NotNil(t, item)
				return item.LockToken
			},
			seeExpired: func(t *testing.T, p *memprovider.Provider) {
				item, err := p.FetchOrchestrationItem(t.Context(), lock, 0, noVersions)
				require.NoError(t, err)
				require.Nil(t, item)
			},
			renew: func(t *testing.T, p *memprovider.Provider, token string) {
				require.NoError(t, p.RenewOrchestrationItemLock(t.Context(), token, lock))
			},
			release: func(t *testing.T, p *memprovider.Provider, token string) {
				ptAck(t, p, token, duroxide.OrchestrationAck{ExecutionID: 1, HistoryDelta: []duroxide.Event{ptStarted("a", 1)}, Metadata: ptMeta()})
			},
		},
		{
			name: "orchestration lock not renewed",
			hold: func(t *testing.T, p *memprovider.Provider) string {
				ptEnqueue(t, p, ptStart("a"))
				item, err := p.FetchOrchestrationItem(t.Context(), lock, 0, nil)
				require.NoError(t, err)
				require.NotNil(t, item)
				return item.LockToken
			},
			seeExpired: func(t *testing.T, p *memprovider.Provider) {
				item, err := p.FetchOrchestrationItem(t.Context(), lock, 0, noVersions)
				require.NoError(t, err)
				require.Nil(t, item)
			},
			other: func(t *testing.T, p *memprovider.Provider) bool { return ptFetch(t, p) != nil },
			release: func(t *testing.T, p *memprovider.Provider, token string) {
				ptAck(t, p, token, duroxide.OrchestrationAck{ExecutionID: 1, HistoryDelta: []duroxide.Event{ptStarted("a", 1)}, Metadata: ptMeta()})
			},
		},
		{
			name: "worker lock renewed",
			hold: func(t *testing.T, p *memprovider.Provider) string {
				require.NoError(t, p.EnqueueForWorker(t.Context(), ptActivity("i", 1, 1)))
				w := fetchWork(t, p, nil, duroxide.FilterDefaultOnly())
				require.NotNil(t, w)
				return w.LockToken
			},
			seeExpired: func(t *testing.T, p *memprovider.Provider) {
				require.Nil(t, fetchWork(t, p, nil, elsewhere))
			},
			renew: func(t *testing.T, p *memprovider.Provider, token string) {
				require.NoError(t, p.RenewWorkItemLock(t.Context(), token, lock))
			},
			other: func(t *testing.T, p *memprovider.Provider) bool {
				return fetchWork(t, p, nil, duroxide.FilterDefaultOnly()) != nil
			},
			release: func(t *testing.T, p *memprovider.Provider, token string) {
				require.NoError(t, p.AckWorkItem(t.Context(), token, nil))
			},
		},
		{
			name: "worker lock not renewed",
			hold: func(t *testing.T, p *memprovider.Provider) string {
				require.NoError(t, p.EnqueueForWorker(t.Context(), ptActivity("i", 1, 1)))
				w := fetchWork(t, p, nil, duroxide.FilterDefaultOnly())
				require.NotNil(t, w)
				return w.LockToken
			},
			seeExpired: func(t *testing.T, p *memprovider.Provider) {
				require.Nil(t, fetchWork(t, p, nil, elsewhere))
			},
			other: func(t *testing.T, p *memprovider.Provider) bool {
				return fetchWork(t, p, nil, duroxide.FilterDefaultOnly()) != nil
			},
			release: func(t *testing.T, p *memprovider.Provider, token string) {
				require.NoError(t, p.AckWorkItem(t.Context(), token, nil))
			},
		},
		{
			// The token is the session's second item, ready in the
			// holder's session; the lease is what expires.
			name: "session lease renewed",
			hold: func(t *testing.T, p *memprovider.Provider) string {
				require.NoError(t, p.EnqueueForWorker(t.Context(), sessionItem(1)))
				w := fetchWork(t, p, session("holder"), duroxide.FilterDefaultOnly())
				require.NotNil(t, w)
				require.NoError(t, p.AckWorkItem(t.Context(), w.LockToken, nil))
				require.NoError(t, p.EnqueueForWorker(t.Context(), sessionItem(2)))
				return ""
			},
			seeExpired: func(t *testing.T, p *memprovider.Provider) {
				require.Nil(t, fetchWork(t, p, session("other"), elsewhere))
			},
			renew: func(t *testing.T, p *memprovider.Provider, _ string) {
				n, err := p.RenewSessionLock(t.Context(), []string{"holder"}, lock, time.Hour)
				require.NoError(t, err)
				require.Equal(t, 1, n)
			},
			other: func(t *testing.T, p *memprovider.Provider) bool {
				return fetchWork(t, p, session("other"), duroxide.FilterDefaultOnly()) != nil
			},
			release: func(t *testing.T, p *memprovider.Provider, _ string) {
				w := fetchWork(t, p, session("holder"), duroxide.FilterDefaultOnly())
				require.NotNil(t, w, "the holder keeps its session")
				require.NoError(t, p.AckWorkItem(t.Context(), w.LockToken, nil))
			},
		},
		{
			name: "session lease not renewed",
			hold: func(t *testing.T, p *memprovider.Provider) string {
				require.NoError(t, p.EnqueueForWorker(t.Context(), sessionItem(1)))
				w := fetchWork(t, p, session("holder"), duroxide.FilterDefaultOnly())
				require.NotNil(t, w)
				require.NoError(t, p.AckWorkItem(t.Context(), w.LockToken, nil))
				require.NoError(t, p.EnqueueForWorker(t.Context(), sessionItem(2)))
				return ""
			},
			seeExpired: func(t *testing.T, p *memprovider.Provider) {
				require.Nil(t, fetchWork(t, p, session("other"), elsewhere))
			},
			other: func(t *testing.T, p *memprovider.Provider) bool {
				return fetchWork(t, p, session("other"), duroxide.FilterDefaultOnly()) != nil
			},
			release: func(t *testing.T, p *memprovider.Provider, _ string) {
				w := fetchWork(t, p, session("holder"), duroxide.FilterDefaultOnly())
				require.NotNil(t, w, "the holder keeps its session")
				require.NoError(t, p.AckWorkItem(t.Context(), w.LockToken, nil))
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, clock := ptNew(t)
			token := tc.hold(t, p)
			require.NoError(t, clock.Advance(lock+time.Second))
			tc.seeExpired(t, p)
			require.NoError(t, clock.StepBack(back))
			if tc.renew != nil {
				tc.renew(t, p, token)
			}
			if tc.other != nil {
				require.False(t, tc.other(t, p), "the lock is valid again by the clock: nobody else may take what it holds")
			}
			tc.release(t, p, token)

			// The provider keeps working: past every lock, nothing is left
			// held, and new work flows.
			require.NoError(t, clock.Advance(time.Hour))
			require.Nil(t, ptFetch(t, p))
			require.Nil(t, fetchWork(t, p, session("other"), duroxide.FilterAny()))
			ptEnqueue(t, p, ptStart("after"))
			ptMustFetch(t, p, "after")
		})
	}
}
