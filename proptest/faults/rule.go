package faults

import (
	"errors"
	"fmt"

	"github.com/duroxide-go/duroxide"
)

// ErrInjected is wrapped by every error the fault injector makes up, so tests
// can tell injected faults from real provider errors with errors.Is.
var ErrInjected = errors.New("injected fault")

// Mode says when an injected fault strikes and what the caller sees.
//
// A Mode is an immutable value.
type Mode uint8

// The fault modes.
const (
	// Before fails the call before it reaches the wrapped provider: nothing
	// changed, and the caller gets a retryable error wrapping
	// [duroxide.ErrUnavailable] (a busy or unreachable store).
	Before Mode = iota + 1
	// After runs the call on the wrapped provider and, if it succeeded,
	// throws its result away and returns a retryable error wrapping
	// [duroxide.ErrUnavailable]: the call took effect, but the caller saw an
	// error (a lost response). A fetch took its lock and the caller got no
	// item; an ack committed and the caller believes it may not have.
	After
	// BeforePermanent is Before with a permanent (non-retryable) error.
	BeforePermanent
	// AfterPermanent is After with a permanent (non-retryable) error.
	AfterPermanent
)

// Modes returns every mode, in declaration order.
func Modes() []Mode { return []Mode{Before, After, BeforePermanent, AfterPermanent} }

// String returns the mode's name: "before", "after", "before-permanent" or
// "after-permanent".
func (m Mode) String() string {
	switch m {
	case Before:
		return "before"
	case After:
		return "after"
	case BeforePermanent:
		return "before-permanent"
	case AfterPermanent:
		return "after-permanent"
	}
	return fmt.Sprintf("Mode(%d)", uint8(m))
}

// Committed reports whether a fault of this mode lets the call take effect
// (After and AfterPermanent).
func (m Mode) Committed() bool { return m == After || m == AfterPermanent }

// Retryable reports whether a fault of this mode is a retryable error
// (Before and After).
func (m Mode) Retryable() bool { return m == Before || m == After }

func (m Mode) valid() bool { return m >= Before && m <= AfterPermanent }

// Rule injects faults of one mode into calls of a set of methods, on a
// seeded random or a fixed schedule. Exactly one of Probability and Every
// selects the schedule.
//
// Every rule sees every call of its methods, whether or not another rule
// fires on it; when several rules fire on one call, the first in the list
// given to [New] decides the fault.
//
// Plain data, not synchronized; New copies the rules it is given.
type Rule struct {
	// Ops are the methods the rule applies to; must be non-empty.
	Ops Op
	// Mode is the kind of fault; must be set.
	Mode Mode
	// Probability, in (0, 1], is the chance that a call of Ops fails, drawn
	// from the injector's seeded generator.
	Probability float64
	// Every > 0 fails the Every-th, 2·Every-th, ... call of Ops seen by this
	// rule (counting calls of all its methods together).
	Every int
	// Limit > 0 stops the rule after it decided that many faults (an After
	// fault whose call then failed on its own counts too, so the limit holds
	// under concurrent calls); 0 means no limit. Every: 1 with Limit: 1 fails
	// exactly the first call.
	Limit int
}

// Validate reports what is wrong with r, or nil.
func (r Rule) Validate() error {
	switch {
	case r.Ops == 0:
		return errors.New("faults: rule selects no methods (Ops is empty)")
	case r.Ops&^OpAll != 0:
		return fmt.Errorf("faults: rule selects unknown methods %#x", uint64(r.Ops&^OpAll))
	case !r.Mode.valid():
		return fmt.Errorf("faults: rule has invalid mode %v", r.Mode)
	case r.Every < 0 || r.Limit < 0:
		return fmt.Errorf("faults: rule has negative Every (%d) or Limit (%d)", r.Every, r.Limit)
	case (r.Every > 0) == (r.Probability != 0):
		return fmt.Errorf("faults: rule needs exactly one of Probability (%g) and Every (%d)", r.Probability, r.Every)
	case r.Every == 0 && !(r.Probability > 0 && r.Probability <= 1):
		return fmt.Errorf("faults: rule probability %g is not in (0, 1]", r.Probability)
	}
	return nil
}

// String describes r, e.g. "after fetch_work_item p=0.1".
func (r Rule) String() string {
	s := r.Mode.String() + " " + r.Ops.String()
	if r.Every > 0 {
		s += fmt.Sprintf(" every=%d", r.Every)
	} else {
		s += fmt.Sprintf(" p=%g", r.Probability)
	}
	if r.Limit > 0 {
		s += fmt.Sprintf(" limit=%d", r.Limit)
	}
	return s
}

// Fault is the cause inside every injected *[duroxide.ProviderError]; get
// it with errors.As to learn which method failed and whether the call took
// effect. It unwraps to [ErrInjected] and, for retryable modes, to
// [duroxide.ErrUnavailable]. A Fault is immutable.
type Fault struct {
	// Op is the single method that failed.
	Op Op
	// Mode is the fault's mode; Mode.Committed reports whether the call
	// took effect.
	Mode Mode
}

// Error describes the fault.
func (f *Fault) Error() string {
	if f.Mode.Committed() {
		return fmt.Sprintf("injected %s fault: %s took effect, the caller sees an error", f.Mode, f.Op)
	}
	return fmt.Sprintf("injected %s fault: %s did not reach the provider", f.Mode, f.Op)
}

// Unwrap returns [ErrInjected] and, for retryable modes,
// [duroxide.ErrUnavailable].
func (f *Fault) Unwrap() []error {
	if f.Mode.Retryable() {
		return []error{ErrInjected, duroxide.ErrUnavailable}
	}
	return []error{ErrInjected}
}

// providerError returns the error a caller sees for a fault.
func (f *Fault) providerError() *duroxide.ProviderError {
	return &duroxide.ProviderError{Op: f.Op.String(), Msg: f.Error(), Retryable: f.Mode.Retryable(), Err: f}
}

// InjectedFault returns the fault inside err when err was made up by an
// injector, and nil for real errors and nil.
func InjectedFault(err error) *Fault {
	var f *Fault
	if errors.As(err, &f) {
		return f
	}
	return nil
}

// DefaultRules are the rules the fault-injection workload runs with: every
// method a runtime calls on its hot path ([OpDispatch]) fails before it
// takes effect with probability 0.1, and after it took effect with
// probability 0.1. Only retryable faults: a runtime that retries as the
// contract says must lose nothing under them.
func DefaultRules() []Rule {
	return []Rule{
		{Ops: OpDispatch, Mode: Before, Probability: 0.1},
		{Ops: OpDispatch, Mode: After, Probability: 0.1},
	}
}
