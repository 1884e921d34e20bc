package spec_test

import (
	"bufio"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/duroxide-go/duroxide/spec"
)

// TestEveryDuroxideCaseHasACounterpart checks that each of duroxide's
// provider validation cases (testdata/duroxide-cases.txt, "group/case") is a
// registered case of the same name.
func TestEveryDuroxideCaseHasACounterpart(t *testing.T) {
	f, err := os.Open("testdata/duroxide-cases.txt")
	require.NoError(t, err)
	defer f.Close()
	registered := map[string]bool{}
	for _, c := range spec.Cases() {
		registered[c.FullName()] = true
	}
	n := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name := strings.TrimSpace(sc.Text())
		if name == "" || strings.HasPrefix(name, "#") {
			continue
		}
		n++
		require.True(t, registered[name], "duroxide case %s has no counterpart in spec", name)
	}
	require.NoError(t, sc.Err())
	require.Equal(t, 213, n, "duroxide-cases.txt should list 213 cases")
}

// TestCaseNamesAreUniqueAndWellFormed checks names: snake_case, unique,
// grouped contiguously.
func TestCaseNamesAreUniqueAndWellFormed(t *testing.T) {
	re := regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
	seen := map[string]bool{}
	done := map[string]bool{}
	last := ""
	for _, c := range spec.Cases() {
		require.Regexp(t, re, c.Group)
		require.Regexp(t, re, c.Name)
		require.False(t, seen[c.FullName()], "duplicate case %s", c.FullName())
		seen[c.FullName()] = true
		if c.Group != last {
			require.False(t, done[c.Group], "group %s is not contiguous", c.Group)
			done[last] = true
			last = c.Group
		}
		require.NotNil(t, c.Run, c.FullName())
	}
}
