package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/duroxide-go/duroxide/internal/mutantgen"
)

func TestRun(t *testing.T) {
	out := t.TempDir()
	stale := filepath.Join(out, "gone.go")
	if err := os.WriteFile(stale, []byte(mutantgen.Header+"\n\npackage mutantprovider\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	mine := filepath.Join(out, "gen.go")
	if err := os.WriteFile(mine, []byte("package mutantprovider\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	if code := run([]string{"-src", "../../../memprovider", "-out", out}, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("stale generated file not removed: %v", err)
	}
	if b, err := os.ReadFile(mine); err != nil || string(b) != "package mutantprovider\n" {
		t.Errorf("hand-written file changed: %q, %v", b, err)
	}
	for _, name := range []string{"mutation.go", "hooks.go", "orchestrator.go"} {
		if _, err := os.Stat(filepath.Join(out, name)); err != nil {
			t.Errorf("%s not written: %v", name, err)
		}
	}
}

func TestRunFailsLoudly(t *testing.T) {
	var stderr bytes.Buffer
	if code := run([]string{"-src", t.TempDir(), "-out", t.TempDir()}, &stderr); code != 1 || !strings.Contains(stderr.String(), "mutantgen: ") {
		t.Errorf("exit %d, stderr %q; want 1 and an error", code, stderr.String())
	}
}
