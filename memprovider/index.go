package memprovider

import "github.com/google/btree"

// index is a B-tree index created on its first insertion: a provider
// allocates only the indexes its workload uses (a unit test builds one
// provider per test and uses few of them). The zero index is not usable;
// make one with newIndex. Not synchronized: used under Provider.mu.
type index[T any] struct {
	t    *btree.BTreeG[T] // nil until the first insertion
	less btree.LessFunc[T]
	free *btree.FreeListG[T]
}

func newIndex[T any](less btree.LessFunc[T], free *btree.FreeListG[T]) index[T] {
	return index[T]{less: less, free: free}
}

// ReplaceOrInsert adds item, replacing an equal one, which it returns.
func (x *index[T]) ReplaceOrInsert(item T) (T, bool) {
	if x.t == nil {
		x.t = btree.NewWithFreeListG(btreeDegree, x.less, x.free)
	}
	return x.t.ReplaceOrInsert(item)
}

// Delete removes the item equal to item, and returns it.
func (x *index[T]) Delete(item T) (T, bool) {
	if x.t == nil {
		var zero T
		return zero, false
	}
	return x.t.Delete(item)
}

// DeleteMin removes the least item and returns it.
func (x *index[T]) DeleteMin() (T, bool) {
	if x.t == nil {
		var zero T
		return zero, false
	}
	return x.t.DeleteMin()
}

// Min returns the least item.
func (x *index[T]) Min() (T, bool) {
	if x.t == nil {
		var zero T
		return zero, false
	}
	return x.t.Min()
}

// Len returns the number of items.
func (x *index[T]) Len() int {
	if x.t == nil {
		return 0
	}
	return x.t.Len()
}

// Ascend calls f for every item in order until f returns false.
func (x *index[T]) Ascend(f btree.ItemIteratorG[T]) {
	if x.t != nil {
		x.t.Ascend(f)
	}
}

// AscendGreaterOrEqual calls f for every item from pivot on, in order,
// until f returns false.
func (x *index[T]) AscendGreaterOrEqual(pivot T, f btree.ItemIteratorG[T]) {
	if x.t != nil {
		x.t.AscendGreaterOrEqual(pivot, f)
	}
}
