package proptest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/duroxide-go/duroxide/spec"
)

// harnessT is the spec.T that CheckLinearizable builds a harness with when
// it has no testing.T: it records failures and skips, runs cleanups when the
// check ends, and ends a FailNow or Skipf by panicking back to build.
type harnessT struct {
	name   string
	ctx    context.Context
	cancel context.CancelFunc

	mu       sync.Mutex
	msgs     []string
	failed   bool
	cleanups []func()
}

var _ spec.T = (*harnessT)(nil)

// harnessStop is the panic value of FailNow and Skipf.
type harnessStop struct{}

func (h *harnessT) Helper()                  {}
func (h *harnessT) Name() string             { return h.name }
func (h *harnessT) Context() context.Context { return h.ctx }

func (h *harnessT) Errorf(format string, args ...any) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.failed = true
	h.msgs = append(h.msgs, fmt.Sprintf(format, args...))
}

func (h *harnessT) FailNow() {
	h.mu.Lock()
	h.failed = true
	h.mu.Unlock()
	panic(harnessStop{})
}

func (h *harnessT) Logf(format string, args ...any) {}

func (h *harnessT) Skipf(format string, args ...any) {
	h.Errorf("harness skipped: "+format, args...)
	panic(harnessStop{})
}

func (h *harnessT) Cleanup(f func()) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.cleanups = append(h.cleanups, f)
}

// build calls newHarness and returns its harness, or an error when it
// failed, skipped, panicked or returned no provider.
func (h *harnessT) build(newHarness spec.NewHarness) (harness *spec.Harness, err error) {
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(harnessStop); !ok {
				err = fmt.Errorf("proptest: harness function panicked: %v", r)
				return
			}
			err = h.err()
		}
	}()
	harness = newHarness(h)
	if err := h.err(); err != nil {
		return nil, err
	}
	if harness == nil || harness.Provider == nil {
		return nil, errors.New("proptest: harness function returned no provider")
	}
	return harness, nil
}

func (h *harnessT) err() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.failed {
		return nil
	}
	return fmt.Errorf("proptest: building the harness failed: %s", strings.Join(h.msgs, "; "))
}

// finish cancels the context and runs the cleanups, last first.
func (h *harnessT) finish() {
	h.cancel()
	h.mu.Lock()
	fs := h.cleanups
	h.cleanups = nil
	h.mu.Unlock()
	for i := len(fs) - 1; i >= 0; i-- {
		fs[i]()
	}
}
