package duroxidelike_test

import (
	"flag"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/duroxide-go/duroxide/fakeclock"
	"github.com/duroxide-go/duroxide/internal/duroxidelike"
	"github.com/duroxide-go/duroxide/internal/memharness"
	"github.com/duroxide-go/duroxide/internal/memhooks"
	"github.com/duroxide-go/duroxide/memprovider"
	"github.com/duroxide-go/duroxide/spec"
)

// realTime opts into the wall-clock run of TestRequiredLevelReachable. Its
// 200 ms locks make it sensitive to machine load (like memprovider's own
// real-time spec run), so it is off by default; the fake-clock run is the
// deterministic proof.
var realTime = flag.Bool("realtime", false, "also run TestRequiredLevelReachable on the wall clock")

// fakeStart is the fake clock's start: off a whole second, so that
// second-resolution timestamps differ from the clock's.
var fakeStart = memharness.Start.Add(1234 * time.Millisecond)

// fakeHarness builds a duroxide-like provider over an empty memprovider on a
// fresh fake clock, short-polling as duroxide's SQLite provider is.
func fakeHarness(spec.T) *spec.Harness {
	clock := fakeclock.NewFake(fakeStart)
	mem := memprovider.New(memprovider.WithClock(clock))
	return &spec.Harness{Provider: duroxidelike.New(mem), Clock: clock, Hooks: memhooks.Hooks{P: mem}}
}

// realTimeHarness is fakeHarness on the wall clock, with memharness's short
// real-time durations.
func realTimeHarness(t spec.T) *spec.Harness {
	h := memharness.RealTime(t)
	mem := h.Provider
	h.Provider, h.Hooks, h.LongPolling = duroxidelike.New(mem), memhooks.Hooks{P: mem}, false
	return h
}

// wantFailing are the strict cases whose rule the duroxide-like provider
// breaks on purpose, each with the behaviour that breaks it.
var wantFailing = map[string]string{
	"instance_locking/concurrent_instance_fetching_losing_fetch_moves_on":           "a fetch that loses a race returns nothing or an error",
	"instance_locking/multi_threaded_lock_contention_losers_get_no_error":           "a fetch that loses a race may fail with a retryable error",
	"sessions/concurrent_session_claim_losers_get_no_error":                         "a fetch that loses a race may fail with a retryable error",
	"lock_expiration/expired_lock_errors_are_lock_expired":                          "one error kind for expired and unknown tokens",
	"capability_filtering/fetch_filter_matches_any_range":                           "only the first range of a filter counts",
	"capability_filtering/fetch_filter_compares_components_above_999":               "versions compare as packed integers",
	"multi_execution/continue_as_new_without_instance_record_reports_new_execution": "execution 1 for an instance without a record",
	"management/list_instances_newest_first":                                        "list order by creation second",
	"management/timestamps_have_millisecond_resolution":                             "second-resolution timestamps",
	"management/queue_depths_count_abandoned_messages_again":                        "abandoned batches stay tagged",
	"sessions/session_empty_owner_id_rejected":                                      "an empty owner id is an ordinary owner",
	"kv_store/kv_empty_instance_id_rejected":                                        "KV reads of an empty instance id find nothing",
}

// TestRequiredLevelReachable runs every case against the duroxide-like
// provider, on a fake clock and (with -realtime) on the wall clock: every
// required case must pass, and the failing cases must be exactly the strict
// cases its behaviours name.
func TestRequiredLevelReachable(t *testing.T) {
	for _, tc := range []struct {
		name     string
		harness  spec.NewHarness
		parallel int
		slow     bool
	}{
		{"fake clock", fakeHarness, 2, false},
		// Real-time cases mostly sleep: run many at a time.
		{"real time", realTimeHarness, 16, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.slow && !*realTime {
				t.Skip("real-time run is opt-in: go test ./internal/duroxidelike -realtime")
			}
			requireReachable(t, spec.RunCases(spec.Cases(), tc.harness, tc.parallel, time.Minute, nil))
		})
	}
}

// requireReachable asserts that results show no required failure and
// exactly the wantFailing strict cases failing.
func requireReachable(t *testing.T, results []spec.Result) {
	t.Helper()
	cases := spec.Cases()
	level := map[string]spec.Level{}
	for _, c := range cases {
		level[c.FullName()] = c.Level
	}
	var requiredFailures, failing []string
	for _, r := range results {
		if r.Outcome != spec.Failed {
			continue
		}
		failing = append(failing, r.Case)
		if level[r.Case] == spec.Required {
			requiredFailures = append(requiredFailures, r.Case)
			t.Logf("%s:\n%s", r.Case, strings.Join(r.Messages, "\n"))
		}
	}
	require.Empty(t, requiredFailures, "required cases a duroxide-like provider must pass")
	want := make([]string, 0, len(wantFailing))
	for name := range wantFailing {
		require.Equal(t, spec.Strict, level[name], "%s must be a strict case", name)
		want = append(want, name)
	}
	slices.Sort(want)
	slices.Sort(failing)
	require.Equal(t, want, failing, "the strict cases the duroxide-like provider fails")
}

// TestNotImported checks that no non-test Go file of the module imports
// this package: the duroxide-like provider is for tests only.
func TestNotImported(t *testing.T) {
	const self = "github.com/duroxide-go/duroxide/internal/duroxidelike"
	root, err := filepath.Abs("../..")
	require.NoError(t, err)
	require.FileExists(t, filepath.Join(root, "go.mod"))
	fset := token.NewFileSet()
	checked := 0
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); path != root && (strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") || name == "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		checked++
		for _, im := range f.Imports {
			if p, _ := strconv.Unquote(im.Path.Value); p == self {
				t.Errorf("%s imports %s: the duroxide-like provider is for tests only", path, p)
			}
		}
		return nil
	})
	require.NoError(t, err)
	require.Greater(t, checked, 20, "the walk must have found the module's sources")
}
