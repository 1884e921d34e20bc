package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/duroxide-go/duroxide"
	"github.com/duroxide-go/duroxide/client"
	"github.com/duroxide-go/duroxide/host"
	"github.com/duroxide-go/duroxide/internal/pgharness"
	"github.com/duroxide-go/duroxide/orchestration"
	"github.com/duroxide-go/duroxide/pgprovider"
)

// cluster is a PostgreSQL cluster of this test's own, durable (fsync and
// synchronous commit on), on a Unix socket in a temporary directory.
type cluster struct {
	t      *testing.T
	bin    string
	dir    string
	asUser []string
}

// startCluster initdb's and starts a cluster. Without PostgreSQL's binaries
// it skips (fails when DUROXIDE_REQUIRE_PG=1).
func startCluster(t *testing.T) *cluster {
	t.Helper()
	bin := os.Getenv("DUROXIDE_PG_BIN")
	if bin == "" {
		dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
		slices.Sort(dirs)
		if len(dirs) > 0 {
			bin = dirs[len(dirs)-1]
		}
	}
	if _, err := os.Stat(filepath.Join(bin, "initdb")); bin == "" || err != nil {
		if os.Getenv("DUROXIDE_REQUIRE_PG") == "1" {
			t.Fatal("DUROXIDE_REQUIRE_PG=1 but initdb was not found (set DUROXIDE_PG_BIN)")
		}
		t.Skip("needs PostgreSQL's initdb and pg_ctl (Debian: postgresql-15), or DUROXIDE_PG_BIN")
	}
	dir, err := os.MkdirTemp("", "duroxide-crash-")
	require.NoError(t, err)
	require.NoError(t, os.Chmod(dir, 0o755))
	c := &cluster{t: t, bin: bin, dir: dir}
	if os.Geteuid() == 0 { // PostgreSQL refuses to run as root
		u, err := user.Lookup("postgres")
		require.NoError(t, err, "running as root needs the postgres OS user")
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		require.NoError(t, os.Chown(dir, uid, gid))
		c.asUser = []string{"runuser", "-u", "postgres", "--"}
	}
	t.Cleanup(func() {
		_ = c.cmd("pg_ctl", "-D", c.data(), "-m", "immediate", "-w", "stop").Run()
		_ = os.RemoveAll(dir)
	})
	out, err := c.cmd("initdb", "-D", c.data(), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C").CombinedOutput()
	require.NoError(t, err, "initdb: %s", out)
	c.pgctl("start")
	return c
}

func (c *cluster) data() string { return filepath.Join(c.dir, "data") }

func (c *cluster) cmd(name string, args ...string) *exec.Cmd {
	full := append(append([]string(nil), c.asUser...), filepath.Join(c.bin, name))
	full = append(full, args...)
	return exec.Command(full[0], full[1:]...)
}

// pgctl starts or restarts (immediately: a crash, no checkpoint) the
// server with durability on.
func (c *cluster) pgctl(action string) {
	c.t.Helper()
	args := []string{"-D", c.data(), "-l", filepath.Join(c.dir, "log"), "-w",
		"-o", "-k " + c.dir + " -c listen_addresses='' -c fsync=on -c synchronous_commit=on -c max_connections=60"}
	if action == "restart" {
		args = append(args, "-m", "immediate")
	}
	out, err := c.cmd("pg_ctl", append(args, action)...).CombinedOutput()
	require.NoError(c.t, err, "pg_ctl %s: %s", action, out)
}

func (c *cluster) dsn() string { return "host=" + c.dir + " user=postgres dbname=postgres" }

// TestPostgresCrashDurability runs 200 orchestrations of 5 activities each
// through the runtime on pgprovider, and kills PostgreSQL (pg_ctl restart
// -m immediate: no shutdown checkpoint, as after a power cut with fsync on)
// while they run. The runtime rides out the outage on retries; afterwards
// every instance completes with the right output, and every history holds
// each activity's schedule and completion exactly once: nothing committed
// was lost, nothing was applied twice.
func TestPostgresCrashDurability(t *testing.T) {
	if testing.Short() {
		t.Skip("a database crash test: not in -short")
	}
	const instances, activities = 200, 5
	c := startCluster(t)
	ctx := context.Background()
	pool, err := pgharness.Connect(ctx, c.dsn())
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	p, err := pgprovider.New(ctx, pool)
	require.NoError(t, err)
	t.Cleanup(p.Close)

	var mu sync.Mutex
	runs := map[string]int{}
	reg := host.NewRegistry()
	require.NoError(t, reg.RegisterActivity("Work", host.TypedActivity(func(_ *host.ActivityContext, key string) (string, error) {
		mu.Lock()
		runs[key]++
		mu.Unlock()
		return key, nil
	})))
	require.NoError(t, reg.RegisterOrchestration("Job", orchestration.Typed(func(ctx *orchestration.Context, id string) (int, error) {
		futs := make([]*orchestration.Future[string], activities)
		for i := range futs {
			futs[i] = orchestration.CallActivity[string](ctx, "Work", fmt.Sprintf("%s/%d", id, i))
		}
		outs, err := orchestration.AllOf(futs)
		return len(outs), err
	})))
	opts := baseOptions()
	opts.MaxAttempts = 1000
	rt, err := host.New(p, reg, opts)
	require.NoError(t, err)
	e := &env{t: t, p: p}
	e.c, err = client.New(p, client.WithPollBackoff(5*time.Millisecond, 50*time.Millisecond))
	require.NoError(t, err)
	e.run(rt)

	for i := range instances {
		require.NoError(t, e.c.StartTyped(ctx, fmt.Sprint("job-", i), "Job", fmt.Sprint("job-", i)))
	}
	// Crash once a part of the work is done.
	e.eventually("some completions", func() bool {
		ids, err := e.c.ListInstancesByStatus(ctx, duroxide.StatusCompleted)
		return err == nil && len(ids) >= instances/5
	})
	c.pgctl("restart")
	t.Log("PostgreSQL crashed and restarted")

	deadline := time.Now().Add(150 * time.Second)
	for {
		ids, err := e.c.ListInstancesByStatus(ctx, duroxide.StatusCompleted)
		if err == nil && len(ids) == instances {
			break
		}
		require.True(t, time.Now().Before(deadline), "after the crash, %d of %d completed (%v)", len(ids), instances, err)
		time.Sleep(50 * time.Millisecond)
	}
	for i := range instances {
		id := fmt.Sprint("job-", i)
		n, err := client.Output[int](e.c.GetStatus(ctx, id))
		require.NoError(t, err)
		require.Equal(t, activities, n)
		h, err := e.c.ReadHistory(ctx, id)
		require.NoError(t, err)
		scheduled, completed := 0, map[uint64]int{}
		for _, ev := range h {
			switch ev.Kind.(type) {
			case duroxide.ActivityScheduled:
				scheduled++
			case duroxide.ActivityCompleted:
				completed[*ev.SourceEventID]++
			}
		}
		require.Equal(t, activities, scheduled, "%s: each activity scheduled once", id)
		require.Len(t, completed, activities, "%s", id)
		for src, k := range completed {
			require.Equal(t, 1, k, "%s: schedule %d completed once", id, src)
		}
		mu.Lock()
		for a := range activities {
			require.GreaterOrEqual(t, runs[fmt.Sprintf("%s/%d", id, a)], 1)
		}
		mu.Unlock()
	}
}
