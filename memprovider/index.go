package memprovider

import "github.com/google/btree"

// smallIndex is how many items an index holds inline, sorted, before it
// moves them to a B-tree.
const smallIndex = 4

// index is an ordered set under less (items equal under less replace each
// other). It keeps up to smallIndex items in a sorted inline array and
// moves to a B-tree, for good, when it would hold more: a unit test's
// provider, whose queues hold a few items at a time, then allocates no
// tree, and a large queue keeps O(log n) operations. The zero index is not
// usable; make one with newIndex. A nil *index reads as empty (inserting
// needs one). Not synchronized: used under Provider.mu;
// f must not change the index during Ascend or AscendGreaterOrEqual.
type index[T any] struct {
	t     *btree.BTreeG[T] // nil while the items fit in small
	n     int              // items in small
	small [smallIndex]T    // ascending; unused slots are zero (no stale pointers)
	less  btree.LessFunc[T]
	free  *btree.FreeListG[T]
}

func newIndex[T any](less btree.LessFunc[T], free *btree.FreeListG[T]) index[T] {
	return index[T]{less: less, free: free}
}

// find returns the position of the first inline item not less than item,
// and whether it equals item.
func (x *index[T]) find(item T) (int, bool) {
	for i := range x.n {
		if !x.less(x.small[i], item) {
			return i, !x.less(item, x.small[i])
		}
	}
	return x.n, false
}

// removeAt takes out the inline item at i.
func (x *index[T]) removeAt(i int) T {
	old := x.small[i]
	copy(x.small[i:x.n], x.small[i+1:x.n])
	x.n--
	var zero T
	x.small[x.n] = zero
	return old
}

// ReplaceOrInsert adds item, replacing an equal one, which it returns.
func (x *index[T]) ReplaceOrInsert(item T) (T, bool) {
	if x.t != nil {
		return x.t.ReplaceOrInsert(item)
	}
	i, eq := x.find(item)
	if eq {
		old := x.small[i]
		x.small[i] = item
		return old, true
	}
	if x.n == smallIndex {
		x.t = btree.NewWithFreeListG(btreeDegree, x.less, x.free)
		for x.n > 0 {
			x.t.ReplaceOrInsert(x.removeAt(x.n - 1))
		}
		return x.t.ReplaceOrInsert(item)
	}
	copy(x.small[i+1:x.n+1], x.small[i:x.n])
	x.small[i] = item
	x.n++
	var zero T
	return zero, false
}

// Delete removes the item equal to item, and returns it.
func (x *index[T]) Delete(item T) (T, bool) {
	if x == nil {
		var zero T
		return zero, false
	}
	if x.t != nil {
		return x.t.Delete(item)
	}
	if i, eq := x.find(item); eq {
		return x.removeAt(i), true
	}
	var zero T
	return zero, false
}

// DeleteMin removes the least item and returns it.
func (x *index[T]) DeleteMin() (T, bool) {
	if x == nil {
		var zero T
		return zero, false
	}
	if x.t != nil {
		return x.t.DeleteMin()
	}
	if x.n == 0 {
		var zero T
		return zero, false
	}
	return x.removeAt(0), true
}

// Min returns the least item.
func (x *index[T]) Min() (T, bool) {
	if x == nil {
		var zero T
		return zero, false
	}
	if x.t != nil {
		return x.t.Min()
	}
	if x.n == 0 {
		var zero T
		return zero, false
	}
	return x.small[0], true
}

// Len returns the number of items.
func (x *index[T]) Len() int {
	if x == nil {
		return 0
	}
	if x.t != nil {
		return x.t.Len()
	}
	return x.n
}

// Ascend calls f for every item in order until f returns false.
func (x *index[T]) Ascend(f btree.ItemIteratorG[T]) {
	if x == nil {
		return
	}
	if x.t != nil {
		x.t.Ascend(f)
		return
	}
	for i := range x.n {
		if !f(x.small[i]) {
			return
		}
	}
}

// AscendGreaterOrEqual calls f for every item from pivot on, in order,
// until f returns false.
func (x *index[T]) AscendGreaterOrEqual(pivot T, f btree.ItemIteratorG[T]) {
	if x == nil {
		return
	}
	if x.t != nil {
		x.t.AscendGreaterOrEqual(pivot, f)
		return
	}
	i, _ := x.find(pivot)
	for ; i < x.n; i++ {
		if !f(x.small[i]) {
			return
		}
	}
}
