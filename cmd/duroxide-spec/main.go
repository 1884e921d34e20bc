// Command duroxide-spec runs duroxide-go's executable specification against
// the in-memory reference provider and prints a conformance report.
//
// Usage:
//
//	go run ./cmd/duroxide-spec [-json] [-realtime] [-run regexp] [-parallel n] [-timeout d]
//
// While it runs, a live progress line on standard error names the case in
// progress (when standard error is a terminal). Then it prints, per group,
// the cases passed, failed and skipped with the time taken, and every failing
// case with its messages. -json prints one JSON document instead. The exit
// status is 1 when any case fails, 2 on bad usage, 0 otherwise.
//
// By default the provider runs on a fake clock, so the whole run takes well
// under a second; -realtime runs it on the wall clock with short durations,
// as a provider whose time is a database's now() would be run. -parallel n
// runs n cases at a time, each on its own provider; it defaults to 1 on the
// fake clock and to 32 with -realtime, whose cases mostly sleep.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"time"

	"github.com/duroxide-go/duroxide/internal/memharness"
	"github.com/duroxide-go/duroxide/spec"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr, isTerminal(os.Stderr)))
}

// isTerminal reports whether f is a character device (a terminal).
func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// run is the command without process globals; it returns the exit status.
func run(args []string, stdout, stderr io.Writer, progress bool) int {
	fs := flag.NewFlagSet("duroxide-spec", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "print the report as JSON")
	realtime := fs.Bool("realtime", false, "run on the wall clock instead of a fake clock")
	pattern := fs.String("run", "", "run only cases whose group/case name matches this regexp")
	timeout := fs.Duration("timeout", time.Minute, "fail a case that takes longer than this (real time)")
	parallel := fs.Int("parallel", 0, "cases run at once, each on its own provider (default 1 on the fake clock, 32 with -realtime)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "duroxide-spec: unexpected arguments %q\n", fs.Args())
		return 2
	}
	var re *regexp.Regexp
	if *pattern != "" {
		var err error
		if re, err = regexp.Compile(*pattern); err != nil {
			fmt.Fprintf(stderr, "duroxide-spec: bad -run pattern: %v\n", err)
			return 2
		}
	}

	newHarness := memharness.Fake
	mode := "fake clock"
	if *realtime {
		newHarness, mode = memharness.RealTime, "real time"
	}
	var cases []spec.Case
	for _, c := range spec.Cases() {
		if re == nil || re.MatchString(c.FullName()) {
			cases = append(cases, c)
		}
	}

	n := *parallel
	if n <= 0 {
		n = 1
		if *realtime {
			n = 32
		}
	}
	start := time.Now()
	results := spec.RunCases(cases, newHarness, n, *timeout, func(done int, c spec.Case) {
		if progress {
			fmt.Fprintf(stderr, "\r\033[K[%d/%d] %s", done, len(cases), c.FullName())
		}
	})
	if progress {
		fmt.Fprint(stderr, "\r\033[K")
	}
	rep := newReport("memprovider", mode, results, time.Since(start))
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			fmt.Fprintf(stderr, "duroxide-spec: %v\n", err)
			return 1
		}
	} else {
		rep.writeText(stdout)
	}
	if rep.Failed > 0 {
		return 1
	}
	return 0
}
