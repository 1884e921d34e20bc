package duroxide

import (
	"cmp"
	"fmt"
	"strconv"
	"strings"
)

// Semver is a semantic version reduced to major, minor and patch, which is
// what duroxide stores for pinned versions. Pre-release and build metadata are
// not kept.
//
// Plain data, not synchronized (see the package doc, Concurrency).
type Semver struct {
	Major, Minor, Patch uint64
}

// ParseSemver parses "MAJOR.MINOR.PATCH", ignoring any "-pre-release" or
// "+build" suffix. It returns an error for anything else.
func ParseSemver(s string) (Semver, error) {
	core := s
	if i := strings.IndexAny(core, "-+"); i >= 0 {
		core = core[:i]
	}
	var n [3]uint64
	for i := range n {
		p := core
		if i < 2 {
			j := strings.IndexByte(core, '.')
			if j < 0 {
				return Semver{}, fmt.Errorf("duroxide: invalid semver %q: want MAJOR.MINOR.PATCH", s)
			}
			p, core = core[:j], core[j+1:]
		} else if strings.IndexByte(p, '.') >= 0 {
			return Semver{}, fmt.Errorf("duroxide: invalid semver %q: want MAJOR.MINOR.PATCH", s)
		}
		if p == "" || (len(p) > 1 && p[0] == '0') {
			return Semver{}, fmt.Errorf("duroxide: invalid semver %q: bad number %q", s, p)
		}
		v, err := strconv.ParseUint(p, 10, 64)
		if err != nil {
			return Semver{}, fmt.Errorf("duroxide: invalid semver %q: %w", s, err)
		}
		n[i] = v
	}
	return Semver{n[0], n[1], n[2]}, nil
}

// String returns "MAJOR.MINOR.PATCH".
func (v Semver) String() string {
	var b [3*20 + 2]byte
	s := strconv.AppendUint(b[:0], v.Major, 10)
	s = strconv.AppendUint(append(s, '.'), v.Minor, 10)
	s = strconv.AppendUint(append(s, '.'), v.Patch, 10)
	return string(s)
}

// Compare returns -1, 0 or +1 as v is less than, equal to or greater than w.
func (v Semver) Compare(w Semver) int {
	if c := cmp.Compare(v.Major, w.Major); c != 0 {
		return c
	}
	if c := cmp.Compare(v.Minor, w.Minor); c != 0 {
		return c
	}
	return cmp.Compare(v.Patch, w.Patch)
}

// SemverRange is an inclusive range of versions: Min <= v <= Max.
//
// Plain data, not synchronized (see the package doc, Concurrency).
type SemverRange struct {
	Min, Max Semver
}

// Contains reports whether Min <= v <= Max.
func (r SemverRange) Contains(v Semver) bool {
	return r.Min.Compare(v) <= 0 && v.Compare(r.Max) <= 0
}
