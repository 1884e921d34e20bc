// Package e2e holds the runtime's end-to-end scenarios: orchestrations run
// by package host's real dispatchers (Run, real time, several dispatchers of
// each kind) against memprovider and pgprovider, checked through package
// client, plus a crash-and-restart test. It has no API: everything is in its
// tests (go test ./e2e; with PostgreSQL, .ci/pg go test ./e2e).
package e2e
