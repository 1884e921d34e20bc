package pgprovider

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestLookupsDoNotLock: the statements that look for candidates without
// taking them must not lock rows (a lookup that locked would hold rows
// until its transaction ends, so other fetches would pass them by).
func TestLookupsDoNotLock(t *testing.T) {
	s := buildStatements("duroxide")
	for name, q := range map[string]string{
		"OrchExists": s.OrchExists,
		"OrchOldest": s.OrchOldest,
		"WorkExists": s.WorkExists,
		"WorkOldest": s.WorkOldest,
	} {
		require.NotContains(t, q, "FOR UPDATE", name)
		require.Contains(t, q, "ORDER BY", name)
	}
	require.Contains(t, s.FetchOrchCandidate, orchLocking)
	require.Contains(t, s.FetchWorkCandidate, workLocking)
}
