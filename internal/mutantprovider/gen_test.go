package mutantprovider_test

import (
	"bytes"
	"fmt"
	"go/parser"
	"go/token"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/duroxide-go/duroxide/internal/mutantgen"
	"github.com/duroxide-go/duroxide/internal/mutantprovider"
)

const regenerate = "run go generate ./internal/mutantprovider"

// TestGeneratedUpToDate re-runs the generator on memprovider's current
// source and compares its output with the generated files of this package.
func TestGeneratedUpToDate(t *testing.T) {
	for _, problem := range staleness() {
		t.Error(problem)
	}
}

// staleness compares the generated files with what the generator makes of
// memprovider's current source, and describes every difference.
func staleness() []string {
	want, err := mutantgen.Generate("../../memprovider")
	if err != nil {
		return []string{fmt.Sprintf("the generator fails on memprovider's current source (fix the mutation, then %s): %v", regenerate, err)}
	}
	have, err := mutantgen.GeneratedFiles(".")
	if err != nil {
		return []string{err.Error()}
	}
	var problems []string
	for _, name := range have {
		if _, ok := want[name]; !ok {
			problems = append(problems, fmt.Sprintf("%s is a stale generated file: %s", name, regenerate))
		}
	}
	for _, name := range slices.Sorted(maps.Keys(want)) {
		got, err := os.ReadFile(name)
		switch {
		case err != nil:
			problems = append(problems, fmt.Sprintf("%s is missing: %s", name, regenerate))
		case !bytes.Equal(got, want[name]):
			problems = append(problems, fmt.Sprintf("%s is stale (memprovider or the mutation catalog changed): %s", name, regenerate))
		}
	}
	return problems
}

// TestCatalog checks that the generated catalog is the generator's.
func TestCatalog(t *testing.T) {
	got := mutantprovider.Mutations()
	if len(got) != len(mutantgen.Mutations) {
		t.Fatalf("%d mutations generated, %d in the catalog: %s", len(got), len(mutantgen.Mutations), regenerate)
	}
	for i, m := range mutantgen.Mutations {
		if got[i].Name != m.Name || got[i].Bug != m.Bug || got[i].Where != m.Where() {
			t.Errorf("mutation %d: generated %+v, catalog %q: %s", i, got[i], m.Name, regenerate)
		}
	}
}

// TestWithMutationRejectsUnknown: a misspelt mutation must not silently
// build a correct provider.
func TestWithMutationRejectsUnknown(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("WithMutation with an unknown name did not panic")
		}
	}()
	mutantprovider.New(mutantprovider.WithMutation("no_such_mutation"))
}

// TestNotImported checks that mutants are unreachable from production code:
// no non-test Go file of the module imports internal/mutantprovider, and
// only the generator's own command imports internal/mutantgen.
func TestNotImported(t *testing.T) {
	const (
		provider  = "github.com/duroxide-go/duroxide/internal/mutantprovider"
		generator = "github.com/duroxide-go/duroxide/internal/mutantgen"
	)
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("module root not found at %s: %v", root, err)
	}
	fset := token.NewFileSet()
	checked := 0
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if name := d.Name(); rel != "." && (strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") || name == "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(rel, ".go") || strings.HasSuffix(rel, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		checked++
		for _, im := range f.Imports {
			p, _ := strconv.Unquote(im.Path.Value)
			switch {
			case p == provider || strings.HasPrefix(p, provider+"/"):
				t.Errorf("%s imports %s: mutants must be reachable from tests only", rel, p)
			case (p == generator || strings.HasPrefix(p, generator+"/")) && !strings.HasPrefix(rel, "internal/mutantgen/"):
				t.Errorf("%s imports %s: only the generator's command may", rel, p)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 10 {
		t.Fatalf("only %d non-test files checked under %s", checked, root)
	}
}
