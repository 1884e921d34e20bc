package conformance

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/duroxide-go/duroxide/spec"
)

// Exit statuses of [Command.Main].
const (
	// ExitConformant: no case failed and none was skipped.
	ExitConformant = 0
	// ExitFailed: a case failed (at any level).
	ExitFailed = 1
	// ExitUsage: bad flags or arguments, or a -run pattern and -level that
	// select no case; nothing ran.
	ExitUsage = 2
	// ExitIncomplete: no case failed, but some were skipped for a missing
	// capability.
	ExitIncomplete = 3
)

// Command is a conformance report command for one provider: its Main parses
// command-line flags, runs the specification and prints the report.
//
// A Command is plain data; Main does not change it and may run concurrently
// with other Mains of the same Command.
type Command struct {
	// Provider names the provider in the report.
	Provider string
	// Fake builds a harness on a fake clock; nil when the provider cannot
	// run on one. It is the default mode when set.
	Fake spec.NewHarness
	// RealTime builds a harness on the wall clock; nil when the provider
	// has none. It runs with -realtime, or by default when Fake is nil.
	RealTime spec.NewHarness
	// RealTimeParallel is how many real-time cases run at once when
	// -parallel is not given; 0 means 32. A provider whose calls are
	// database round trips sets it lower, so that its lock timeouts hold on
	// a loaded machine.
	RealTimeParallel int
}

// Main runs the command with args (without the program name), writing the
// report to stdout and diagnostics and the live progress line (when stderr
// is a terminal) to stderr. It returns the exit status: [ExitConformant],
// [ExitFailed], [ExitUsage] or [ExitIncomplete].
//
// Flags:
//
//	-json        print the report as JSON
//	-realtime    run on the wall clock (Command.RealTime)
//	-run re      run only the cases whose group/case name matches re
//	-level l     run only level l: required or strict (default: both)
//	-parallel n  cases at once, each on its own provider (default 1 on a
//	             fake clock, RealTimeParallel or 32 in real time); at least 1
//	-timeout d   fail a case that takes longer than d of real time
//	             (default 30s on a fake clock, 1m in real time); positive
func (c Command) Main(args []string, stdout, stderr io.Writer) int {
	var progress io.Writer
	if f, ok := stderr.(*os.File); ok && isTerminal(f) {
		progress = stderr
	}
	return c.main(args, stdout, stderr, progress)
}

// isTerminal reports whether f is a character device (a terminal).
func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// main is Main with the progress writer chosen.
func (c Command) main(args []string, stdout, stderr, progress io.Writer) int {
	name := "duroxide-spec"
	usageErr := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "%s: %s\n", name, fmt.Sprintf(format, a...))
		return ExitUsage
	}
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "print the report as JSON")
	realtime := fs.Bool("realtime", false, "run on the wall clock instead of a fake clock")
	pattern := fs.String("run", "", "run only cases whose group/case name matches this regexp")
	level := fs.String("level", "", "run only this level's cases: required or strict (default both)")
	rtParallel := 32 // real-time cases mostly sleep
	if c.RealTimeParallel > 0 {
		rtParallel = c.RealTimeParallel
	}
	parallel := fs.Int("parallel", 0, fmt.Sprintf("cases run at once, each on its own provider (default 1 on a fake clock, %d in real time)", rtParallel))
	timeout := fs.Duration("timeout", 0, "fail a case that takes longer than this in real time (default 30s on a fake clock, 1m in real time)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return ExitConformant // -h: the usage was asked for
		}
		return ExitUsage
	}
	if fs.NArg() > 0 {
		return usageErr("unexpected arguments %q", fs.Args())
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })

	rt := *realtime || c.Fake == nil
	newHarness := c.Fake
	if rt {
		newHarness = c.RealTime
	}
	if newHarness == nil {
		if *realtime {
			return usageErr("-realtime: %s has no real-time harness", c.Provider)
		}
		return usageErr("%s has no harness", c.Provider)
	}
	if set["parallel"] && *parallel < 1 {
		return usageErr("-parallel %d: run at least 1 case at a time", *parallel)
	}
	if set["timeout"] && *timeout <= 0 {
		return usageErr("-timeout %v: the per-case timeout must be positive", *timeout)
	}
	n := *parallel
	if n == 0 {
		n = 1
		if rt {
			n = rtParallel
		}
	}
	var levels []spec.Level
	if *level != "" {
		l, err := spec.ParseLevel(*level)
		if err != nil {
			return usageErr("-level: %v", err)
		}
		levels = []spec.Level{l}
	}

	rep, err := Run(Options{
		Provider:    c.Provider,
		NewHarness:  newHarness,
		Run:         *pattern,
		Levels:      levels,
		Parallel:    n,
		CaseTimeout: *timeout,
		Progress:    progress,
	})
	if err != nil {
		return usageErr("%v", err)
	}
	if *asJSON {
		err = rep.WriteJSON(stdout)
	} else {
		err = rep.WriteText(stdout)
	}
	if err != nil {
		fmt.Fprintf(stderr, "%s: writing the report: %v\n", name, err)
		return ExitFailed
	}
	return rep.ExitStatus()
}

// ExitStatus is the report's exit status for a command: [ExitFailed] when a
// case failed, [ExitIncomplete] when none failed but some were skipped,
// [ExitConformant] otherwise.
func (r *Report) ExitStatus() int {
	switch {
	case r.Failed > 0:
		return ExitFailed
	case r.Skipped > 0:
		return ExitIncomplete
	}
	return ExitConformant
}
