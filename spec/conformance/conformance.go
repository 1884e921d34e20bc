// Package conformance runs duroxide-go's executable specification (package
// spec) against any provider and reports the result: per group and level,
// the cases passed, failed and skipped, why cases did not run, and a
// verdict per level and overall. It prints the report as a table or as
// JSON.
//
// A provider author calls it from their own main, as cmd/duroxide-spec does
// for memprovider:
//
//	func main() {
//		os.Exit(conformance.Command{
//			Provider: "mypg",
//			RealTime: func(t spec.T) *spec.Harness { return &spec.Harness{Provider: mypg.New(dsn(t))} },
//		}.Main(os.Args[1:], os.Stdout, os.Stderr))
//	}
//
// or from a test or program, through [Run] and [Report.WriteText] or
// [Report.WriteJSON].
//
// # Verdicts
//
// Every case has a level (spec.Required or spec.Strict). A level is
// conformant when every one of its selected cases passed, not conformant
// when one failed, and incomplete when none failed but some were skipped for
// a missing capability (hooks, a management API, long polling): a skip is
// not a pass. A case that does not concern the provider as its harness
// declares it (spec.NotApplicable: the clock step-back cases, for a
// provider whose clock cannot step back) counts as neither. The overall verdict is "conformant (strict)" when both levels
// are conformant, "conformant (required)" when the required level is,
// "not conformant" when a required case failed, and "incomplete" otherwise.
// A run restricted with a pattern gives the verdict of the selected cases
// only, and says so.
//
// What it is not: it does not build providers (the harness function does)
// and it never imports one; it is not a test framework (under go test, use
// spec.Run).
package conformance

import (
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"sync"
	"time"

	"github.com/duroxide-go/duroxide/spec"
)

// Errors of [Run]. Both mean the run did not start; neither is retryable.
var (
	// ErrInvalidOptions: a field of Options is out of range.
	ErrInvalidOptions = errors.New("conformance: invalid options")
	// ErrNoCases: the pattern and levels select no case (a typo in a
	// pattern must not pass as a green run of nothing).
	ErrNoCases = errors.New("conformance: no case selected")
)

// Options say what to run and how.
//
// Options are plain data; Run does not retain or change them.
type Options struct {
	// Provider names the provider in the report.
	Provider string
	// NewHarness builds a fresh harness, with an empty provider, for every
	// case. Required. It is called from several goroutines at once when
	// Parallel > 1.
	NewHarness spec.NewHarness
	// Cases are the cases to choose from; nil means spec.Cases().
	Cases []spec.Case
	// Run, when not empty, is a regular expression: only the cases whose
	// "group/case" name matches it run.
	Run string
	// Levels, when not empty, are the levels whose cases run; empty means
	// every level.
	Levels []spec.Level
	// Parallel is how many cases run at once, each on its own harness; 0
	// means 1. Use more only when the harnesses' providers are independent.
	Parallel int
	// CaseTimeout bounds each case's wall time; 0 means spec's default
	// (spec.DefaultFakeClockCaseTimeout or spec.DefaultRealTimeCaseTimeout).
	CaseTimeout time.Duration
	// Progress, when non-nil, receives a live progress line, rewritten in
	// place with carriage returns, naming the case being started; it is
	// erased at the end. Give it a terminal.
	Progress io.Writer
}

// selection is the validated choice of cases.
type selection struct {
	universe []spec.Case // every case of the levels run, before the pattern
	cases    []spec.Case // the cases that run
	levels   []spec.Level
}

// selectCases validates o and chooses the cases.
func (o Options) selectCases() (selection, error) {
	var errs []error
	if o.NewHarness == nil {
		errs = append(errs, fmt.Errorf("%w: NewHarness is nil", ErrInvalidOptions))
	}
	if o.Parallel < 0 {
		errs = append(errs, fmt.Errorf("%w: Parallel is %d; it must be at least 1 (0 means 1)", ErrInvalidOptions, o.Parallel))
	}
	if o.CaseTimeout < 0 {
		errs = append(errs, fmt.Errorf("%w: CaseTimeout is %v; it must be positive (0 means spec's default)", ErrInvalidOptions, o.CaseTimeout))
	}
	levels := spec.AllLevels()
	if len(o.Levels) > 0 {
		levels = nil
		for _, l := range spec.AllLevels() {
			if slices.Contains(o.Levels, l) {
				levels = append(levels, l)
			}
		}
		for _, l := range o.Levels {
			if !slices.Contains(spec.AllLevels(), l) {
				errs = append(errs, fmt.Errorf("%w: %v is not a level (spec.Required or spec.Strict)", ErrInvalidOptions, l))
			}
		}
	}
	var re *regexp.Regexp
	if o.Run != "" {
		var err error
		if re, err = regexp.Compile(o.Run); err != nil {
			errs = append(errs, fmt.Errorf("%w: Run pattern: %v", ErrInvalidOptions, err))
		}
	}
	all := o.Cases
	if all == nil {
		all = spec.Cases()
	}
	for _, c := range all {
		if !slices.Contains(spec.AllLevels(), c.Level) {
			errs = append(errs, fmt.Errorf("%w: case %s has no level (%v)", ErrInvalidOptions, c.FullName(), c.Level))
		}
	}
	if len(errs) > 0 {
		return selection{}, errors.Join(errs...)
	}
	s := selection{levels: levels}
	for _, c := range all {
		if !slices.Contains(levels, c.Level) {
			continue
		}
		s.universe = append(s.universe, c)
		if re == nil || re.MatchString(c.FullName()) {
			s.cases = append(s.cases, c)
		}
	}
	if len(s.cases) == 0 {
		what := fmt.Sprintf("levels %v", levels)
		if o.Run != "" {
			what = fmt.Sprintf("pattern %q and %s", o.Run, what)
		}
		return selection{}, fmt.Errorf("%w: %s match none of the %d cases", ErrNoCases, what, len(all))
	}
	return s, nil
}

// Run runs the selected cases against fresh harnesses and returns the
// report. It returns an error, and runs nothing, when the options are
// invalid (ErrInvalidOptions) or select no case (ErrNoCases). A failing
// case is not an error: it is in the report.
func Run(o Options) (*Report, error) {
	s, err := o.selectCases()
	if err != nil {
		return nil, err
	}
	var modes clockModes
	newHarness := func(t spec.T) *spec.Harness {
		h := o.NewHarness(t)
		if h != nil {
			modes.see(h.Clock != nil)
		}
		return h
	}
	start := time.Now()
	results := spec.RunCases(s.cases, newHarness, max(o.Parallel, 1), o.CaseTimeout, func(n int, c spec.Case) {
		if o.Progress != nil {
			fmt.Fprintf(o.Progress, "\r\033[K[%d/%d] %s", n, len(s.cases), c.FullName())
		}
	})
	if o.Progress != nil {
		fmt.Fprint(o.Progress, "\r\033[K")
	}
	return newReport(o.Provider, modes.String(), o.Run, s, results, time.Since(start), max(o.Parallel, 1)), nil
}

// clockModes records which clock modes the harnesses used.
type clockModes struct {
	mu         sync.Mutex
	fake, real bool
}

func (m *clockModes) see(fake bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if fake {
		m.fake = true
	} else {
		m.real = true
	}
}

// String is "fake clock", "real time", "fake clock and real time" or
// "unknown" (no harness was built).
func (m *clockModes) String() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	switch {
	case m.fake && m.real:
		return "fake clock and real time"
	case m.fake:
		return "fake clock"
	case m.real:
		return "real time"
	}
	return "unknown"
}
