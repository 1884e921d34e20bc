// Command duroxide-spec runs duroxide-go's executable specification against
// the in-memory reference provider and prints a conformance report. It is
// package spec/conformance's Command on memprovider; a provider author
// builds the same command for their provider in a few lines (see that
// package).
//
// Usage:
//
//	go run ./cmd/duroxide-spec [-json] [-realtime] [-run regexp] [-level required|strict] [-parallel n] [-timeout d]
//
// While it runs, a live progress line on standard error names the case in
// progress (when standard error is a terminal). Then it prints, per group,
// the cases passed, failed and skipped with their summed case time and the
// run's wall time; per level, the verdict and why cases did not run; every
// failing and skipped case with its messages; and the overall verdict:
// conformant (strict), conformant (required), not conformant or
// incomplete. -json prints one JSON document instead. The exit status is 0
// when every case passed, 1 when one failed, 3 when none failed but some
// were skipped, and 2 on bad usage (including a -run pattern that matches no
// case, a -parallel below 1 or a -timeout that is not positive).
//
// By default the provider runs on a fake clock, so the whole run takes well
// under a second; -realtime runs it on the wall clock with short durations,
// as a provider whose time is a database's now() would be run. -parallel n
// runs n cases at a time, each on its own provider; it defaults to 1 on the
// fake clock and to 32 with -realtime, whose cases mostly sleep.
package main

import (
	"os"

	"github.com/duroxide-go/duroxide/internal/memharness"
	"github.com/duroxide-go/duroxide/spec/conformance"
)

// command is the conformance report on memprovider.
var command = conformance.Command{Provider: "memprovider", Fake: memharness.Fake, RealTime: memharness.RealTime}

func main() {
	os.Exit(command.Main(os.Args[1:], os.Stdout, os.Stderr))
}
