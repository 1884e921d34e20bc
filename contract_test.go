package duroxide_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/duroxide-go/duroxide"
)

// strp returns a pointer to a copy of s.
func strp(s string) *string { return &s }

// ---------------------------------------------------------------------------
// TagFilter

func TestTagFilterConstructorsRejectBadSets(t *testing.T) {
	six := []string{"a", "b", "c", "d", "e", "f"}
	constructors := []struct {
		name string
		fn   func(...string) (duroxide.TagFilter, error)
	}{
		{"FilterTags", duroxide.FilterTags},
		{"FilterDefaultAnd", duroxide.FilterDefaultAnd},
	}
	inputs := []struct {
		name string
		tags []string
	}{
		{"no arguments", nil},
		{"empty non-nil slice", []string{}},
		{"six distinct tags", six},
		{"seven tags with one duplicate", append(slices.Clone(six), "a")},
		{"ten distinct tags", []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}},
	}
	for _, c := range constructors {
		for _, in := range inputs {
			t.Run(c.name+"/"+in.name, func(t *testing.T) {
				var (
					f   duroxide.TagFilter
					err error
				)
				require.NotPanics(t, func() { f, err = c.fn(in.tags...) })
				require.Error(t, err)
				require.ErrorIs(t, err, duroxide.ErrInvalidTagFilter)
				assert.NotErrorIs(t, err, duroxide.ErrInvalidArgument, "tag filter errors are their own sentinel")
				// The filter returned alongside the error must not accept tagged work.
				assert.False(t, f.Matches(strp("a")), "filter returned with an error must not match tags")
			})
		}
	}
}

func TestTagFilterConstructorsAcceptAndDeduplicate(t *testing.T) {
	constructors := []struct {
		name string
		kind duroxide.TagFilterKind
		fn   func(...string) (duroxide.TagFilter, error)
	}{
		{"FilterTags", duroxide.TagTags, duroxide.FilterTags},
		{"FilterDefaultAnd", duroxide.TagDefaultAnd, duroxide.FilterDefaultAnd},
	}
	inputs := []struct {
		name string
		tags []string
		want []string // sorted, de-duplicated
	}{
		{"one tag", []string{"gpu"}, []string{"gpu"}},
		{"duplicates collapse", []string{"gpu", "gpu", "gpu"}, []string{"gpu"}},
		{"five distinct tags", []string{"e", "d", "c", "b", "a"}, []string{"a", "b", "c", "d", "e"}},
		{"six arguments five distinct", []string{"a", "b", "c", "d", "e", "a"}, []string{"a", "b", "c", "d", "e"}},
		{"empty string is a real tag", []string{""}, []string{""}},
		{"case is significant", []string{"GPU", "gpu"}, []string{"GPU", "gpu"}},
	}
	for _, c := range constructors {
		for _, in := range inputs {
			t.Run(c.name+"/"+in.name, func(t *testing.T) {
				f, err := c.fn(in.tags...)
				require.NoError(t, err)
				assert.Equal(t, c.kind, f.Kind())
				assert.Equal(t, in.want, f.Tags())
				for _, tag := range in.tags {
					assert.True(t, f.Matches(strp(tag)), "tag %q must match", tag)
				}
			})
		}
	}
}

func TestTagFilterConstructorDoesNotRetainArguments(t *testing.T) {
	args := []string{"gpu", "cpu"}
	f, err := duroxide.FilterTags(args...)
	require.NoError(t, err)
	args[0], args[1] = "changed", "also-changed"
	assert.Equal(t, []string{"cpu", "gpu"}, f.Tags())
	assert.True(t, f.Matches(strp("gpu")))
	assert.False(t, f.Matches(strp("changed")))
}

func TestTagFilterMatches(t *testing.T) {
	mustFilter := func(f duroxide.TagFilter, err error) duroxide.TagFilter {
		t.Helper()
		require.NoError(t, err)
		return f
	}
	// Every filter with a set holds "gpu" and "cpu" but not "GPU", "" or "io".
	filters := []struct {
		name   string
		filter duroxide.TagFilter
		// expected result for: untagged, tag in set, tag not in set,
		// empty-string tag (not in set), tag differing only in case.
		untagged, inSet, notInSet, emptyTag, otherCase bool
	}{
		{"DefaultOnly", duroxide.FilterDefaultOnly(), true, false, false, false, false},
		{"Tags", mustFilter(duroxide.FilterTags("gpu", "cpu")), false, true, false, false, false},
		{"DefaultAnd", mustFilter(duroxide.FilterDefaultAnd("gpu", "cpu")), true, true, false, false, false},
		{"Any", duroxide.FilterAny(), true, true, true, true, true},
		{"None", duroxide.FilterNone(), false, false, false, false, false},
	}
	tags := []struct {
		name string
		tag  *string
		pick func(untagged, inSet, notInSet, emptyTag, otherCase bool) bool
	}{
		{"untagged", nil, func(u, _, _, _, _ bool) bool { return u }},
		{"tag in set", strp("gpu"), func(_, in, _, _, _ bool) bool { return in }},
		{"second tag in set", strp("cpu"), func(_, in, _, _, _ bool) bool { return in }},
		{"tag not in set", strp("io"), func(_, _, out, _, _ bool) bool { return out }},
		{"empty-string tag", strp(""), func(_, _, _, e, _ bool) bool { return e }},
		{"other case", strp("GPU"), func(_, _, _, _, c bool) bool { return c }},
	}
	for _, f := range filters {
		for _, tg := range tags {
			t.Run(f.name+"/"+tg.name, func(t *testing.T) {
				want := tg.pick(f.untagged, f.inSet, f.notInSet, f.emptyTag, f.otherCase)
				assert.Equal(t, want, f.filter.Matches(tg.tag))
			})
		}
	}
}

func TestTagFilterEmptyStringTagInSet(t *testing.T) {
	for _, tc := range []struct {
		name     string
		fn       func(...string) (duroxide.TagFilter, error)
		untagged bool
	}{
		{"Tags", duroxide.FilterTags, false},
		{"DefaultAnd", duroxide.FilterDefaultAnd, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := tc.fn("")
			require.NoError(t, err)
			assert.True(t, f.Matches(strp("")), "the empty-string tag is in the set")
			assert.Equal(t, tc.untagged, f.Matches(nil), "untagged is not the empty-string tag")
			assert.False(t, f.Matches(strp("x")))
		})
	}
}

func TestTagFilterZeroValueIsDefaultOnly(t *testing.T) {
	var zero duroxide.TagFilter
	assert.Equal(t, duroxide.TagDefaultOnly, zero.Kind())
	assert.Equal(t, duroxide.FilterDefaultOnly(), zero)
	assert.True(t, zero.Matches(nil))
	assert.False(t, zero.Matches(strp("gpu")))
	assert.False(t, zero.Matches(strp("")))
	assert.Nil(t, zero.Tags())
	assert.Equal(t, duroxide.TagDefaultOnly, duroxide.TagFilterKind(0))
}

func TestTagFilterTagsReturnsCopy(t *testing.T) {
	for _, fn := range []func(...string) (duroxide.TagFilter, error){duroxide.FilterTags, duroxide.FilterDefaultAnd} {
		f, err := fn("b", "a")
		require.NoError(t, err)
		got := f.Tags()
		require.Equal(t, []string{"a", "b"}, got)
		got[0] = "zzz"
		got[1] = "a"
		assert.Equal(t, []string{"a", "b"}, f.Tags(), "mutating the result of Tags must not change the filter")
		assert.True(t, f.Matches(strp("b")))
		assert.False(t, f.Matches(strp("zzz")))
	}
	for _, f := range []duroxide.TagFilter{duroxide.FilterAny(), duroxide.FilterNone(), duroxide.FilterDefaultOnly()} {
		assert.Nil(t, f.Tags(), "%v has no tag set", f.Kind())
	}
}

// ---------------------------------------------------------------------------
// Semver

func TestParseSemver(t *testing.T) {
	valid := []struct {
		in   string
		want duroxide.Semver
	}{
		{"0.0.0", duroxide.Semver{}},
		{"0.1.26", duroxide.Semver{Major: 0, Minor: 1, Patch: 26}},
		{"1.10.0", duroxide.Semver{Major: 1, Minor: 10, Patch: 0}},
		{"10.20.30", duroxide.Semver{Major: 10, Minor: 20, Patch: 30}},
		{"1.2.3-alpha", duroxide.Semver{Major: 1, Minor: 2, Patch: 3}},
		{"1.2.3-rc.1", duroxide.Semver{Major: 1, Minor: 2, Patch: 3}},
		{"1.2.3+build.5", duroxide.Semver{Major: 1, Minor: 2, Patch: 3}},
		{"1.2.3-beta.2+sha.abc", duroxide.Semver{Major: 1, Minor: 2, Patch: 3}},
		{"0.1000.0", duroxide.Semver{Major: 0, Minor: 1000, Patch: 0}},
		{"18446744073709551615.0.0", duroxide.Semver{Major: 1<<64 - 1}},
	}
	for _, tc := range valid {
		t.Run("valid/"+tc.in, func(t *testing.T) {
			got, err := duroxide.ParseSemver(tc.in)
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
	invalid := []string{
		"", "1", "1.2", "1.2.3.4", "1..3", ".1.2", "1.2.",
		"01.2.3", "1.02.3", "1.2.03", "00.0.0",
		"a.b.c", "1.2.x", "v1.2.3", " 1.2.3", "1.2.3 ", "-1.2.3", "+1.2.3", "1.-2.3",
		"18446744073709551616.0.0",
	}
	for _, in := range invalid {
		t.Run(fmt.Sprintf("invalid/%q", in), func(t *testing.T) {
			var err error
			require.NotPanics(t, func() { _, err = duroxide.ParseSemver(in) })
			require.Error(t, err)
		})
	}
}

func TestParseSemverStringRoundTrip(t *testing.T) {
	for _, v := range []duroxide.Semver{{}, {Major: 0, Minor: 1, Patch: 26}, {Major: 12, Minor: 0, Patch: 7}} {
		got, err := duroxide.ParseSemver(v.String())
		require.NoError(t, err)
		assert.Equal(t, v, got)
	}
	assert.Equal(t, "1.10.0", duroxide.Semver{Major: 1, Minor: 10}.String())
	assert.Equal(t, "18446744073709551615.18446744073709551615.18446744073709551615",
		duroxide.Semver{Major: 1<<64 - 1, Minor: 1<<64 - 1, Patch: 1<<64 - 1}.String())
}

func TestCompareSemver(t *testing.T) {
	cases := []struct {
		a, b string
		want int
	}{
		{"1.10.0", "1.9.0", 1},
		{"1.0.10", "1.0.9", 1},
		{"10.0.0", "9.99.99", 1},
		{"2.0.0", "1.99.99", 1},
		{"1.0.0", "0.1000.0", 1}, // not packed integers
		{"0.1.0", "0.0.1000", 1},
		{"1.2.3", "1.2.3", 0},
		{"1.2.3-rc.1", "1.2.3", 0}, // pre-release is not kept
		{"0.0.0", "0.0.1", -1},
		{"0.1.26", "0.1.100", -1},
	}
	for _, tc := range cases {
		t.Run(tc.a+"_vs_"+tc.b, func(t *testing.T) {
			a, err := duroxide.ParseSemver(tc.a)
			require.NoError(t, err)
			b, err := duroxide.ParseSemver(tc.b)
			require.NoError(t, err)
			assert.Equal(t, tc.want, a.Compare(b))
			assert.Equal(t, -tc.want, b.Compare(a), "Compare must be antisymmetric")
		})
	}
}

func TestRangeContainsSemver(t *testing.T) {
	sv := func(s string) duroxide.Semver {
		t.Helper()
		v, err := duroxide.ParseSemver(s)
		require.NoError(t, err)
		return v
	}
	r := duroxide.SemverRange{Min: sv("1.0.0"), Max: sv("1.10.0")}
	cases := []struct {
		v    string
		want bool
	}{
		{"1.0.0", true},    // min is inclusive
		{"1.10.0", true},   // max is inclusive
		{"1.9.99", true},   // 9 < 10 numerically
		{"1.2.3", true},    // inside
		{"0.99.99", false}, // below
		{"1.10.1", false},  // just above
		{"2.0.0", false},
	}
	for _, tc := range cases {
		t.Run(tc.v, func(t *testing.T) {
			assert.Equal(t, tc.want, r.Contains(sv(tc.v)))
		})
	}
	point := duroxide.SemverRange{Min: sv("0.1.26"), Max: sv("0.1.26")}
	assert.True(t, point.Contains(sv("0.1.26")))
	assert.False(t, point.Contains(sv("0.1.25")))
	assert.False(t, point.Contains(sv("0.1.27")))
	inverted := duroxide.SemverRange{Min: sv("2.0.0"), Max: sv("1.0.0")}
	for _, v := range []string{"0.0.0", "1.0.0", "1.5.0", "2.0.0", "3.0.0"} {
		assert.False(t, inverted.Contains(sv(v)), "an inverted range contains nothing, yet contains %s", v)
	}
}

// ---------------------------------------------------------------------------
// DispatcherCapabilityFilter

func TestDispatcherCapabilityFilterCompatible(t *testing.T) {
	v := func(major, minor, patch uint64) *duroxide.Semver {
		return &duroxide.Semver{Major: major, Minor: minor, Patch: patch}
	}
	r1 := duroxide.SemverRange{Min: duroxide.Semver{Major: 0, Minor: 1}, Max: duroxide.Semver{Major: 0, Minor: 1, Patch: 26}}
	r2 := duroxide.SemverRange{Min: duroxide.Semver{Major: 2}, Max: duroxide.Semver{Major: 3}}
	cases := []struct {
		name   string
		ranges []duroxide.SemverRange
		v      *duroxide.Semver
		want   bool
	}{
		{"nil version, ranges", []duroxide.SemverRange{r1}, nil, true},
		{"nil version, range not containing 0.0.0", []duroxide.SemverRange{r2}, nil, true},
		{"nil version, empty list matches nothing", []duroxide.SemverRange{}, nil, false},
		{"nil version, nil list matches nothing", nil, nil, false},
		{"in first range", []duroxide.SemverRange{r1, r2}, v(0, 1, 5), true},
		{"in second range only", []duroxide.SemverRange{r1, r2}, v(2, 5, 0), true},
		{"on upper bound of second range", []duroxide.SemverRange{r1, r2}, v(3, 0, 0), true},
		{"between ranges", []duroxide.SemverRange{r1, r2}, v(1, 0, 0), false},
		{"above all ranges", []duroxide.SemverRange{r1, r2}, v(3, 0, 1), false},
		{"empty list matches nothing", []duroxide.SemverRange{}, v(0, 1, 5), false},
		{"nil list matches nothing", nil, v(0, 0, 0), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := duroxide.DispatcherCapabilityFilter{SupportedDuroxideVersions: tc.ranges}
			assert.Equal(t, tc.want, f.Compatible(tc.v))
		})
	}
}

// ---------------------------------------------------------------------------
// ProviderError

func TestProviderErrorFormatAndUnwrap(t *testing.T) {
	perm := duroxide.Permanent("ack_orchestration_item", duroxide.ErrInvalidLockToken, "Invalid lock token %q", "tok")
	retry := duroxide.Retryable("fetch_work_item", duroxide.ErrUnavailable, "database is locked (%d tries)", 3)

	assert.Equal(t, `ack_orchestration_item: Invalid lock token "tok"`, perm.Error())
	assert.Equal(t, "fetch_work_item: database is locked (3 tries)", retry.Error())
	assert.False(t, perm.Retryable)
	assert.True(t, retry.Retryable)
	assert.Equal(t, duroxide.ErrInvalidLockToken, perm.Unwrap())

	bare := &duroxide.ProviderError{Op: "read", Msg: "boom"}
	assert.Equal(t, "read: boom", bare.Error())
	assert.NoError(t, bare.Unwrap())

	sentinels := []error{
		duroxide.ErrInvalidLockToken, duroxide.ErrLockExpired, duroxide.ErrNotFound,
		duroxide.ErrInstanceRunning, duroxide.ErrNotRoot, duroxide.ErrOrphanChild,
		duroxide.ErrDuplicateEvent, duroxide.ErrInvalidArgument, duroxide.ErrCorruptData,
		duroxide.ErrUnavailable,
	}
	for i, s := range sentinels {
		t.Run(s.Error(), func(t *testing.T) {
			var err error = duroxide.Permanent("op", s, "msg")
			require.ErrorIs(t, err, s)
			wrapped := fmt.Errorf("layer 2: %w", fmt.Errorf("layer 1: %w", err))
			require.ErrorIs(t, wrapped, s, "errors.Is must see through fmt.Errorf %%w and Unwrap")
			for j, other := range sentinels {
				if j != i {
					assert.NotErrorIs(t, wrapped, other)
				}
			}
			var pe *duroxide.ProviderError
			require.ErrorAs(t, wrapped, &pe)
			assert.Equal(t, "op", pe.Op)
			assert.Equal(t, "msg", pe.Msg)
		})
	}

	// A non-sentinel cause is reachable too.
	cause := context.DeadlineExceeded
	var err error = duroxide.Retryable("fetch_orchestration_item", cause, "waiting")
	assert.ErrorIs(t, fmt.Errorf("wrapped: %w", err), context.DeadlineExceeded)
	assert.NotErrorIs(t, err, duroxide.ErrUnavailable)
}

func TestProviderErrorsAs(t *testing.T) {
	var err error = fmt.Errorf("ctx: %w", duroxide.Permanent("get_instance_info", duroxide.ErrNotFound, "Instance %s not found", "x"))
	var pe *duroxide.ProviderError
	require.True(t, errors.As(err, &pe))
	assert.Equal(t, "get_instance_info", pe.Op)
	assert.Equal(t, "Instance x not found", pe.Msg)
	assert.False(t, pe.Retryable)
	assert.Equal(t, duroxide.ErrNotFound, pe.Err)

	pe = nil
	assert.False(t, errors.As(io.EOF, &pe), "a plain error is not a ProviderError")
	assert.Nil(t, pe)
}

func TestIsRetryable(t *testing.T) {
	retry := duroxide.Retryable("fetch_work_item", duroxide.ErrUnavailable, "busy")
	perm := duroxide.Permanent("ack_work_item", duroxide.ErrInvalidLockToken, "gone")
	cases := []struct {
		name string
		err  error
		want bool
	}{
		{"retryable", retry, true},
		{"permanent", perm, false},
		{"retryable without cause", &duroxide.ProviderError{Op: "x", Msg: "y", Retryable: true}, true},
		{"permanent without cause", &duroxide.ProviderError{Op: "x", Msg: "y"}, false},
		{"wrapped retryable", fmt.Errorf("outer: %w", retry), true},
		{"doubly wrapped retryable", fmt.Errorf("a: %w", fmt.Errorf("b: %w", retry)), true},
		{"wrapped permanent", fmt.Errorf("outer: %w", perm), false},
		{"formatted with %v loses the chain", fmt.Errorf("outer: %v", retry), false},
		{"plain error", errors.New("database is locked"), false},
		{"plain sentinel", duroxide.ErrUnavailable, false},
		{"context error", context.Canceled, false},
		{"joined with retryable", errors.Join(io.EOF, retry), true},
		{"nil", nil, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var got bool
			require.NotPanics(t, func() { got = duroxide.IsRetryable(tc.err) })
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestProviderErrorToInfrastructure(t *testing.T) {
	for _, retryable := range []bool{true, false} {
		pe := &duroxide.ProviderError{Op: "ack_orchestration_item", Msg: "database is locked", Retryable: retryable, Err: duroxide.ErrUnavailable}
		got := pe.ToInfrastructure()
		assert.Equal(t, duroxide.Infrastructure{Operation: "ack_orchestration_item", Message: "database is locked", Retryable: retryable}, got)
		assert.Equal(t, retryable, got.IsRetryable())
		assert.Equal(t, "infrastructure:ack_orchestration_item: database is locked", got.DisplayMessage())
	}
}

// ---------------------------------------------------------------------------
// ErrorDetails

func TestErrorDetailsVariants(t *testing.T) {
	cases := []struct {
		name      string
		details   duroxide.ErrorDetails
		category  string
		retryable bool
		display   string
	}{
		{"Infrastructure retryable",
			duroxide.Infrastructure{Operation: "fetch", Message: "db locked", Retryable: true},
			"infrastructure", true, "infrastructure:fetch: db locked"},
		{"Infrastructure permanent",
			duroxide.Infrastructure{Operation: "ack_orchestration_item", Message: "Invalid lock token", Retryable: false},
			"infrastructure", false, "infrastructure:ack_orchestration_item: Invalid lock token"},
		{"Configuration with message",
			duroxide.Configuration{Kind: duroxide.Nondeterminism, Resource: "Greet", Message: strp("history mismatch at event 3")},
			"configuration", false, "nondeterministic: history mismatch at event 3"},
		{"Configuration with empty message",
			duroxide.Configuration{Kind: duroxide.Nondeterminism, Resource: "Greet", Message: strp("")},
			"configuration", false, "nondeterministic: "},
		{"Configuration without message",
			duroxide.Configuration{Kind: duroxide.Nondeterminism, Resource: "Greet"},
			"configuration", false, "nondeterministic in Greet"},
		{"Application ActivityFailed retryable",
			duroxide.Application{Kind: duroxide.AppActivityFailed{}, Message: "card declined", Retryable: true},
			"application", true, "card declined"},
		{"Application ActivityFailed permanent",
			duroxide.Application{Kind: duroxide.AppActivityFailed{}, Message: "card declined"},
			"application", false, "card declined"},
		{"Application OrchestrationFailed",
			duroxide.Application{Kind: duroxide.AppOrchestrationFailed{}, Message: "bad input"},
			"application", false, "bad input"},
		{"Application Panicked",
			duroxide.Application{Kind: duroxide.AppPanicked{}, Message: "index out of range"},
			"application", false, "orchestration panicked: index out of range"},
		{"Application Cancelled",
			duroxide.Application{Kind: duroxide.AppCancelled{Reason: "user request"}, Message: "ignored", Retryable: true},
			"application", true, "canceled: user request"},
		{"Poison Orchestration",
			duroxide.Poison{AttemptCount: 11, MaxAttempts: 10, MessageType: duroxide.PoisonOrchestration{Instance: "order-42", ExecutionID: 2}, Message: "{}"},
			"poison", false, "poison: orchestration order-42 exceeded 11 attempts (max 10)"},
		{"Poison Activity",
			duroxide.Poison{AttemptCount: 4, MaxAttempts: 3, MessageType: duroxide.PoisonActivity{Instance: "order-42", ExecutionID: 1, ActivityName: "Charge", ActivityID: 7}},
			"poison", false, "poison: activity Charge#7 exceeded 4 attempts (max 3)"},
		{"Poison FailedDeserialization",
			duroxide.Poison{AttemptCount: 11, MaxAttempts: 10, MessageType: duroxide.PoisonFailedDeserialization{Instance: "order-42", ExecutionID: 1, Error: "unknown variant"}},
			"poison", false, "poison: orchestration order-42 history deserialization failed after 11 attempts (max 10): unknown variant"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.category, tc.details.Category())
			assert.Equal(t, tc.retryable, tc.details.IsRetryable())
			assert.Equal(t, tc.display, tc.details.DisplayMessage())
		})
	}
}

func TestErrorDetailsMissingNestedKindDoesNotPanic(t *testing.T) {
	for _, d := range []duroxide.ErrorDetails{
		duroxide.Application{Message: "no kind"},
		duroxide.Poison{AttemptCount: 2, MaxAttempts: 1},
	} {
		require.NotPanics(t, func() { _ = d.DisplayMessage() }, "%T", d)
		assert.False(t, d.IsRetryable())
	}
	assert.Equal(t, "no kind", duroxide.Application{Message: "no kind"}.DisplayMessage())
}

// ---------------------------------------------------------------------------
// Deep copies
//
// fillValue populates every exported field reachable from a value with
// distinct non-zero data: pointers are allocated, slices get two elements,
// maps one entry and interfaces the variant listed in fillVariants (the one
// with the most reference fields). scribble then mutates everything that
// can be reached from a value, in place, through pointers, slices, maps and
// interfaces. A clone is deep when scribbling it leaves the original equal to
// an independently filled twin.

var fillVariants = map[reflect.Type]any{
	reflect.TypeFor[duroxide.EventKind]():         duroxide.OrchestrationStarted{},
	reflect.TypeFor[duroxide.ErrorDetails]():      duroxide.Configuration{},
	reflect.TypeFor[duroxide.AppErrorKind]():      duroxide.AppCancelled{},
	reflect.TypeFor[duroxide.PoisonMessageType](): duroxide.PoisonActivity{},
}

type filler struct {
	t testing.TB
	n uint64
}

func (f *filler) fill(v reflect.Value) {
	f.t.Helper()
	switch v.Kind() {
	case reflect.String:
		f.n++
		v.SetString(fmt.Sprintf("s%d", f.n))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		f.n++
		v.SetUint(f.n)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		f.n++
		v.SetInt(int64(f.n))
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		f.fill(p.Elem())
		v.Set(p)
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 2, 2)
		for i := range s.Len() {
			f.fill(s.Index(i))
		}
		v.Set(s)
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		k := reflect.New(v.Type().Key()).Elem()
		e := reflect.New(v.Type().Elem()).Elem()
		f.fill(k)
		f.fill(e)
		m.SetMapIndex(k, e)
		v.Set(m)
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				f.fill(v.Field(i))
			}
		}
	case reflect.Interface:
		proto, ok := fillVariants[v.Type()]
		require.True(f.t, ok, "no fill variant for interface %v", v.Type())
		c := reflect.New(reflect.TypeOf(proto)).Elem()
		f.fill(c)
		v.Set(c)
	default:
		require.Failf(f.t, "cannot fill", "unsupported kind %v (%v)", v.Kind(), v.Type())
	}
}

// filled returns proto's type populated by fillValue; the same proto always
// yields an equal value.
func filled[T any](t testing.TB, proto T) T {
	t.Helper()
	f := &filler{t: t}
	c := reflect.New(reflect.TypeOf(proto)).Elem()
	f.fill(c)
	var out T
	reflect.ValueOf(&out).Elem().Set(c)
	return out
}

// filledEvent returns an event whose envelope and kind are fully populated.
func filledEvent(t testing.TB, kind duroxide.EventKind) duroxide.Event {
	t.Helper()
	ev := filled(t, duroxide.Event{})
	ev.Kind = filled(t, kind)
	return ev
}

// scribble mutates, in place, everything reachable from v that can be set.
func scribble(v reflect.Value) {
	switch v.Kind() {
	case reflect.String:
		if v.CanSet() {
			v.SetString(v.String() + "~")
		}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		if v.CanSet() {
			v.SetUint(v.Uint() + 1000)
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if v.CanSet() {
			v.SetInt(v.Int() + 1000)
		}
	case reflect.Bool:
		if v.CanSet() {
			v.SetBool(!v.Bool())
		}
	case reflect.Pointer:
		if !v.IsNil() {
			scribble(v.Elem())
		}
	case reflect.Slice:
		for i := range v.Len() {
			scribble(v.Index(i))
		}
	case reflect.Map:
		if v.IsNil() {
			return
		}
		for _, k := range v.MapKeys() {
			e := reflect.New(v.Type().Elem()).Elem()
			e.Set(v.MapIndex(k))
			scribble(e)
			v.SetMapIndex(k, e)
		}
		if v.Type().Key().Kind() == reflect.String {
			v.SetMapIndex(reflect.ValueOf("scribbled").Convert(v.Type().Key()), reflect.New(v.Type().Elem()).Elem())
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				scribble(v.Field(i))
			}
		}
	case reflect.Interface:
		if v.IsNil() {
			return
		}
		if v.CanSet() {
			c := reflect.New(v.Elem().Type()).Elem()
			c.Set(v.Elem())
			scribble(c)
			v.Set(c)
			return
		}
		scribble(v.Elem())
	}
}

// scribblePtr scribbles *p.
func scribblePtr[T any](p *T) { scribble(reflect.ValueOf(p).Elem()) }

// hasReferences reports whether v reaches a non-nil pointer, slice or map,
// i.e. memory a shallow copy would share.
func hasReferences(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Pointer, reflect.Slice, reflect.Map:
		return !v.IsNil()
	case reflect.Interface:
		return !v.IsNil() && hasReferences(v.Elem())
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() && hasReferences(v.Field(i)) {
				return true
			}
		}
	}
	return false
}

// allPointersSet fails if some pointer, slice or interface reachable from v
// is nil: the deep-copy tests need every reference populated.
func allPointersSet(t *testing.T, v reflect.Value, path string) {
	t.Helper()
	switch v.Kind() {
	case reflect.Pointer:
		require.False(t, v.IsNil(), "%s is nil", path)
		allPointersSet(t, v.Elem(), path)
	case reflect.Slice:
		require.False(t, v.IsNil(), "%s is nil", path)
		for i := range v.Len() {
			allPointersSet(t, v.Index(i), fmt.Sprintf("%s[%d]", path, i))
		}
	case reflect.Interface:
		require.False(t, v.IsNil(), "%s is nil", path)
		allPointersSet(t, v.Elem(), path)
	case reflect.Struct:
		for i := range v.NumField() {
			if f := v.Type().Field(i); f.IsExported() {
				allPointersSet(t, v.Field(i), path+"."+f.Name)
			}
		}
	}
}

// TestDeepCopyCheckerReachesSharedMemory checks the checker: scribbling a shallow
// copy changes the original exactly when the value has reference fields, so
// the deep-copy tests below would catch a shallow Clone.
func TestDeepCopyCheckerReachesSharedMemory(t *testing.T) {
	withRefs := 0
	for _, kind := range duroxide.EventKinds() {
		orig := filled(t, kind)
		want := filled(t, kind)
		require.Equal(t, want, orig)
		shallow := orig
		scribblePtr(&shallow)
		if reflect.TypeOf(kind).NumField() > 0 {
			require.NotEqual(t, want, shallow, "%s: scribble changed nothing", kind.EventType())
		}
		refs := hasReferences(reflect.ValueOf(&orig).Elem())
		assert.Equal(t, refs, !reflect.DeepEqual(want, orig), "%s: a shallow copy shares memory iff the kind has references", kind.EventType())
		if refs {
			withRefs++
		}
	}
	// OrchestrationStarted, OrchestrationFailed, ActivityScheduled,
	// ActivityFailed, SubOrchestrationFailed, CustomStatusUpdated.
	assert.Equal(t, 6, withRefs, "event kinds with reference fields")

	ev := filledEvent(t, duroxide.TimerFired{})
	want := filledEvent(t, duroxide.TimerFired{})
	shallow := ev
	scribblePtr(&shallow)
	assert.NotEqual(t, want, ev, "the envelope's SourceEventID is shared by a shallow copy")
}

func TestEventCloneIsDeep(t *testing.T) {
	for _, kind := range duroxide.EventKinds() {
		t.Run(kind.EventType(), func(t *testing.T) {
			orig := filledEvent(t, kind)
			want := filledEvent(t, kind)
			allPointersSet(t, reflect.ValueOf(orig), "Event")
			require.Equal(t, want, orig)

			clone := orig.Clone()
			require.Equal(t, want, clone, "a clone equals its original")
			require.IsType(t, kind, clone.Kind, "Clone keeps the kind's type")
			scribblePtr(&clone)
			require.NotEqual(t, want, clone)
			assert.Equal(t, want, orig, "mutating the clone changed the original")

			// And the other way round.
			clone = orig.Clone()
			scribblePtr(&orig)
			assert.Equal(t, want, clone, "mutating the original changed the clone")
		})
	}
}

func TestEventCloneNilFields(t *testing.T) {
	var clone duroxide.Event
	require.NotPanics(t, func() { clone = duroxide.Event{EventID: 3}.Clone() })
	assert.Equal(t, duroxide.Event{EventID: 3}, clone)

	// Absent optionals stay absent; a present empty slice stays present.
	ev := duroxide.Event{EventID: 1, Kind: duroxide.OrchestrationStarted{Name: "o", CarryForwardEvents: []duroxide.CarriedEvent{}}}
	c := ev.Clone()
	started := c.Kind.(duroxide.OrchestrationStarted)
	assert.Nil(t, c.SourceEventID)
	assert.Nil(t, started.ParentInstance)
	assert.Nil(t, started.ParentID)
	assert.Nil(t, started.InitialCustomStatus)
	assert.NotNil(t, started.CarryForwardEvents, "a present empty carry-forward list must stay present")
	assert.Empty(t, started.CarryForwardEvents)
	c2 := duroxide.Event{Kind: duroxide.OrchestrationStarted{}}.Clone()
	assert.Nil(t, c2.Kind.(duroxide.OrchestrationStarted).CarryForwardEvents, "an absent carry-forward list must stay absent")
}

func TestCloneEvents(t *testing.T) {
	assert.Nil(t, duroxide.CloneEvents(nil))
	empty := duroxide.CloneEvents([]duroxide.Event{})
	assert.NotNil(t, empty)
	assert.Empty(t, empty)

	var orig, want []duroxide.Event
	for _, k := range duroxide.EventKinds() {
		orig = append(orig, filledEvent(t, k))
		want = append(want, filledEvent(t, k))
	}
	clone := duroxide.CloneEvents(orig)
	require.Equal(t, want, clone)
	scribblePtr(&clone)
	clone[0] = duroxide.Event{}
	assert.Equal(t, want, orig)
}

func TestCloneWorkItemIsDeep(t *testing.T) {
	for _, proto := range duroxide.WorkItemVariants() {
		t.Run(proto.Variant(), func(t *testing.T) {
			orig := filled(t, proto)
			want := filled(t, proto)
			allPointersSet(t, reflect.ValueOf(&orig).Elem(), proto.Variant())

			clone := duroxide.CloneWorkItem(orig)
			require.Equal(t, want, clone)
			require.IsType(t, proto, clone)
			scribblePtr(&clone)
			require.NotEqual(t, want, clone)
			assert.Equal(t, want, orig, "mutating the clone changed the original")

			clone = duroxide.CloneWorkItem(orig)
			scribblePtr(&orig)
			assert.Equal(t, want, clone, "mutating the original changed the clone")
		})
	}
}

func TestCloneWorkItems(t *testing.T) {
	assert.Nil(t, duroxide.CloneWorkItem(nil))
	assert.Nil(t, duroxide.CloneWorkItems(nil))
	empty := duroxide.CloneWorkItems([]duroxide.WorkItem{})
	assert.NotNil(t, empty)
	assert.Empty(t, empty)

	var orig, want []duroxide.WorkItem
	for _, w := range duroxide.WorkItemVariants() {
		orig = append(orig, filled(t, w))
		want = append(want, filled(t, w))
	}
	orig = append(orig, nil)
	want = append(want, nil)
	clone := duroxide.CloneWorkItems(orig)
	require.Equal(t, want, clone)
	scribblePtr(&clone)
	clone[0] = nil
	assert.Equal(t, want, orig)

	cf := duroxide.ContinueAsNewItem{Instance: "i", CarryForwardEvents: []duroxide.CarriedEvent{}}
	assert.NotNil(t, duroxide.CloneWorkItem(cf).(duroxide.ContinueAsNewItem).CarryForwardEvents)
	assert.Nil(t, duroxide.CloneWorkItem(duroxide.ContinueAsNewItem{}).(duroxide.ContinueAsNewItem).CarryForwardEvents)
}

func TestCloneErrorDetailsIsDeep(t *testing.T) {
	assert.Nil(t, duroxide.CloneErrorDetails(nil))
	// Each constructor is called twice: once for the original, once for an
	// independent twin to compare with.
	variants := []func() duroxide.ErrorDetails{
		func() duroxide.ErrorDetails {
			return duroxide.Infrastructure{Operation: "op", Message: "m", Retryable: true}
		},
		func() duroxide.ErrorDetails {
			return duroxide.Configuration{Kind: duroxide.Nondeterminism, Resource: "r", Message: strp("m")}
		},
		func() duroxide.ErrorDetails {
			return duroxide.Configuration{Kind: duroxide.Nondeterminism, Resource: "r"}
		},
		func() duroxide.ErrorDetails {
			return duroxide.Application{Kind: duroxide.AppCancelled{Reason: "why"}, Message: "m"}
		},
		func() duroxide.ErrorDetails {
			return duroxide.Application{Kind: duroxide.AppPanicked{}, Message: "m"}
		},
		func() duroxide.ErrorDetails {
			return duroxide.Poison{AttemptCount: 2, MaxAttempts: 1, MessageType: duroxide.PoisonActivity{Instance: "i", ActivityName: "a"}, Message: "x"}
		},
		func() duroxide.ErrorDetails {
			return duroxide.Poison{AttemptCount: 2, MaxAttempts: 1, MessageType: duroxide.PoisonFailedDeserialization{Instance: "i", Error: "e"}}
		},
	}
	for i, mk := range variants {
		t.Run(fmt.Sprintf("%d/%T", i, mk()), func(t *testing.T) {
			orig, want := mk(), mk()
			clone := duroxide.CloneErrorDetails(orig)
			require.Equal(t, want, clone)
			require.IsType(t, want, clone)
			assert.Equal(t, want.DisplayMessage(), clone.DisplayMessage())
			scribblePtr(&clone)
			require.NotEqual(t, want, clone)
			assert.Equal(t, want, orig, "mutating the clone changed the original")
		})
	}
	// Fully populated by reflection as well.
	for _, proto := range []duroxide.ErrorDetails{duroxide.Infrastructure{}, duroxide.Configuration{}, duroxide.Application{}, duroxide.Poison{}} {
		orig := filled(t, proto)
		want := filled(t, proto)
		clone := duroxide.CloneErrorDetails(orig)
		require.Equal(t, want, clone)
		scribblePtr(&clone)
		assert.Equal(t, want, orig, "%T", proto)
	}
}

func TestExecutionMetadataCloneIsDeep(t *testing.T) {
	orig := filled(t, duroxide.ExecutionMetadata{})
	want := filled(t, duroxide.ExecutionMetadata{})
	allPointersSet(t, reflect.ValueOf(orig), "ExecutionMetadata")

	clone := orig.Clone()
	require.Equal(t, want, clone)
	scribblePtr(&clone)
	require.NotEqual(t, want, clone)
	assert.Equal(t, want, orig, "mutating the clone changed the original")

	clone = orig.Clone()
	scribblePtr(&orig)
	assert.Equal(t, want, clone, "mutating the original changed the clone")

	assert.Equal(t, duroxide.ExecutionMetadata{}, duroxide.ExecutionMetadata{}.Clone(), "absent fields stay absent")
}

// ---------------------------------------------------------------------------
// Routing, terminal helpers, results, trees

func TestOrchestratorInstance(t *testing.T) {
	cases := []struct {
		item   duroxide.WorkItem
		want   string
		routed bool
	}{
		{duroxide.StartOrchestrationItem{Instance: "inst", ParentInstance: strp("parent")}, "inst", true},
		{duroxide.ActivityExecuteItem{Instance: "inst"}, "", false},
		{duroxide.ActivityCompletedItem{Instance: "inst"}, "inst", true},
		{duroxide.ActivityFailedItem{Instance: "inst"}, "inst", true},
		{duroxide.TimerFiredItem{Instance: "inst"}, "inst", true},
		{duroxide.ExternalRaisedItem{Instance: "inst"}, "inst", true},
		{duroxide.SubOrchCompletedItem{ParentInstance: "parent"}, "parent", true},
		{duroxide.SubOrchFailedItem{ParentInstance: "parent"}, "parent", true},
		{duroxide.CancelInstanceItem{Instance: "inst"}, "inst", true},
		{duroxide.ContinueAsNewItem{Instance: "inst"}, "inst", true},
		{duroxide.QueueMessageItem{Instance: "inst"}, "inst", true},
	}
	covered := map[string]bool{}
	for _, tc := range cases {
		t.Run(tc.item.Variant(), func(t *testing.T) {
			got, ok := duroxide.OrchestratorInstance(tc.item)
			assert.Equal(t, tc.routed, ok)
			assert.Equal(t, tc.want, got)
		})
		covered[tc.item.Variant()] = true
	}
	for _, w := range duroxide.WorkItemVariants() {
		assert.True(t, covered[w.Variant()], "routing table misses %s", w.Variant())
	}

	got, ok := duroxide.OrchestratorInstance(nil)
	assert.False(t, ok)
	assert.Empty(t, got)

	// Fully populated items: SubOrch* never route to a field other than
	// ParentInstance, and only ActivityExecute is refused.
	for _, proto := range duroxide.WorkItemVariants() {
		w := filled(t, proto)
		id, ok := duroxide.OrchestratorInstance(w)
		v := reflect.ValueOf(w)
		switch proto.(type) {
		case duroxide.ActivityExecuteItem:
			assert.False(t, ok)
			assert.Empty(t, id)
		case duroxide.SubOrchCompletedItem, duroxide.SubOrchFailedItem:
			assert.True(t, ok)
			assert.Equal(t, v.FieldByName("ParentInstance").String(), id, proto.Variant())
		default:
			assert.True(t, ok)
			assert.Equal(t, v.FieldByName("Instance").String(), id, proto.Variant())
		}
	}
}

func TestEventIsTerminal(t *testing.T) {
	terminal := map[string]bool{
		"OrchestrationCompleted":      true,
		"OrchestrationFailed":         true,
		"OrchestrationContinuedAsNew": true,
	}
	for _, kind := range duroxide.EventKinds() {
		t.Run(kind.EventType(), func(t *testing.T) {
			assert.Equal(t, terminal[kind.EventType()], duroxide.Event{Kind: kind}.IsTerminal())
			assert.Equal(t, terminal[kind.EventType()], filledEvent(t, kind).IsTerminal())
		})
	}
	assert.False(t, duroxide.Event{}.IsTerminal(), "an event without a kind is not terminal")
}

func TestExecutionStatusIsTerminal(t *testing.T) {
	cases := []struct {
		status duroxide.ExecutionStatus
		want   bool
	}{
		{duroxide.StatusRunning, false},
		{duroxide.StatusCompleted, true},
		{duroxide.StatusFailed, true},
		{duroxide.StatusContinuedAsNew, true},
		{duroxide.StatusUnknown, false},
		{"", false},
		{"completed", false},
		{"Terminated", false},
	}
	for _, tc := range cases {
		t.Run(string(tc.status), func(t *testing.T) {
			assert.Equal(t, tc.want, tc.status.IsTerminal())
		})
	}
	assert.Equal(t, duroxide.ExecutionStatus("Running"), duroxide.StatusRunning)
	assert.Equal(t, duroxide.ExecutionStatus("Completed"), duroxide.StatusCompleted)
	assert.Equal(t, duroxide.ExecutionStatus("Failed"), duroxide.StatusFailed)
	assert.Equal(t, duroxide.ExecutionStatus("ContinuedAsNew"), duroxide.StatusContinuedAsNew)
	assert.Equal(t, duroxide.ExecutionStatus("Unknown"), duroxide.StatusUnknown)
}

// numbered returns a T whose i-th uint64 field holds base*(i+1), so a sum
// with swapped or dropped fields is detected.
func numbered[T any](t *testing.T, base uint64) T {
	t.Helper()
	var out T
	v := reflect.ValueOf(&out).Elem()
	for i := range v.NumField() {
		require.Equal(t, reflect.Uint64, v.Field(i).Kind(), "%T.%s", out, v.Type().Field(i).Name)
		v.Field(i).SetUint(base * uint64(i+1))
	}
	return out
}

func TestResultAdd(t *testing.T) {
	t.Run("DeleteInstanceResult", func(t *testing.T) {
		a := numbered[duroxide.DeleteInstanceResult](t, 1)
		b := numbered[duroxide.DeleteInstanceResult](t, 100)
		want := numbered[duroxide.DeleteInstanceResult](t, 101)
		assert.Equal(t, want, a.Add(b))
		assert.Equal(t, want, b.Add(a))
		assert.Equal(t, a, a.Add(duroxide.DeleteInstanceResult{}))
		assert.Equal(t, duroxide.DeleteInstanceResult{InstancesDeleted: 1, ExecutionsDeleted: 2, EventsDeleted: 3, QueueMessagesDeleted: 4}, a)
	})
	t.Run("PruneResult", func(t *testing.T) {
		a := numbered[duroxide.PruneResult](t, 1)
		b := numbered[duroxide.PruneResult](t, 100)
		want := numbered[duroxide.PruneResult](t, 101)
		assert.Equal(t, want, a.Add(b))
		assert.Equal(t, want, b.Add(a))
		assert.Equal(t, a, a.Add(duroxide.PruneResult{}))
		assert.Equal(t, duroxide.PruneResult{InstancesProcessed: 1, ExecutionsDeleted: 2, EventsDeleted: 3}, a)
	})
}

func TestInstanceTree(t *testing.T) {
	cases := []struct {
		name     string
		ids      []string
		rootOnly bool
		size     int
	}{
		{"root only", []string{"root"}, true, 1},
		{"root and child", []string{"root", "root::sub::1"}, false, 2},
		{"deep tree", []string{"root", "a", "a1", "b"}, false, 4},
		{"empty", nil, false, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tree := duroxide.InstanceTree{RootID: "root", AllIDs: tc.ids}
			assert.Equal(t, tc.rootOnly, tree.IsRootOnly())
			assert.Equal(t, tc.size, tree.Size())
		})
	}
}

// ---------------------------------------------------------------------------
// Exhaustiveness

func TestEventKindsExhaustive(t *testing.T) {
	// The wire tags of duroxide's EventKind, in declaration order.
	want := []string{
		"OrchestrationStarted", "OrchestrationCompleted", "OrchestrationFailed",
		"ActivityScheduled", "ActivityCompleted", "ActivityFailed", "ActivityCancelRequested",
		"TimerCreated", "TimerFired", "ExternalSubscribed", "ExternalEvent",
		"OrchestrationChained", "SubOrchestrationScheduled", "SubOrchestrationCompleted",
		"SubOrchestrationFailed", "SubOrchestrationCancelRequested", "OrchestrationContinuedAsNew",
		"OrchestrationCancelRequested", "ExternalSubscribedCancelled", "ExternalSubscribedPersistent",
		"ExternalEventPersistent", "ExternalSubscribedPersistentCancelled", "CustomStatusUpdated",
		"KeyValueSet", "KeyValueCleared", "KeyValuesCleared",
	}
	kinds := duroxide.EventKinds()
	require.Len(t, kinds, 26)
	tags := map[string]bool{}
	types := map[reflect.Type]bool{}
	var got []string
	for _, k := range kinds {
		require.NotNil(t, k)
		tags[k.EventType()] = true
		types[reflect.TypeOf(k)] = true
		got = append(got, k.EventType())
	}
	assert.Len(t, tags, 26, "EventType values must be distinct")
	assert.Len(t, types, 26, "EventKinds must list distinct Go types")
	assert.Equal(t, want, got)
	assert.Equal(t, kinds, duroxide.EventKinds(), "EventKinds is stable")
}

func TestWorkItemVariantsExhaustive(t *testing.T) {
	want := []string{
		"StartOrchestration", "ActivityExecute", "ActivityCompleted", "ActivityFailed",
		"TimerFired", "ExternalRaised", "SubOrchCompleted", "SubOrchFailed",
		"CancelInstance", "ContinueAsNew", "QueueMessage",
	}
	variants := duroxide.WorkItemVariants()
	require.Len(t, variants, 11)
	names := map[string]bool{}
	types := map[reflect.Type]bool{}
	var got []string
	for _, w := range variants {
		require.NotNil(t, w)
		names[w.Variant()] = true
		types[reflect.TypeOf(w)] = true
		got = append(got, w.Variant())
	}
	assert.Len(t, names, 11, "Variant values must be distinct")
	assert.Len(t, types, 11, "WorkItemVariants must list distinct Go types")
	assert.ElementsMatch(t, want, got)
}

func TestTagFilterString(t *testing.T) {
	tags, err := duroxide.FilterTags("gpu", "cpu")
	require.NoError(t, err)
	defaultAnd, err := duroxide.FilterDefaultAnd("gpu")
	require.NoError(t, err)
	cases := []struct {
		filter duroxide.TagFilter
		want   string
	}{
		{duroxide.FilterDefaultOnly(), "DefaultOnly"},
		{tags, `Tags["cpu" "gpu"]`},
		{defaultAnd, `DefaultAnd["gpu"]`},
		{duroxide.FilterAny(), "Any"},
		{duroxide.FilterNone(), "None"},
	}
	for _, tc := range cases {
		assert.Equal(t, tc.want, tc.filter.String())
		assert.Equal(t, tc.filter.Kind().String(), tc.want[:len(tc.filter.Kind().String())])
	}
	assert.Equal(t, "TagFilterKind(42)", duroxide.TagFilterKind(42).String())
}

// withOnlyReference returns proto's type fully populated, except that every
// exported field holding references other than field keep is zeroed (keep
// -1 zeroes them all). The same arguments always yield equal values.
func withOnlyReference[T any](t *testing.T, proto T, keep int) T {
	t.Helper()
	x := filled(t, proto)
	c := reflect.New(reflect.TypeOf(proto)).Elem()
	c.Set(reflect.ValueOf(x))
	for i := range c.NumField() {
		if i != keep && c.Type().Field(i).IsExported() && hasReferences(c.Field(i)) {
			c.Field(i).SetZero()
		}
	}
	var out T
	reflect.ValueOf(&out).Elem().Set(c)
	return out
}

// referenceFields returns the indexes of proto's exported fields that hold
// references once populated.
func referenceFields(t *testing.T, proto any) []int {
	t.Helper()
	v := reflect.ValueOf(filled(t, proto))
	var out []int
	for i := range v.NumField() {
		if v.Type().Field(i).IsExported() && hasReferences(v.Field(i)) {
			out = append(out, i)
		}
	}
	return out
}

// TestCloneIsDeepWithEachReferenceAlone repeats the deep-copy checks with a
// single reference field populated at a time (and none), so a Clone that
// decides from some fields whether to copy the others is caught.
func TestCloneIsDeepWithEachReferenceAlone(t *testing.T) {
	keeps := func(proto any) []int { return append([]int{-1}, referenceFields(t, proto)...) }
	fieldName := func(proto any, i int) string {
		if i < 0 {
			return "none"
		}
		return reflect.TypeOf(proto).Field(i).Name
	}
	for _, kind := range duroxide.EventKinds() {
		for _, keep := range keeps(kind) {
			for _, withSource := range []bool{false, true} {
				t.Run(fmt.Sprintf("Event/%s/%s/source=%v", kind.EventType(), fieldName(kind, keep), withSource), func(t *testing.T) {
					mk := func() duroxide.Event {
						ev := filledEvent(t, kind)
						ev.Kind = withOnlyReference(t, kind, keep)
						if !withSource {
							ev.SourceEventID = nil
						}
						return ev
					}
					orig, want := mk(), mk()
					clone := orig.Clone()
					require.Equal(t, want, clone)
					scribblePtr(&clone)
					assert.Equal(t, want, orig, "mutating the clone changed the original")
				})
			}
		}
	}
	for _, proto := range duroxide.WorkItemVariants() {
		for _, keep := range keeps(proto) {
			t.Run(fmt.Sprintf("WorkItem/%s/%s", proto.Variant(), fieldName(proto, keep)), func(t *testing.T) {
				orig, want := withOnlyReference(t, proto, keep), withOnlyReference(t, proto, keep)
				clone := duroxide.CloneWorkItem(orig)
				require.Equal(t, want, clone)
				scribblePtr(&clone)
				assert.Equal(t, want, orig, "mutating the clone changed the original")
			})
		}
	}
	meta := duroxide.ExecutionMetadata{}
	for _, keep := range keeps(meta) {
		t.Run("ExecutionMetadata/"+fieldName(meta, keep), func(t *testing.T) {
			orig, want := withOnlyReference(t, meta, keep), withOnlyReference(t, meta, keep)
			clone := orig.Clone()
			require.Equal(t, want, clone)
			scribblePtr(&clone)
			assert.Equal(t, want, orig, "mutating the clone changed the original")
		})
	}
	for _, proto := range []duroxide.ErrorDetails{duroxide.Infrastructure{}, duroxide.Configuration{}, duroxide.Application{}, duroxide.Poison{}} {
		for _, keep := range keeps(proto) {
			t.Run(fmt.Sprintf("ErrorDetails/%T/%s", proto, fieldName(proto, keep)), func(t *testing.T) {
				orig, want := withOnlyReference(t, proto, keep), withOnlyReference(t, proto, keep)
				clone := duroxide.CloneErrorDetails(orig)
				require.Equal(t, want, clone)
				scribblePtr(&clone)
				assert.Equal(t, want, orig, "mutating the clone changed the original")
			})
		}
	}
}
