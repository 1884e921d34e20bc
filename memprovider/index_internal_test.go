package memprovider

import (
	"math/rand/v2"
	"testing"

	"github.com/google/btree"
	"github.com/stretchr/testify/require"
)

// indexItem orders by k only, so that items with the same k and different
// v are equal: replacement must return and keep the right one.
type indexItem struct{ k, v int }

func indexItemLess(a, b indexItem) bool { return a.k < b.k }

var indexItemFree = btree.NewFreeListG[indexItem](btree.DefaultFreeListSize)

// TestIndexMatchesBTree runs random operations on an index and on a plain
// B-tree and requires the same answers and contents after every step, in
// the inline form, across the move to a tree, and after it.
func TestIndexMatchesBTree(t *testing.T) {
	for _, keys := range []int{3, smallIndex, smallIndex + 1, 50} {
		for seed := range uint64(20) {
			rng := rand.New(rand.NewPCG(seed, uint64(keys)))
			x := newIndex(indexItemLess, indexItemFree)
			ref := btree.NewG(4, indexItemLess)
			for step := range 400 {
				it := indexItem{rng.IntN(keys), step}
				switch op := rng.IntN(7); op {
				case 0, 1, 2:
					a, aok := x.ReplaceOrInsert(it)
					b, bok := ref.ReplaceOrInsert(it)
					require.Equal(t, b, a)
					require.Equal(t, bok, aok)
				case 3:
					a, aok := x.Delete(it)
					b, bok := ref.Delete(it)
					require.Equal(t, b, a)
					require.Equal(t, bok, aok)
				case 4:
					a, aok := x.DeleteMin()
					b, bok := ref.DeleteMin()
					require.Equal(t, b, a)
					require.Equal(t, bok, aok)
				case 5:
					a, aok := x.Min()
					b, bok := ref.Min()
					require.Equal(t, b, a)
					require.Equal(t, bok, aok)
				case 6:
					stop := rng.IntN(4)
					var a, b []indexItem
					x.AscendGreaterOrEqual(it, func(i indexItem) bool { a = append(a, i); return len(a) <= stop })
					ref.AscendGreaterOrEqual(it, func(i indexItem) bool { b = append(b, i); return len(b) <= stop })
					require.Equal(t, b, a)
				}
				var a, b []indexItem
				x.Ascend(func(i indexItem) bool { a = append(a, i); return true })
				ref.Ascend(func(i indexItem) bool { b = append(b, i); return true })
				require.Equal(t, b, a, "keys %d seed %d step %d", keys, seed, step)
				require.Equal(t, ref.Len(), x.Len())
			}
		}
	}
}

// TestIndexInlineHoldsNoStaleItems: removed inline slots are cleared, so
// the index keeps no removed item alive.
func TestIndexInlineHoldsNoStaleItems(t *testing.T) {
	x := newIndex(seqLess, entryFree)
	es := []*workEntry{{seq: 1}, {seq: 2}, {seq: 3}}
	for _, e := range es {
		x.ReplaceOrInsert(e)
	}
	x.Delete(es[0])
	x.DeleteMin()
	require.Nil(t, x.t)
	require.Equal(t, [smallIndex]*workEntry{es[2]}, x.small)
}
