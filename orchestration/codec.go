package orchestration

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/duroxide-go/duroxide/internal/jsonfast"
)

// Handler is an orchestration in its type-erased form: raw input in, raw
// output out. [Typed] builds one from a typed function. A Handler is called
// once per turn, on a goroutine of its own driven by the engine; it must be
// safe to call from any goroutine (one call at a time per turn).
type Handler func(ctx *Context, input string) (string, error)

// Typed adapts a typed orchestration function: the input is decoded from
// JSON into I and the output encoded as JSON with [Marshal]. A decoding error
// fails the orchestration.
func Typed[I, O any](fn func(ctx *Context, input I) (O, error)) Handler {
	return func(ctx *Context, input string) (string, error) {
		in, err := jsonfast.Decode[I](input)
		if err != nil {
			return "", fmt.Errorf("orchestration: decode input: %w", err)
		}
		out, err := fn(ctx, in)
		if err != nil {
			return "", err
		}
		return Marshal(out)
	}
}

// Marshal encodes v as JSON the way serde_json does: no HTML escaping,
// struct fields in declaration order, no trailing newline.
//
// Its frame is kept small: orchestration code runs on a coroutine whose
// stack starts small, and a deep first call grows (copies) that stack on
// every turn.
func Marshal(v any) (string, error) {
	switch x := v.(type) {
	case string:
		if jsonfast.PlainASCII(x) {
			return quote(x), nil
		}
	case int:
		return strconv.Itoa(x), nil
	case bool:
		return strconv.FormatBool(x), nil
	}
	return marshalJSON(v)
}

// quote returns s between double quotes, in one allocation and a shallow
// call chain.
func quote(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('"')
	b.WriteString(s)
	b.WriteByte('"')
	return b.String()
}

// marshalJSON is Marshal through encoding/json.
//
//go:noinline
func marshalJSON(v any) (string, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return "", err
	}
	return string(bytes.TrimSuffix(b.Bytes(), []byte{'\n'})), nil
}

// Unmarshal decodes JSON data into v.
func Unmarshal(data string, v any) error {
	// Fast path for the most common payload, a string that needs no
	// unescaping: the same result as encoding/json, without reflection.
	if p, ok := v.(*string); ok {
		if s, ok := jsonfast.PlainString(data); ok {
			*p = s
			return nil
		}
	}
	return json.Unmarshal([]byte(data), v)
}

// Backoff computes the delay before retry attempt n (1 = after the first
// failure). The zero value means no delay. Plain data, not synchronized.
type Backoff struct {
	// Kind is "none", "fixed", "linear" or "exponential" ("" = none).
	Kind string
	// Base is the fixed delay, the linear step, or the exponential start.
	Base time.Duration
	// Multiplier is the exponential factor.
	Multiplier float64
	// Max caps linear and exponential delays.
	Max time.Duration
}

// DefaultBackoff is duroxide's default: exponential from 100 ms, doubling,
// capped at 30 s.
var DefaultBackoff = Backoff{Kind: "exponential", Base: 100 * time.Millisecond, Multiplier: 2, Max: 30 * time.Second}

// Delay returns the delay before retry attempt n.
func (b Backoff) Delay(n uint32) time.Duration {
	switch b.Kind {
	case "fixed":
		return b.Base
	case "linear":
		return min(b.Base*time.Duration(n), b.Max)
	case "exponential":
		f := math.Pow(b.Multiplier, float64(max(n, 1)-1))
		d := float64(b.Base) * f
		if d > float64(math.MaxInt64) {
			return b.Max
		}
		return min(time.Duration(d), b.Max)
	}
	return 0
}

// RetryPolicy says how [Context.CallActivityWithRetry] retries an activity.
// Plain data, not synchronized.
type RetryPolicy struct {
	// MaxAttempts counts the first attempt; values below 1 mean 1.
	MaxAttempts uint32
	// Backoff is the delay between attempts, as durable timers.
	Backoff Backoff
	// Timeout, when positive, races each attempt against a durable timer;
	// a timeout is returned at once and not retried.
	Timeout time.Duration
}

// ErrActivityTimeout is returned by [Context.CallActivityWithRetry] when an
// attempt timed out; its text is duroxide's. Not retried.
var ErrActivityTimeout = errors.New("timeout: activity timed out")

// CallActivityWithRetry runs the activity, retrying failures per policy with
// durable timers between attempts. It returns the first success or the last
// failure; a per-attempt timeout ends the retries at once.
func (c *Context) CallActivityWithRetry(name, input string, policy RetryPolicy, opts ...ActivityOption) (string, error) {
	attempts := max(policy.MaxAttempts, 1)
	var last error
	for n := uint32(1); n <= attempts; n++ {
		act := c.ScheduleActivity(name, input, opts...)
		if policy.Timeout > 0 {
			timer := c.ScheduleTimer(policy.Timeout)
			switch Select(act, timer) {
			case -1:
				return "", ErrTurnEnded
			case 1:
				return "", ErrActivityTimeout
			}
		}
		out, err := act.Get()
		if err == nil {
			return out, nil
		}
		if errors.Is(err, ErrTurnEnded) {
			return "", err
		}
		last = err
		if n < attempts {
			c.Logger().Warn(fmt.Sprintf("Activity '%s' attempt %d/%d failed: %s. Retrying...", name, n, attempts, err))
			if d := policy.Backoff.Delay(n); d > 0 {
				if _, err := c.ScheduleTimer(d).Get(); err != nil {
					return "", err
				}
			}
		}
	}
	return "", last
}
