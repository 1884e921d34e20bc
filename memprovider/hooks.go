package memprovider

import (
	"fmt"

	"github.com/duroxide-go/duroxide"
	"github.com/duroxide-go/duroxide/internal/memhooks"
)

func init() {
	memhooks.CorruptInstanceHistory = func(dp duroxide.Provider, instance string) error {
		p, ok := dp.(*Provider)
		if !ok {
			return fmt.Errorf("memhooks: %T is not a *memprovider.Provider", dp)
		}
		p.mu.Lock()
		defer p.mu.Unlock()
		if in := p.instances[instance]; in != nil {
			for _, e := range in.execs {
				// Every stored event becomes undecodable; events appended
				// later are decodable, but the first stays corrupt.
				e.corrupt = e.corrupt || len(e.history) > 0
			}
		}
		return nil
	}
	memhooks.MaxAttemptCount = func(dp duroxide.Provider, instance string) (uint32, error) {
		p, ok := dp.(*Provider)
		if !ok {
			return 0, fmt.Errorf("memhooks: %T is not a *memprovider.Provider", dp)
		}
		p.mu.Lock()
		defer p.mu.Unlock()
		var n uint32
		if in := p.instances[instance]; in != nil {
			for _, list := range [2][]*orchMsg{in.msgs, in.timers} {
				for _, m := range list {
					n = max(n, m.attempts)
				}
			}
		}
		return n, nil
	}
}
