package e2e

import (
	"context"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/duroxide-go/duroxide"
	"github.com/duroxide-go/duroxide/client"
	"github.com/duroxide-go/duroxide/host"
	"github.com/duroxide-go/duroxide/internal/pgharness"
	"github.com/duroxide-go/duroxide/memprovider"
)

const pgHint = "PostgreSQL scenarios need a database: run .ci/pg go test ./e2e (or set DUROXIDE_PG_DSN)"

var (
	poolOnce sync.Once
	pool     *pgxpool.Pool
	poolErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if pool != nil {
		pool.Close()
	}
	os.Exit(code)
}

// backend builds a fresh, empty provider for one scenario.
type backend struct {
	name string
	new  func(t *testing.T) duroxide.Provider
}

var backends = []backend{
	{"memprovider", func(*testing.T) duroxide.Provider { return memprovider.New() }},
	{"pgprovider", func(t *testing.T) duroxide.Provider {
		t.Helper()
		if os.Getenv(pgharness.DSNVariable) == "" {
			if os.Getenv("DUROXIDE_REQUIRE_PG") == "1" {
				t.Fatalf("DUROXIDE_REQUIRE_PG=1 but %s is not set: %s", pgharness.DSNVariable, pgHint)
			}
			t.Skip(pgHint)
		}
		poolOnce.Do(func() { pool, poolErr = pgharness.ConnectEnv(context.Background()) })
		require.NoError(t, poolErr)
		return pgharness.NewProvider(t, pool)
	}},
}

// env is one scenario's world: a provider, a client, a registry, and the
// runtimes started on them.
type env struct {
	t    *testing.T
	p    duroxide.Provider
	c    *client.Client
	reg  *host.Registry
	opts host.Options
}

func quietLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

// baseOptions: several dispatchers, short polls, small locks.
func baseOptions() host.Options {
	return host.Options{OrchestrationConcurrency: 4, WorkerConcurrency: 4,
		PollTimeout: 100 * time.Millisecond, MinPollInterval: time.Millisecond,
		OrchestrationLockTimeout: 2 * time.Second, WorkerLockTimeout: 2 * time.Second,
		Logger: quietLogger()}
}

// start builds and runs a runtime on the env's registry and options; the
// returned stop shuts it down and waits (also done at cleanup).
func (e *env) start() (stop func()) {
	e.t.Helper()
	rt, err := host.New(e.p, e.reg, e.opts)
	require.NoError(e.t, err)
	return e.run(rt)
}

func (e *env) run(rt *host.Runtime) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = rt.Run(ctx); close(done) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case <-done:
			case <-time.After(30 * time.Second):
				e.t.Error("runtime did not stop within 30 s of its context ending")
			}
		})
	}
	e.t.Cleanup(stop)
	return stop
}

const waitFor = 30 * time.Second

// wait waits for instance to end and returns its status.
func (e *env) wait(instance string) client.Status {
	e.t.Helper()
	st, err := e.c.WaitForOrchestration(e.t.Context(), instance, waitFor)
	require.NoError(e.t, err, "instance %s", instance)
	return st
}

// output waits for instance and decodes its output.
func output[T any](e *env, instance string) T {
	e.t.Helper()
	out, err := client.Output[T](e.c.WaitForOrchestration(e.t.Context(), instance, waitFor))
	require.NoError(e.t, err, "instance %s", instance)
	return out
}

// eventually polls cond every 5 ms for up to waitFor.
func (e *env) eventually(what string, cond func() bool) {
	e.t.Helper()
	deadline := time.Now().Add(waitFor)
	for !cond() {
		if time.Now().After(deadline) {
			e.t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// history returns the event types of instance's latest execution.
func (e *env) kinds(instance string) []string {
	e.t.Helper()
	h, err := e.c.ReadHistory(e.t.Context(), instance)
	require.NoError(e.t, err)
	out := make([]string, len(h))
	for i, ev := range h {
		out[i] = ev.Kind.EventType()
	}
	return out
}

func count(kinds []string, kind string) int {
	n := 0
	for _, k := range kinds {
		if k == kind {
			n++
		}
	}
	return n
}

// scenario is one end-to-end case: setup registers handlers (and may change
// options) before the runtime starts; run drives and checks it.
type scenario struct {
	name  string
	setup func(e *env)
	run   func(e *env)
	// manual: run starts runtimes itself.
	manual bool
}

func TestScenarios(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			for _, sc := range append(scenarios(), moreScenarios()...) {
				t.Run(sc.name, func(t *testing.T) {
					t.Parallel()
					p := b.new(t)
					c, err := client.New(p, client.WithPollBackoff(2*time.Millisecond, 20*time.Millisecond))
					require.NoError(t, err)
					e := &env{t: t, p: p, c: c, reg: host.NewRegistry(), opts: baseOptions()}
					if sc.setup != nil {
						sc.setup(e)
					}
					if !sc.manual {
						e.start()
					}
					sc.run(e)
				})
			}
		})
	}
}
