package spec_test

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/duroxide-go/duroxide/spec"
)

// TestEveryCaseHasALevel checks that no case was registered without a level.
func TestEveryCaseHasALevel(t *testing.T) {
	for _, c := range spec.Cases() {
		require.Contains(t, []spec.Level{spec.Required, spec.Strict}, c.Level, "%s has no level", c.FullName())
	}
}

// TestLevelCountsInDocs checks that the case counts per level stated in the
// package doc and in docs/provider-semantics.md are the registry's.
func TestLevelCountsInDocs(t *testing.T) {
	n := map[spec.Level]int{}
	for _, c := range spec.Cases() {
		n[c.Level]++
	}
	total := n[spec.Required] + n[spec.Strict]
	for path, want := range map[string][]string{
		"doc.go": {
			fmt.Sprintf("[Required] (%d cases)", n[spec.Required]),
			fmt.Sprintf("[Strict] (%d cases)", n[spec.Strict]),
		},
		"../docs/provider-semantics.md": {
			fmt.Sprintf("The spec has %d cases: **%d required, %d strict**", total, n[spec.Required], n[spec.Strict]),
		},
	} {
		b, err := os.ReadFile(path)
		require.NoError(t, err)
		for _, w := range want {
			require.Contains(t, string(b), w, "%s must state the level counts", path)
		}
	}
}

// TestStrictCasesSayWhyNotRequired checks, in the source, that the doc
// comment of every strict case's function says why the case is not
// required ("not required"), so the level always comes with its reason.
func TestStrictCasesSayWhyNotRequired(t *testing.T) {
	files, err := filepath.Glob("*.go")
	require.NoError(t, err)
	fset := token.NewFileSet()
	docs := map[string]string{} // function name -> doc comment
	type entry struct{ name, fn string }
	var strict []entry
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, parser.ParseComments)
		require.NoError(t, err)
		for _, d := range file.Decls {
			if fd, ok := d.(*ast.FuncDecl); ok && fd.Doc != nil {
				docs[fd.Name.Name] = fd.Doc.Text()
			}
		}
		// Registry entries: {"group", "case", fn, Strict}.
		ast.Inspect(file, func(n ast.Node) bool {
			cl, ok := n.(*ast.CompositeLit)
			if !ok || len(cl.Elts) != 4 {
				return true
			}
			level, ok := cl.Elts[3].(*ast.Ident)
			if !ok || level.Name != "Strict" {
				return true
			}
			group, ok1 := cl.Elts[0].(*ast.BasicLit)
			name, ok2 := cl.Elts[1].(*ast.BasicLit)
			fn, ok3 := cl.Elts[2].(*ast.Ident)
			if ok1 && ok2 && ok3 {
				g, _ := strconv.Unquote(group.Value)
				c, _ := strconv.Unquote(name.Value)
				strict = append(strict, entry{g + "/" + c, fn.Name})
			}
			return true
		})
	}
	var registered int
	for _, c := range spec.Cases() {
		if c.Level == spec.Strict {
			registered++
		}
	}
	require.Len(t, strict, registered, "every strict registry entry must be a literal {group, case, func, Strict}")
	for _, e := range strict {
		doc := strings.ToLower(strings.Join(strings.Fields(docs[e.fn]), " "))
		require.Contains(t, doc, "not required", "%s: the doc comment of %s must say why the case is not required", e.name, e.fn)
	}
}
