package host

import (
	"log/slog"
	"time"

	"github.com/duroxide-go/duroxide"
	"github.com/duroxide-go/duroxide/fakeclock"
	"github.com/duroxide-go/duroxide/orchestration"
)

// Options configures a [Runtime]. The zero value of every field selects its
// documented default (duroxide's defaults where duroxide has one).
//
// Plain data, read by [New] and not retained beyond its fields' values.
type Options struct {
	// Clock is the runtime's time: event timestamps, timers, lock renewal,
	// poll intervals and backoffs (default [fakeclock.Real]). Give the
	// provider the same clock.
	Clock fakeclock.Clock
	// OrchestrationConcurrency is how many orchestration dispatchers Run
	// starts (default 2).
	OrchestrationConcurrency int
	// WorkerConcurrency is how many worker dispatchers Run starts (default 2).
	WorkerConcurrency int
	// OrchestrationLockTimeout is the instance lock of a fetch (default 5 s);
	// a turn that runs longer than half of it renews the lock.
	OrchestrationLockTimeout time.Duration
	// WorkerLockTimeout is the lock of an activity (default 30 s), renewed
	// every half of it while the activity runs.
	WorkerLockTimeout time.Duration
	// PollTimeout is how long one fetch may wait for work in Run (long
	// polling, if the provider supports it; default 5 s).
	PollTimeout time.Duration
	// MinPollInterval is the least time between two fetches that found no
	// work, for providers that answer at once (default 100 ms).
	MinPollInterval time.Duration
	// MaxAttempts is how many deliveries a batch or an activity gets before
	// it is poisoned (default 10).
	MaxAttempts uint32
	// UnregisteredBackoff delays the retry of a batch or an activity whose
	// handler is not registered here (default exponential from 1 s, doubling,
	// at most 60 s), so a node that has it may take it.
	UnregisteredBackoff orchestration.Backoff
	// ActivityCancellationGrace is how long a cancelled activity may keep
	// running before its result is dropped (default 10 s).
	ActivityCancellationGrace time.Duration
	// SupportedVersions is the capability filter of orchestration fetches:
	// the duroxide versions whose executions this runtime can replay
	// (default: 0.0.0 up to [orchestration.DuroxideVersion]).
	SupportedVersions []duroxide.SemverRange
	// WorkerTags selects the activities this runtime's workers take (zero
	// value: untagged activities only).
	WorkerTags duroxide.TagFilter
	// SessionOwnerID identifies this runtime as a session owner (default: a
	// random id per runtime). Runtimes that share it share sessions.
	SessionOwnerID string
	// SessionLockTimeout is the session lease (default 30 s).
	SessionLockTimeout time.Duration
	// SessionIdleTimeout ends the lease of a session without activity for
	// that long (default 5 min).
	SessionIdleTimeout time.Duration
	// MaxSessions bounds the sessions this runtime holds at once; at the
	// bound its workers take only session-less activities (default 10).
	MaxSessions int
	// StepTimeout bounds how long orchestration code may run between two
	// durable waits (zero: no bound); see [orchestration.EngineOptions].
	StepTimeout time.Duration
	// InlineOrchestrations runs orchestration code as a coroutine of the
	// dispatcher's goroutine (see [orchestration.EngineOptions].Inline):
	// faster turns, but runtime.Goexit in orchestration code would end the
	// dispatcher. Package duroxidetest sets it; leave it off in production.
	InlineOrchestrations bool
	// Logger receives the runtime's and the orchestrations' logs (default
	// [slog.Default]).
	Logger *slog.Logger
}

// buildVersion is this build's duroxide version, parsed once; the default
// capability range runs from 0.0.0 to it (shared, never mutated).
var (
	buildVersion, buildVersionErr = duroxide.ParseSemver(orchestration.DuroxideVersion)
	defaultVersions               = []duroxide.SemverRange{{Max: buildVersion}}
)

// defaultDuration sets *d to v when zero, and refuses it when negative.
func defaultDuration(d *time.Duration, v time.Duration, name string) error {
	if *d < 0 {
		return optionsError("%s is negative (%v)", name, *d)
	}
	if *d == 0 {
		*d = v
	}
	return nil
}

func (o Options) withDefaults() (Options, error) {
	if o.Clock == nil {
		o.Clock = fakeclock.Real()
	}
	for _, err := range [...]error{
		defaultDuration(&o.OrchestrationLockTimeout, 5*time.Second, "OrchestrationLockTimeout"),
		defaultDuration(&o.WorkerLockTimeout, 30*time.Second, "WorkerLockTimeout"),
		defaultDuration(&o.PollTimeout, 5*time.Second, "PollTimeout"),
		defaultDuration(&o.MinPollInterval, 100*time.Millisecond, "MinPollInterval"),
		defaultDuration(&o.ActivityCancellationGrace, 10*time.Second, "ActivityCancellationGrace"),
		defaultDuration(&o.SessionLockTimeout, 30*time.Second, "SessionLockTimeout"),
		defaultDuration(&o.SessionIdleTimeout, 5*time.Minute, "SessionIdleTimeout"),
		defaultDuration(&o.StepTimeout, 0, "StepTimeout"),
	} {
		if err != nil {
			return o, err
		}
	}
	if o.OrchestrationConcurrency < 0 || o.WorkerConcurrency < 0 || o.MaxSessions < 0 {
		return o, optionsError("negative concurrency (orchestration %d, worker %d, sessions %d)",
			o.OrchestrationConcurrency, o.WorkerConcurrency, o.MaxSessions)
	}
	if o.OrchestrationConcurrency == 0 {
		o.OrchestrationConcurrency = 2
	}
	if o.WorkerConcurrency == 0 {
		o.WorkerConcurrency = 2
	}
	if o.MaxSessions == 0 {
		o.MaxSessions = 10
	}
	if o.MaxAttempts == 0 {
		o.MaxAttempts = 10
	}
	if o.UnregisteredBackoff.Kind == "" {
		o.UnregisteredBackoff = orchestration.Backoff{Kind: "exponential", Base: time.Second, Multiplier: 2, Max: time.Minute}
	}
	if o.SupportedVersions == nil {
		if buildVersionErr != nil {
			return o, optionsError("build version: %v", buildVersionErr)
		}
		o.SupportedVersions = defaultVersions
	} else {
		if len(o.SupportedVersions) == 0 {
			return o, optionsError("SupportedVersions is empty: no execution could be fetched")
		}
		o.SupportedVersions = append([]duroxide.SemverRange(nil), o.SupportedVersions...)
		for _, r := range o.SupportedVersions {
			if r.Max.Compare(r.Min) < 0 {
				return o, optionsError("SupportedVersions range %s..%s is empty", r.Min, r.Max)
			}
		}
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o, nil
}
