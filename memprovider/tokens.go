package memprovider

// tokenMap maps lock tokens to what they lock. Go maps never shrink, and a
// burst of locks (say, a backlog fetched once) would leave a large, sparse
// table whose every later lookup misses the cache; so the map is rebuilt at
// its live size when it falls below an eighth of its peak. Rebuilding costs
// O(live) and happens after at least 7/8 of the peak was deleted, so it is
// O(1) amortized per deletion. Not synchronized: used under Provider.mu.
type tokenMap[V any] struct {
	m    map[string]V
	peak int
}

// compactBelow is the smallest peak worth compacting.
const compactBelow = 1024

func newTokenMap[V any]() tokenMap[V] { return tokenMap[V]{m: make(map[string]V)} }

func (t *tokenMap[V]) get(token string) (V, bool) {
	v, ok := t.m[token]
	return v, ok
}

func (t *tokenMap[V]) put(token string, v V) {
	t.m[token] = v
	t.peak = max(t.peak, len(t.m))
}

func (t *tokenMap[V]) del(token string) {
	delete(t.m, token)
	if t.peak >= compactBelow && len(t.m)*8 < t.peak {
		m := make(map[string]V, len(t.m))
		for k, v := range t.m {
			m[k] = v
		}
		t.m, t.peak = m, len(m)
	}
}
