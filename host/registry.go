package host

import (
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/duroxide-go/duroxide"
	"github.com/duroxide-go/duroxide/orchestration"
)

// DefaultVersion is the version [Registry.RegisterOrchestration] registers.
const DefaultVersion = "1.0.0"

// Registry maps orchestration names and versions, and activity names, to
// handlers. Build one, register everything, then pass it to [New], which
// takes a snapshot: later registrations do not reach a runtime already
// built.
//
// A Registry is safe for concurrent use by multiple goroutines. The zero
// value is not ready; use [NewRegistry].
type Registry struct {
	mu    sync.Mutex
	orchs map[string][]orchVersion // ascending by version
	acts  map[string]ActivityHandler
	// shared says a runtime holds orchs and acts as its snapshot: the next
	// registration copies them first (copy on write), so building a
	// runtime copies nothing.
	shared bool
}

type orchVersion struct {
	v    duroxide.Semver
	text string
	h    orchestration.Handler
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	return &Registry{orchs: map[string][]orchVersion{}, acts: map[string]ActivityHandler{}}
}

// RegisterOrchestration registers h as version [DefaultVersion] of the
// orchestration name. Use [orchestration.Typed] for typed inputs and
// outputs.
func (r *Registry) RegisterOrchestration(name string, h orchestration.Handler) error {
	return r.RegisterOrchestrationVersion(name, DefaultVersion, h)
}

// RegisterOrchestrationVersion registers h as the given semantic version
// ("MAJOR.MINOR.PATCH") of the orchestration name. A new instance started
// without a version runs the highest registered version; an instance keeps
// the version it started with across turns, and a continue-as-new without
// a version moves to the highest.
func (r *Registry) RegisterOrchestrationVersion(name, version string, h orchestration.Handler) error {
	if name == "" {
		return registrationError("orchestration name is empty")
	}
	if h == nil {
		return registrationError("orchestration %q: nil handler", name)
	}
	v, err := duroxide.ParseSemver(version)
	if err != nil {
		return registrationError("orchestration %q: version %q: %v", name, version, err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.own()
	vs := r.orchs[name]
	i, found := slices.BinarySearchFunc(vs, v, func(a orchVersion, b duroxide.Semver) int { return a.v.Compare(b) })
	if found {
		return registrationError("orchestration %q version %s registered twice", name, v)
	}
	r.orchs[name] = slices.Insert(vs, i, orchVersion{v: v, text: canonical(version, v), h: h})
	return nil
}

// canonical returns v's text: text itself when it already is (no
// allocation), else v.String().
func canonical(text string, v duroxide.Semver) string {
	var b [3*20 + 2]byte
	s := strconv.AppendUint(b[:0], v.Major, 10)
	s = strconv.AppendUint(append(s, '.'), v.Minor, 10)
	s = strconv.AppendUint(append(s, '.'), v.Patch, 10)
	if string(s) == text {
		return text
	}
	return string(s)
}

// RegisterActivity registers h as the activity name. Use [TypedActivity]
// for typed inputs and outputs.
func (r *Registry) RegisterActivity(name string, h ActivityHandler) error {
	if name == "" {
		return registrationError("activity name is empty")
	}
	if h == nil {
		return registrationError("activity %q: nil handler", name)
	}
	if strings.HasPrefix(name, orchestration.SyscallPrefix) {
		return registrationError("activity %q: the prefix %q is reserved for the runtime's system activities", name, orchestration.SyscallPrefix)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.own()
	if _, dup := r.acts[name]; dup {
		return registrationError("activity %q registered twice", name)
	}
	r.acts[name] = h
	return nil
}

// snapshot is an immutable view of a registry, read without locks.
type snapshot struct {
	orchs map[string][]orchVersion
	acts  map[string]ActivityHandler
}

// snapshot returns the registry's current contents, which no registration
// changes afterwards (see shared).
func (r *Registry) snapshot() snapshot {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.shared = true
	return snapshot{orchs: r.orchs, acts: r.acts}
}

// own gives the registry maps of its own before a change, if a snapshot
// holds the current ones (version lists included: an insertion may shift
// them in place). Caller holds r.mu.
func (r *Registry) own() {
	if !r.shared {
		return
	}
	orchs := make(map[string][]orchVersion, len(r.orchs))
	for k, v := range r.orchs {
		orchs[k] = slices.Clone(v)
	}
	acts := make(map[string]ActivityHandler, len(r.acts))
	for k, v := range r.acts {
		acts[k] = v
	}
	r.orchs, r.acts, r.shared = orchs, acts, false
}

// resolve returns the handler for name at version (nil: the highest) and
// the version's canonical text; ok is false when none is registered.
func (s *snapshot) resolve(name string, version *string) (orchestration.Handler, string, bool) {
	vs := s.orchs[name]
	if len(vs) == 0 {
		return nil, "", false
	}
	if version == nil {
		last := vs[len(vs)-1]
		return last.h, last.text, true
	}
	v, err := duroxide.ParseSemver(*version)
	if err != nil {
		return nil, "", false
	}
	i, found := slices.BinarySearchFunc(vs, v, func(a orchVersion, b duroxide.Semver) int { return a.v.Compare(b) })
	if !found {
		return nil, "", false
	}
	return vs[i].h, vs[i].text, true
}
