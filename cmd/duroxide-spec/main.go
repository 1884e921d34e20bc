// Command duroxide-spec runs duroxide-go's executable specification against
// a provider and prints a conformance report: the in-memory reference
// provider by default, or pgprovider on PostgreSQL with -provider pg. It is
// package spec/conformance's Command on those providers; a provider author
// builds the same command for their provider in a few lines (see that
// package).
//
// Usage:
//
//	go run ./cmd/duroxide-spec [-provider mem|pg] [-json] [-realtime] [-run regexp] [-level required|strict] [-parallel n] [-timeout d]
//	.ci/pg go run ./cmd/duroxide-spec -provider pg
//
// -provider pg runs every case on a fresh pgprovider in its own schema of
// one pool on the database that DUROXIDE_PG_DSN names (.ci/pg starts a
// throwaway cluster and sets it); without DUROXIDE_PG_DSN the command says
// so and exits with status 2.
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
// By default the provider runs on a fake clock (pgprovider gets the fake
// time passed into every statement), so the whole run on memprovider takes
// well under a second; -realtime runs it on the wall clock (pgprovider: the
// database's now()) with short durations. -parallel n runs n cases at a
// time, each on its own provider; it defaults to 1 on the fake clock and,
// with -realtime, to 32 on memprovider and 4 on pgprovider, whose cases
// mostly sleep.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/duroxide-go/duroxide/internal/memharness"
	"github.com/duroxide-go/duroxide/internal/pgharness"
	"github.com/duroxide-go/duroxide/spec/conformance"
)

// command is the conformance report on memprovider.
var command = conformance.Command{Provider: "memprovider", Fake: memharness.Fake, RealTime: memharness.RealTime}

// pgCommand is the conformance report on pgprovider, each case in its own
// schema of pool. Real-time cases run 4 at a time: more made a lock-expiry
// case flaky on a loaded 2-core machine.
func pgCommand(pool *pgxpool.Pool) conformance.Command {
	return conformance.Command{
		Provider:         "pgprovider",
		Fake:             pgharness.Fake(pool),
		RealTime:         pgharness.RealTime(pool, 0),
		RealTimeParallel: 4,
	}
}

// pgHint is how to run the report against a throwaway PostgreSQL.
const pgHint = "run .ci/pg go run ./cmd/duroxide-spec -provider pg (it starts a throwaway PostgreSQL and sets " +
	pgharness.DSNVariable + "), or set " + pgharness.DSNVariable + " to a database's DSN"

// providerUsage documents -provider; conformance.Command prints the other
// flags.
const providerUsage = "  -provider string\n    \tthe provider: mem (memprovider, the default) or pg (pgprovider on the database " +
	pgharness.DSNVariable + " names)\n"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr, os.Getenv))
}

// run is the command: it picks the provider and hands the other flags to
// its conformance.Command. getenv reads the environment.
func run(args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	usageErr := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "duroxide-spec: %s\n", fmt.Sprintf(format, a...))
		return conformance.ExitUsage
	}
	provider, rest, err := splitProvider(args)
	if err != nil {
		return usageErr("%v", err)
	}
	if wantsHelp(rest) {
		defer fmt.Fprint(stderr, providerUsage)
	}
	switch provider {
	case "", "mem", "memprovider":
		return command.Main(rest, stdout, stderr)
	case "pg", "pgprovider":
		dsn := getenv(pgharness.DSNVariable)
		if dsn == "" && !wantsHelp(rest) {
			return usageErr("-provider pg needs %s: %s", pgharness.DSNVariable, pgHint)
		}
		var pool *pgxpool.Pool
		if dsn != "" {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			pool, err = pgharness.Connect(ctx, dsn)
			cancel()
			if err != nil {
				fmt.Fprintf(stderr, "duroxide-spec: %v\n", err)
				return conformance.ExitFailed
			}
			defer pool.Close()
		}
		return pgCommand(pool).Main(rest, stdout, stderr)
	default:
		return usageErr("-provider %q: want mem or pg", provider)
	}
}

// errProviderValue is returned for a -provider flag without a value.
var errProviderValue = errors.New("flag needs an argument: -provider")

// valueFlags are conformance.Command's flags that take a separate value.
var valueFlags = map[string]bool{"run": true, "level": true, "parallel": true, "timeout": true}

// splitProvider removes -provider (also --provider, -provider=x) from
// args, as the flag package would read them: flags end at "--" or the first
// argument that is not a flag, and the value of another flag is never
// taken for -provider. It returns the last -provider value ("" when none)
// and the other arguments, in order.
func splitProvider(args []string) (provider string, rest []string, err error) {
	rest = make([]string, 0, len(args))
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" || !strings.HasPrefix(a, "-") || a == "-" {
			rest = append(rest, args[i:]...)
			break
		}
		name, value, hasValue := strings.Cut(strings.TrimPrefix(strings.TrimPrefix(a, "-"), "-"), "=")
		switch {
		case name == "provider" && hasValue:
			provider = value
		case name == "provider":
			if i+1 >= len(args) {
				return "", nil, errProviderValue
			}
			i++
			provider = args[i]
		case valueFlags[name] && !hasValue && i+1 < len(args):
			rest = append(rest, a, args[i+1])
			i++
		default:
			rest = append(rest, a)
		}
	}
	return provider, rest, nil
}

// wantsHelp reports whether args ask for the usage, as the flag package
// reads them.
func wantsHelp(args []string) bool {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" || !strings.HasPrefix(a, "-") || a == "-" {
			return false
		}
		name, _, hasValue := strings.Cut(strings.TrimPrefix(strings.TrimPrefix(a, "-"), "-"), "=")
		switch {
		case name == "h" || name == "help":
			return true
		case valueFlags[name] && !hasValue:
			i++
		}
	}
	return false
}
