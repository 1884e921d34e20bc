package pgprovider

import (
	"context"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/duroxide-go/duroxide"
)

// listener owns one connection that LISTENs on the provider's channel and
// wakes long polls: every notification closes the current wake channel and
// replaces it. It starts with the first long poll. After a (re)connect it
// wakes everyone once, since notifications sent while it was away are lost.
type listener struct {
	pool    *pgxpool.Pool
	channel string

	mu      sync.Mutex
	wake    chan struct{} // closed on the next notification
	started bool
	up      bool          // LISTEN is active on a live connection
	ready   chan struct{} // closed once the first connection attempt ended
	stop    context.CancelFunc
	done    chan struct{}
	closed  bool
}

// reconnectDelay is how long the listener waits before reconnecting after
// losing its connection; pollInterval is how often waiters re-poll while it
// is down.
const (
	reconnectDelay = 100 * time.Millisecond
	pollInterval   = 100 * time.Millisecond
)

func newListener(pool *pgxpool.Pool, channel string) *listener {
	return &listener{pool: pool, channel: channel, wake: make(chan struct{})}
}

// current starts the listener if needed (waiting for its first connection
// attempt) and returns the channel the next notification closes, and
// whether notifications are flowing (if not, waiters must re-poll).
func (l *listener) current(ctx context.Context) (<-chan struct{}, bool) {
	l.mu.Lock()
	if !l.started && !l.closed {
		l.started = true
		l.ready = make(chan struct{})
		l.done = make(chan struct{})
		lctx, cancel := context.WithCancel(context.Background())
		l.stop = cancel
		go l.run(lctx)
	}
	ready := l.ready
	l.mu.Unlock()
	if ready != nil {
		select {
		case <-ready:
		case <-ctx.Done():
		}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.wake, l.up
}

// broadcast wakes every waiter.
func (l *listener) broadcast() {
	l.mu.Lock()
	close(l.wake)
	l.wake = make(chan struct{})
	l.mu.Unlock()
}

func (l *listener) setUp(up bool) {
	l.mu.Lock()
	l.up = up
	l.mu.Unlock()
}

func (l *listener) run(ctx context.Context) {
	defer close(l.done)
	first := true
	signalReady := func() {
		if first {
			first = false
			close(l.ready)
		}
	}
	defer signalReady()
	for ctx.Err() == nil {
		conn, err := l.connect(ctx)
		if err == nil {
			l.setUp(true)
			signalReady()
			l.broadcast() // notifications may have been lost while down
			for {
				if _, err = conn.WaitForNotification(ctx); err != nil {
					break
				}
				l.broadcast()
			}
			l.setUp(false)
			_ = conn.Close(context.Background())
		}
		signalReady()
		l.broadcast() // waiters fall back to re-polling
		select {
		case <-ctx.Done():
		case <-time.After(reconnectDelay):
		}
	}
}

// connect opens the listening connection with the pool's settings.
func (l *listener) connect(ctx context.Context) (*pgx.Conn, error) {
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	cfg := l.pool.Config().ConnConfig // a copy
	cfg.RuntimeParams["application_name"] = listenerAppName(l.channel)
	conn, err := pgx.ConnectConfig(cctx, cfg)
	if err != nil {
		return nil, err
	}
	if _, err := conn.Exec(cctx, "LISTEN "+quoteIdent(l.channel)); err != nil {
		_ = conn.Close(context.Background())
		return nil, err
	}
	return conn, nil
}

// listenerAppName is the application_name of a listening connection, so
// operators can tell it apart in pg_stat_activity.
func listenerAppName(channel string) string { return "duroxide-listen:" + channel }

// close stops the listener and waits for it.
func (l *listener) close() {
	l.mu.Lock()
	l.closed = true
	stop, done := l.stop, l.done
	l.mu.Unlock()
	if stop != nil {
		stop()
		<-done
	}
}

// pollResult is one fetch attempt's outcome: found work, or the time until
// work might appear without any call (wakeUs microseconds; negative for
// never), measured from now, the time the attempt used.
type pollResult struct {
	found  bool
	wakeUs int64
	now    time.Time
}

// poll runs try until it finds work, or until pollTimeout has passed on the
// provider's clock (at once when short polling or pollTimeout is 0), or ctx
// ends. Between attempts it waits for a notification, a timer at the next
// instant work may appear, or the deadline.
func (p *Provider) poll(ctx context.Context, op string, pollTimeout time.Duration, try func() (pollResult, error)) error {
	if !p.longPoll || pollTimeout <= 0 {
		_, err := try()
		return err
	}
	deadline := p.wait.Now().Add(pollTimeout)
	for {
		wake, up := p.listener.current(ctx)
		r, err := try()
		if err != nil || r.found {
			return err
		}
		now := r.now
		if p.clock == nil {
			now = p.wait.Now()
		}
		if !now.Before(deadline) {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return duroxide.Retryable(op, err, "context ended while waiting for work: %v", err)
		}
		at := deadline
		if r.wakeUs >= 0 {
			if w := now.Add(time.Duration(r.wakeUs) * time.Microsecond); w.Before(at) {
				at = w
			}
		}
		timer := p.wait.NewTimerAt(at)
		var repoll <-chan time.Time
		var rt *time.Timer
		if !up {
			rt = time.NewTimer(pollInterval)
			repoll = rt.C
		}
		select {
		case <-wake:
		case <-timer.C():
		case <-repoll:
		case <-ctx.Done():
		}
		timer.Stop()
		if rt != nil {
			rt.Stop()
		}
		if err := ctx.Err(); err != nil {
			return duroxide.Retryable(op, err, "context ended while waiting for work: %v", err)
		}
	}
}
