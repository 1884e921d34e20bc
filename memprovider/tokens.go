package memprovider

import (
	"strconv"
	"strings"
)

// tokensPerBatch is how many lock tokens are formatted at once, at most:
// the first batch has firstBatch tokens and each next one twice as many,
// so a provider that takes few locks (a unit test's) formats few.
const (
	tokensPerBatch = 32
	firstBatch     = 4
)

// tokenBatch formats lock tokens tokensPerBatch at a time into one string
// and hands out substrings of it, so that most fetches allocate no token (a
// token is a string the caller keeps; one allocation per token was a fifth
// of a turn's allocations). A token still referenced keeps its batch's
// string, under a kilobyte, alive. Not synchronized: used under
// Provider.mu.
type tokenBatch struct {
	text  string
	first uint64                 // number of the batch's first token; 0 when empty
	size  uint64                 // tokens in the batch
	ends  [tokensPerBatch]uint16 // end offset of each token in text
}

// next returns token number n: prefix and n in base 36. Numbers are asked
// for in ascending order, one at a time.
func (b *tokenBatch) next(prefix string, n uint64) string {
	if b.first == 0 || n < b.first || n-b.first >= b.size {
		b.size = min(max(2*b.size, firstBatch), tokensPerBatch)
		var sb strings.Builder
		sb.Grow(int(b.size) * (len(prefix) + 13)) // 13 base-36 digits hold any uint64
		var digits [16]byte
		for i := range b.size {
			sb.WriteString(prefix)
			sb.Write(strconv.AppendUint(digits[:0], n+i, 36))
			b.ends[i] = uint16(sb.Len())
		}
		b.text, b.first = sb.String(), n
	}
	i := n - b.first
	start := uint16(0)
	if i > 0 {
		start = b.ends[i-1]
	}
	return b.text[start:b.ends[i]]
}

// tokenMap maps lock tokens to what they lock. The tokens of the last
// recentTokens locks taken live in a ring indexed by token number (parsed
// from the token), the older ones in a Go map: a lock acked soon after its
// fetch, the common case, is then found, stored and deleted without hashing
// into a table as large as the number of locks held (with 1e5 instances
// locked by another dispatcher, those three map operations were each a
// cache miss, and most of a turn's extra cost).
//
// Go maps never shrink, and a burst of locks (say, a backlog fetched once)
// would leave a large, sparse table whose every later lookup misses the
// cache; so the map is rebuilt at its live size when it falls below an
// eighth of its peak. Rebuilding costs O(live) and happens after at least
// 7/8 of the peak was deleted, so it is O(1) amortized per deletion. Not
// synchronized: used under Provider.mu.
type tokenMap[V any] struct {
	prefix string          // every token's prefix; the rest is its number in base 36
	ring   []tokenEntry[V] // nil, or a power-of-two length up to recentTokens
	m      map[string]V    // tokens pushed out of the ring
	peak   int

	first [minRing]tokenEntry[V] // the first ring, in the map's own allocation
}

// recentTokens is the largest size of a tokenMap's ring. The ring starts
// at minRing slots and doubles while a new lock finds its slot taken, so a
// provider that never holds many locks at once (a unit test's) never pays
// for the full ring.
const (
	recentTokens = 256
	minRing      = 8
)

// tokenEntry is a ring slot; token "" when empty.
type tokenEntry[V any] struct {
	token string
	v     V
}

// compactBelow is the smallest peak worth compacting.
const compactBelow = 1024

func newTokenMap[V any](prefix string) tokenMap[V] {
	return tokenMap[V]{prefix: prefix}
}

// number returns the number of a token of this map's form.
func (t *tokenMap[V]) number(token string) (uint64, bool) {
	if len(token) <= len(t.prefix) || token[:len(t.prefix)] != t.prefix {
		return 0, false
	}
	n, err := strconv.ParseUint(token[len(t.prefix):], 36, 64)
	return n, err == nil
}

// grow doubles the ring. Entries keep distinct slots: two numbers that
// differ modulo the old length differ modulo the new one.
func (t *tokenMap[V]) grow() {
	if t.ring == nil {
		t.ring = t.first[:]
		return
	}
	ring := make([]tokenEntry[V], 2*len(t.ring))
	for _, e := range t.ring {
		if e.token != "" {
			n, _ := t.number(e.token)
			ring[n%uint64(len(ring))] = e
		}
	}
	t.ring = ring
}

// slot returns the ring slot of token's number, or nil when token is not
// of the form prefix + base-36 number.
func (t *tokenMap[V]) slot(token string) *tokenEntry[V] {
	if len(t.ring) == 0 {
		return nil
	}
	n, ok := t.number(token)
	if !ok {
		return nil
	}
	return &t.ring[n%uint64(len(t.ring))]
}

func (t *tokenMap[V]) get(token string) (V, bool) {
	if s := t.slot(token); s != nil && s.token == token {
		return s.v, true
	}
	v, ok := t.m[token]
	return v, ok
}

// put stores token, whose number is n, with v; the ring slot's previous
// token, if still held, moves to the map.
func (t *tokenMap[V]) put(token string, n uint64, v V) {
	if len(t.ring) == 0 {
		t.grow()
	}
	s := &t.ring[n%uint64(len(t.ring))]
	for s.token != "" && len(t.ring) < recentTokens {
		t.grow()
		s = &t.ring[n%uint64(len(t.ring))]
	}
	if s.token != "" {
		if t.m == nil {
			t.m = make(map[string]V)
		}
		t.m[s.token] = s.v
		t.peak = max(t.peak, len(t.m))
	}
	*s = tokenEntry[V]{token, v}
}

func (t *tokenMap[V]) del(token string) {
	if s := t.slot(token); s != nil && s.token == token {
		*s = tokenEntry[V]{}
		return
	}
	delete(t.m, token)
	if t.peak >= compactBelow && len(t.m)*8 < t.peak {
		m := make(map[string]V, len(t.m))
		for k, v := range t.m {
			m[k] = v
		}
		t.m, t.peak = m, len(m)
	}
}
