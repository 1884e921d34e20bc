package pgprovider

import (
	"context"
	"fmt"

	"github.com/duroxide-go/duroxide"
	"github.com/duroxide-go/duroxide/internal/pghooks"
)

// The spec's white-box hooks, in plain SQL, reached through internal/pghooks
// so that they stay out of the public API.
func init() {
	pghooks.CorruptInstanceHistory = func(ctx context.Context, dp duroxide.Provider, instance string) error {
		p, ok := dp.(*Provider)
		if !ok {
			return fmt.Errorf("pghooks: %T is not a *pgprovider.Provider", dp)
		}
		_, err := p.pool.Exec(ctx, p.sql.CorruptHistory, instance)
		return err
	}
	pghooks.MaxAttemptCount = func(ctx context.Context, dp duroxide.Provider, instance string) (uint32, error) {
		p, ok := dp.(*Provider)
		if !ok {
			return 0, fmt.Errorf("pghooks: %T is not a *pgprovider.Provider", dp)
		}
		var n int32
		err := p.pool.QueryRow(ctx, p.sql.MaxAttemptCount, instance).Scan(&n)
		return uint32(n), err
	}
}
