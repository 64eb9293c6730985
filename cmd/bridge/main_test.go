package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

func clearEnv(t *testing.T) {
	t.Helper()
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "CLM_") {
			t.Setenv(k, "")
			os.Unsetenv(k)
		}
	}
}

func TestInvalidConfigurationExitsTwoWithAClearMessage(t *testing.T) {
	clearEnv(t)
	t.Setenv("CLM_SESSION_IDLE", "forever")
	var out, errb bytes.Buffer
	code := run(context.Background(), nil, strings.NewReader(""), &out, &errb)
	if code != 2 {
		t.Fatalf("exit %d", code)
	}
	if !strings.Contains(errb.String(), "invalid configuration") || !strings.Contains(errb.String(), "CLM_SESSION_IDLE") {
		t.Fatalf("stderr %q", errb.String())
	}
}

func TestUnknownArgumentExitsTwo(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"--frob"}, strings.NewReader(""), &out, &errb); code != 2 {
		t.Fatalf("exit %d", code)
	}
	if code := run(context.Background(), []string{"--help"}, strings.NewReader(""), &out, &errb); code != 0 || !strings.Contains(out.String(), "CLM_") {
		t.Fatalf("help: exit %d, %q", code, out.String())
	}
}

func TestConsoleModeRunsToEndOfInput(t *testing.T) {
	clearEnv(t)
	t.Setenv("CLM_DATA_DIR", t.TempDir())
	var out, errb bytes.Buffer
	code := run(context.Background(), nil, strings.NewReader("alice@dm: help\n"), &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if !strings.Contains(out.String(), "-> alice (private): CLM Bridge keeps your messages") {
		t.Fatalf("stdout %q", out.String())
	}
}

// TestSIGTERMShutsDownCleanly builds the binary, starts it in console mode
// with an input that never ends, and stops it with SIGTERM.
func TestSIGTERMShutsDownCleanly(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := filepath.Join(t.TempDir(), "bridge")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	cmd := exec.Command(bin)
	cmd.Env = []string{"CLM_DATA_DIR=" + t.TempDir(), "CLM_LOG_LEVEL=info", "PATH=" + os.Getenv("PATH")}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	var stdout bytes.Buffer
	stderr := &syncBuffer{ready: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = &stdout, stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-stderr.ready:
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatalf("the bridge did not start: %s", stderr.String())
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("exit: %v\n%s", err, stderr.String())
		}
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatal("no exit after SIGTERM")
	}
	if !strings.Contains(stderr.String(), "wiping sessions and closing the store") {
		t.Fatalf("no orderly shutdown in:\n%s", stderr.String())
	}
}

// syncBuffer collects stderr and closes ready when the bridge says it runs.
type syncBuffer struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	ready chan struct{}
	once  bool
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, err := s.buf.Write(p)
	if !s.once && strings.Contains(s.buf.String(), "bridge running") {
		s.once = true
		close(s.ready)
	}
	return n, err
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}
