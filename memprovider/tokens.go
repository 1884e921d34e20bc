package memprovider

import (
	"strconv"
	"strings"
)

// tokensPerBatch is how many lock tokens are formatted at once.
const tokensPerBatch = 32

// tokenBatch formats lock tokens tokensPerBatch at a time into one string
// and hands out substrings of it, so that most fetches allocate no token (a
// token is a string the caller keeps; one allocation per token was a fifth
// of a turn's allocations). A token still referenced keeps its batch's
// string, under a kilobyte, alive. Not synchronized: used under
// Provider.mu.
type tokenBatch struct {
	text  string
	first uint64                 // number of the batch's first token; 0 when empty
	ends  [tokensPerBatch]uint16 // end offset of each token in text
}

// next returns token number n: prefix and n in base 36. Numbers are asked
// for in ascending order, one at a time.
func (b *tokenBatch) next(prefix string, n uint64) string {
	if b.first == 0 || n < b.first || n >= b.first+tokensPerBatch {
		var sb strings.Builder
		sb.Grow(tokensPerBatch * (len(prefix) + 13)) // 13 base-36 digits hold any uint64
		var digits [16]byte
		for i := range uint64(tokensPerBatch) {
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
