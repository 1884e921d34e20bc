package client

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/duroxide-go/duroxide"
	"github.com/duroxide-go/duroxide/fakeclock"
)

// Default polling of the waits: the first poll happens at once, the next
// after DefaultPollInitial, and every later interval doubles up to
// DefaultPollMax.
const (
	DefaultPollInitial = 5 * time.Millisecond
	DefaultPollMax     = 100 * time.Millisecond
)

// Client starts, signals, cancels, observes and manages orchestration
// instances through a [duroxide.Provider]. It talks to the provider only:
// no runtime needs to run in the client's process.
//
// A Client is immutable once built and safe for concurrent use by many
// goroutines; it starts no goroutines and holds no resources, so it needs no
// closing. Its methods never retain the caller's values, and the values they
// return share no memory with the client or (per the provider contract) the
// provider.
type Client struct {
	p duroxide.Provider
	config
}

// Option configures a [Client]. Options are applied by [New], in order.
type Option func(*config) error

// config collects the options before New validates them.
type config struct {
	clock       fakeclock.Clock
	pollInitial time.Duration
	pollMax     time.Duration
}

// WithClock makes the client measure wait timeouts and poll intervals on c
// (default [fakeclock.Real]). Tests pass a [*fakeclock.Fake] so that waits
// advance only when the test advances the clock. A nil clock is refused by
// New.
func WithClock(c fakeclock.Clock) Option {
	return func(cfg *config) error {
		if c == nil {
			return errors.New("WithClock: nil clock")
		}
		cfg.clock = c
		return nil
	}
}

// WithPollBackoff sets the intervals between the polls of every wait:
// initial after the first poll, doubling after each poll up to max (defaults
// [DefaultPollInitial] and [DefaultPollMax]). initial must be positive and
// max at least initial; pass the same value twice for a fixed interval.
func WithPollBackoff(initial, max time.Duration) Option {
	return func(cfg *config) error {
		if initial <= 0 {
			return fmt.Errorf("WithPollBackoff: initial interval %v is not positive", initial)
		}
		if max < initial {
			return fmt.Errorf("WithPollBackoff: max interval %v is less than initial %v", max, initial)
		}
		cfg.pollInitial, cfg.pollMax = initial, max
		return nil
	}
}

// New returns a client of provider p. It fails, with an error wrapping
// [ErrInvalidInput], when p is nil or an option is invalid.
func New(p duroxide.Provider, opts ...Option) (*Client, error) {
	if p == nil {
		return nil, invalid("new", "", "nil provider")
	}
	// The options write the client's own config: one allocation.
	c := &Client{p: p, config: config{clock: fakeclock.Real(), pollInitial: DefaultPollInitial, pollMax: DefaultPollMax}}
	for _, o := range opts {
		if o == nil {
			continue
		}
		if err := o(&c.config); err != nil {
			return nil, invalid("new", "", "%v", err)
		}
	}
	return c, nil
}

// enqueue sends one orchestrator-queue item, wrapping a provider error.
func (c *Client) enqueue(ctx context.Context, op, instance string, item duroxide.WorkItem) error {
	if err := c.p.EnqueueForOrchestrator(ctx, item, 0); err != nil {
		return newErr(op, instance, err)
	}
	return nil
}

// checkInstance refuses an empty instance id.
func checkInstance(op, instance string) error {
	if instance == "" {
		return invalid(op, instance, "empty instance id")
	}
	return nil
}
