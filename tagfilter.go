package duroxide

import (
	"errors"
	"fmt"
	"slices"
)

// MaxWorkerTags is the most tags a [TagFilter] may hold.
const MaxWorkerTags = 5

// TagFilterKind is the variant of a [TagFilter].
//
// Plain data, not synchronized (see the package doc, Concurrency).
type TagFilterKind uint8

// The TagFilter variants.
const (
	// TagDefaultOnly accepts untagged items only. It is the zero value.
	TagDefaultOnly TagFilterKind = iota
	// TagTags accepts items whose tag is in the set; never untagged ones.
	TagTags
	// TagDefaultAnd accepts untagged items and items whose tag is in the set.
	TagDefaultAnd
	// TagAny accepts every item.
	TagAny
	// TagNone accepts nothing: the worker runs no activities.
	TagNone
)

// String returns the variant's duroxide name.
func (k TagFilterKind) String() string {
	switch k {
	case TagDefaultOnly:
		return "DefaultOnly"
	case TagTags:
		return "Tags"
	case TagDefaultAnd:
		return "DefaultAnd"
	case TagAny:
		return "Any"
	case TagNone:
		return "None"
	}
	return fmt.Sprintf("TagFilterKind(%d)", uint8(k))
}

// ErrInvalidTagFilter is returned (wrapped) by [FilterTags] and
// [FilterDefaultAnd] for an empty or oversized tag set.
var ErrInvalidTagFilter = errors.New("invalid tag filter")

// TagFilter says which activity tags a worker accepts. The zero value is
// DefaultOnly (untagged items only). A TagFilter is immutable and safe for
// concurrent use.
//
// Tag comparison is exact and case-sensitive; the empty string is a real tag,
// distinct from untagged.
type TagFilter struct {
	kind TagFilterKind
	tags []string // sorted, de-duplicated; only for TagTags and TagDefaultAnd
}

// FilterDefaultOnly returns the filter accepting untagged items only.
func FilterDefaultOnly() TagFilter { return TagFilter{kind: TagDefaultOnly} }

// FilterAny returns the filter accepting every item.
func FilterAny() TagFilter { return TagFilter{kind: TagAny} }

// FilterNone returns the filter accepting nothing.
func FilterNone() TagFilter { return TagFilter{kind: TagNone} }

// FilterTags returns the filter accepting items tagged with one of tags.
// After de-duplication the set must hold 1 to [MaxWorkerTags] tags.
func FilterTags(tags ...string) (TagFilter, error) { return newTagSet(TagTags, tags) }

// FilterDefaultAnd returns the filter accepting untagged items and items
// tagged with one of tags. After de-duplication the set must hold 1 to
// [MaxWorkerTags] tags.
func FilterDefaultAnd(tags ...string) (TagFilter, error) { return newTagSet(TagDefaultAnd, tags) }

func newTagSet(kind TagFilterKind, tags []string) (TagFilter, error) {
	set := slices.Clone(tags)
	slices.Sort(set)
	set = slices.Compact(set)
	switch {
	case len(set) == 0:
		return TagFilter{}, fmt.Errorf("%w: %s needs at least one tag; use FilterNone or FilterDefaultOnly", ErrInvalidTagFilter, kind)
	case len(set) > MaxWorkerTags:
		return TagFilter{}, fmt.Errorf("%w: %s allows at most %d tags, got %d", ErrInvalidTagFilter, kind, MaxWorkerTags, len(set))
	}
	return TagFilter{kind: kind, tags: set}, nil
}

// Kind returns the filter's variant.
func (f TagFilter) Kind() TagFilterKind { return f.kind }

// Tags returns a copy of the filter's tag set, sorted (nil for variants
// without one).
func (f TagFilter) Tags() []string { return slices.Clone(f.tags) }

// Matches reports whether the filter accepts an item with tag (nil =
// untagged).
func (f TagFilter) Matches(tag *string) bool {
	switch f.kind {
	case TagDefaultOnly:
		return tag == nil
	case TagTags:
		return tag != nil && f.has(*tag)
	case TagDefaultAnd:
		return tag == nil || f.has(*tag)
	case TagAny:
		return true
	}
	return false
}

func (f TagFilter) has(tag string) bool {
	_, ok := slices.BinarySearch(f.tags, tag)
	return ok
}

// String renders the filter, e.g. "Tags[gpu]".
func (f TagFilter) String() string {
	if f.kind == TagTags || f.kind == TagDefaultAnd {
		return fmt.Sprintf("%s%q", f.kind, f.tags)
	}
	return f.kind.String()
}
