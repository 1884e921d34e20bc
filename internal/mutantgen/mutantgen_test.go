package mutantgen

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fixture writes a miniature memprovider into a temporary directory.
func fixture(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{
		"doc.go": "// Package memprovider is a fixture.\npackage memprovider\n",
		"provider.go": `package memprovider

type Option func(*Provider)

type Provider struct {
	worker workerQueue
	n      int
}

type workerQueue struct{ k int }

func (p *Provider) Inc() {
	if p.n >= 0 {
		p.n++
	}
}

func (p *Provider) Dec() {
	if p.n >= 0 {
		p.n--
	}
}
`,
		"hooks.go": `package memprovider

import (
	"fmt"

	"github.com/duroxide-go/duroxide"
	"github.com/duroxide-go/duroxide/internal/memhooks"
)

func init() {
	memhooks.MaxAttemptCount = func(dp duroxide.Provider, instance string) (uint32, error) {
		if _, ok := dp.(*Provider); !ok {
			return 0, fmt.Errorf("memhooks: %T", dp)
		}
		return 0, nil
	}
}
`,
		"provider_test.go": "package memprovider\n",
	}
	for name, src := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func inc(original, replacement string) Mutation {
	return Mutation{Name: "inc_broken", Bug: "b", File: "provider.go", Func: "Provider.Inc", Original: original, Replacement: replacement}
}

func TestGenerateFixture(t *testing.T) {
	out, err := GenerateWith(fixture(t), []Mutation{inc("p.n++", `if !p.mut.on("inc_broken") { p.n++ }`)})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"provider.go", "hooks.go", "mutation.go"} {
		src, ok := out[name]
		if !ok {
			t.Fatalf("%s not generated; got %d files", name, len(out))
		}
		if !strings.HasPrefix(string(src), Header+"\n") {
			t.Errorf("%s does not start with the generated-code header", name)
		}
		if !strings.Contains(string(src), "\npackage mutantprovider\n") {
			t.Errorf("%s: package not renamed:\n%s", name, src)
		}
	}
	if _, ok := out["doc.go"]; ok {
		t.Error("a file with no declarations (the package doc) was copied")
	}
	if _, ok := out["provider_test.go"]; ok {
		t.Error("a test file was copied")
	}
	p := string(out["provider.go"])
	for _, want := range []string{"if !p.mut.on(\"inc_broken\") {\n\t\t\tp.n++\n\t\t}", "p.n--", "mut mutationSet"} {
		if !strings.Contains(p, want) {
			t.Errorf("provider.go lacks %q:\n%s", want, p)
		}
	}
	h := string(out["hooks.go"])
	for _, want := range []string{"func (h Hooks) MaxAttemptCount(_ context.Context, instance string) (uint32, error)", "return hookMaxAttemptCount(h.P, instance)"} {
		if !strings.Contains(h, want) {
			t.Errorf("hooks.go lacks %q:\n%s", want, h)
		}
	}
	if strings.Contains(h, `"github.com/duroxide-go/duroxide/internal/memhooks"`) {
		t.Errorf("hooks.go still imports memhooks:\n%s", h)
	}
	if !strings.Contains(string(out["mutation.go"]), `{Name: "inc_broken", Bug: "b", Where: "provider.go: Provider.Inc"}`) {
		t.Errorf("catalog entry missing:\n%s", out["mutation.go"])
	}
}

func TestGenerateMorePoints(t *testing.T) {
	m := inc("p.n++", `if !p.mut.on("inc_broken") { p.n++ }`)
	m.More = []Point{{File: "provider.go", Func: "Provider.Dec", Original: "p.n--", Replacement: "p.n -= 2"}}
	out, err := GenerateWith(fixture(t), []Mutation{m})
	if err != nil {
		t.Fatal(err)
	}
	if p := string(out["provider.go"]); !strings.Contains(p, "p.n -= 2") || !strings.Contains(p, `p.mut.on("inc_broken")`) {
		t.Errorf("not every point applied:\n%s", p)
	}
	m.More[0].Original = "p.n -= 3"
	if _, err := GenerateWith(fixture(t), []Mutation{m}); err == nil || !strings.Contains(err.Error(), `mutation "inc_broken": snippet not found in provider.go: Provider.Dec`) {
		t.Errorf("missing snippet of a further point: got %v", err)
	}
}

func TestGenerateFailsLoudly(t *testing.T) {
	dir := fixture(t)
	for _, tc := range []struct {
		name string
		muts []Mutation
		want string
	}{
		{"missing snippet", []Mutation{inc("p.n += 2", `p.mut.on("inc_broken")`)}, `mutation "inc_broken": snippet not found in provider.go: Provider.Inc`},
		{"ambiguous snippet", []Mutation{{Name: "x", Bug: "b", File: "provider.go", Original: "if p.n >= 0 {", Replacement: `if p.mut.on("x") {`}}, `mutation "x": snippet occurs 2 times in provider.go`},
		{"unguarded", []Mutation{inc("p.n++", "p.n += 2")}, `mutation "inc_broken": the replacement in provider.go: Provider.Inc is not guarded`},
		{"unknown file", []Mutation{{Name: "x", Bug: "b", File: "nope.go", Original: "a", Replacement: `p.mut.on("x")`}}, `mutation "x": file nope.go not found`},
		{"unknown function", []Mutation{{Name: "x", Bug: "b", File: "provider.go", Func: "Provider.Nope", Original: "a", Replacement: `p.mut.on("x")`}}, `mutation "x": function Provider.Nope not found in provider.go`},
		{"duplicate name", []Mutation{inc("p.n++", `p.mut.on("inc_broken")`), inc("p.n++", `p.mut.on("inc_broken")`)}, `listed twice`},
		{"overlap", []Mutation{
			inc("p.n++", `p.mut.on("inc_broken")`),
			{Name: "y", Bug: "b", File: "provider.go", Func: "Provider.Inc", Original: "p.n++\n", Replacement: `p.mut.on("y")`},
		}, "change overlapping source"},
		{"not Go", []Mutation{inc("p.n++", `p.mut.on("inc_broken") {{`)}, "generated provider.go does not parse"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := GenerateWith(dir, tc.muts)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

// TestCatalogApplies: every mutation of the catalog applies to the current
// memprovider (the same check as go generate, reported per mutation).
func TestCatalogApplies(t *testing.T) {
	if _, err := Generate("../../memprovider"); err != nil {
		t.Fatal(err)
	}
	if len(Mutations) < 20 {
		t.Errorf("%d mutations; want at least 20", len(Mutations))
	}
}
