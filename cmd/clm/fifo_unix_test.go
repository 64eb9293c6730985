//go:build unix

package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestSecretFileFIFOIsRefusedAtOnce: a named pipe given as --secret-file
// (say, a mistyped path to a shell's process substitution) is refused at
// once. Opening one for reading would wait for a writer forever; before
// the fix this test hung until go test's timeout.
func TestSecretFileFIFOIsRefusedAtOnce(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("cannot make a FIFO here: %v", err)
	}
	var stdout, stderr bytes.Buffer
	code := run([]string{"decode", "--secret-file", fifo}, strings.NewReader("{}"), &stdout, &stderr, env(""))
	if code != exitUsage || !strings.Contains(stderr.String(), "not a regular file") {
		t.Fatalf("exit %d, stderr %q; want exit %d and \"not a regular file\"", code, &stderr, exitUsage)
	}
}
