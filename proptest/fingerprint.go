package proptest

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"maps"
	"slices"
	"strings"

	"github.com/duroxide-go/duroxide"
)

// fingerprint renders the model's whole state as a canonical string: two
// models with equal fingerprints answer every future call alike. The
// linearizability checker uses it to recognise states it has explored.
// Enqueue sequence numbers are left out (only their order, which is the
// queues' order, matters).
func (m *model) fingerprint() string {
	if m.fp != "" {
		return m.fp
	}
	var b strings.Builder
	fmt.Fprintf(&b, "now=%d created=%d\n", m.now, m.created)
	for _, q := range m.orchQ {
		fmt.Fprintf(&b, "o %s %s v%d a%d b%s\n", q.instance, itemJSON(q.item), q.visibleAt, q.attempts, q.batch)
	}
	for _, w := range m.workQ {
		fmt.Fprintf(&b, "w %s v%d t%s u%d a%d\n", itemJSON(w.item), w.visibleAt, w.token, w.until, w.attempts)
	}
	for _, id := range slices.Sorted(maps.Keys(m.insts)) {
		in := m.insts[id]
		fmt.Fprintf(&b, "i %s r%v %q %q c%d p%s t%d o%d s%s v%d l%s/%d\n", id, in.record, in.name, in.version, in.currentExec,
			strp(in.parent), in.createdAt, in.createdOrder, strp(in.status), in.statusVersion, in.lockToken, in.lockUntil)
		for _, e := range slices.Sorted(maps.Keys(in.execs)) {
			x := in.execs[e]
			fmt.Fprintf(&b, " e%d r%v %s %s s%d c%v p%v\n", e, x.record, x.status, strp(x.output), x.startedAt, deref(x.completedAt), deref(x.pinned))
			for _, ev := range x.events {
				js, err := json.Marshal(ev)
				if err != nil {
					js = fmt.Appendf(nil, "%#v", ev)
				}
				fmt.Fprintf(&b, "  %s\n", js)
			}
		}
		for _, k := range slices.Sorted(maps.Keys(in.kv)) {
			fmt.Fprintf(&b, " kv %q=%q@%d\n", k, in.kv[k].Value, in.kv[k].LastUpdatedAtMs)
		}
		for _, k := range slices.Sorted(maps.Keys(in.delta)) {
			fmt.Fprintf(&b, " kd %q=%s@%d\n", k, strp(in.delta[k].value), in.delta[k].at)
		}
	}
	for _, id := range slices.Sorted(maps.Keys(m.sess)) {
		s := m.sess[id]
		fmt.Fprintf(&b, "s %s %s u%d a%d\n", id, s.owner, s.until, s.lastActivity)
	}
	for _, tok := range slices.Sorted(maps.Keys(m.tokens)) {
		fmt.Fprintf(&b, "k %s %s\n", tok, m.tokens[tok])
	}
	m.fp = b.String()
	return m.fp
}

// hash is an FNV-1a hash of the fingerprint.
func (m *model) hash() uint64 {
	h := fnv.New64a()
	h.Write([]byte(m.fingerprint()))
	return h.Sum64()
}

func itemJSON(w duroxide.WorkItem) string {
	js, err := duroxide.MarshalWorkItem(w)
	if err != nil {
		return fmt.Sprintf("%#v", w)
	}
	return string(js)
}
