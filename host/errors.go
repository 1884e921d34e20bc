package host

import (
	"errors"
	"fmt"
)

// ErrInvalidRegistration is wrapped by every registration error: an empty
// name, a nil handler, a malformed version, or a duplicate. Permanent: the
// registry is unchanged.
var ErrInvalidRegistration = errors.New("host: invalid registration")

// ErrInvalidOptions is wrapped by [New]'s errors for out-of-range options.
// Permanent.
var ErrInvalidOptions = errors.New("host: invalid options")

// ErrAlreadyRunning is returned by [Runtime.Run] when the runtime is
// already running or has run. Permanent.
var ErrAlreadyRunning = errors.New("host: runtime already running")

func registrationError(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalidRegistration}, args...)...)
}

func optionsError(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalidOptions}, args...)...)
}
