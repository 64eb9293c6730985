package main

import (
	"bytes"
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/clmbridge/clmbridge/adapters/discord/discordtest"
	"github.com/clmbridge/clmbridge/adapters/telegram/telegramtest"
	"github.com/clmbridge/clmbridge/internal/version"
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
	if want := `msg="bridge running" version=` + version.Get().Version; !strings.Contains(errb.String(), want) {
		t.Errorf("the start-up log does not name the build (%q):\n%s", want, errb.String())
	}
}

func TestVersionNamesTheBuild(t *testing.T) {
	for _, arg := range []string{"version", "--version"} {
		t.Run(arg, func(t *testing.T) {
			var out, errb bytes.Buffer
			if code := run(context.Background(), []string{arg}, strings.NewReader(""), &out, &errb); code != 0 {
				t.Fatalf("exit %d: %s", code, errb.String())
			}
			if line := out.String(); !strings.Contains(line, "(revision ") || !strings.Contains(line, runtime.Version()) {
				t.Fatalf("bridge %s printed %q; want the version, the revision and %s", arg, line, runtime.Version())
			}
		})
	}
}

func TestConsoleWithNoTokenAndEmptyInputExitsTwoNamingTheTokens(t *testing.T) {
	clearEnv(t)
	t.Setenv("CLM_DATA_DIR", t.TempDir())
	t.Setenv("CLM_HTTP_ADDR", "off")
	var out, errb bytes.Buffer
	code := run(context.Background(), nil, strings.NewReader(""), &out, &errb)
	if code != 2 {
		t.Fatalf("exit %d, want 2: %s", code, errb.String())
	}
	for _, want := range []string{"CLM_TELEGRAM_TOKEN,", "CLM_TELEGRAM_TOKEN_FILE", "CLM_DISCORD_TOKEN,", "CLM_DISCORD_TOKEN_FILE", "docker run -i"} {
		if !strings.Contains(errb.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, errb.String())
		}
	}
}

func TestConfigurationErrorsExitTwoBeforeAnythingStarts(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	tests := []struct {
		name string
		env  map[string]string
		says string
	}{
		{"HTTP address in use", map[string]string{"CLM_HTTP_ADDR": busy.Addr().String()}, "CLM_HTTP_ADDR"},
		{"HTTP address malformed", map[string]string{"CLM_HTTP_ADDR": "9464"}, "CLM_HTTP_ADDR"},
		{"Telegram token malformed", map[string]string{"CLM_TELEGRAM_TOKEN": "oops", "CLM_HTTP_ADDR": "off"}, "@BotFather"},
		{"Telegram webhook not https", map[string]string{"CLM_TELEGRAM_TOKEN": "123:abc", "CLM_TELEGRAM_WEBHOOK_URL": "http://example.org/hook", "CLM_HTTP_ADDR": "off"}, "https://"},
		{"Discord token file missing", map[string]string{"CLM_DISCORD_TOKEN_FILE": "/nonexistent/discord", "CLM_HTTP_ADDR": "off"}, "CLM_DISCORD_TOKEN_FILE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clearEnv(t)
			data := filepath.Join(t.TempDir(), "data")
			t.Setenv("CLM_DATA_DIR", data)
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			var out, errb bytes.Buffer
			code := run(context.Background(), nil, strings.NewReader("alice@dm: help\n"), &out, &errb)
			if code != 2 {
				t.Fatalf("exit %d, want 2:\n%s", code, errb.String())
			}
			if !strings.Contains(errb.String(), tt.says) {
				t.Errorf("stderr does not name %q:\n%s", tt.says, errb.String())
			}
			if strings.Contains(errb.String(), "sessions wiped") || out.Len() != 0 {
				t.Errorf("the bridge started before refusing:\nstdout %q\nstderr %s", out.String(), errb.String())
			}
			if _, err := os.Stat(filepath.Join(data, "bridge.db")); err == nil {
				t.Error("the store was opened before the configuration was refused")
			}
		})
	}
}

func TestARevokedTokenStopsTheBridgeWithExitThree(t *testing.T) {
	tests := []struct {
		name  string
		env   func(t *testing.T) map[string]string
		names string
	}{
		{"Telegram answers 401", func(t *testing.T) map[string]string {
			tg := telegramtest.New(t, telegramtest.Options{})
			tg.Revoke()
			return map[string]string{"CLM_TELEGRAM_TOKEN": tg.Token, "CLM_TELEGRAM_API_URL": tg.URL}
		}, "@BotFather"},
		{"Discord closes the gateway with 4004", func(t *testing.T) map[string]string {
			dc := discordtest.New(t)
			dc.RevokeToken()
			return map[string]string{"CLM_DISCORD_TOKEN": dc.Token(), "CLM_DISCORD_API_URL": dc.URL()}
		}, "CLM_DISCORD_TOKEN"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clearEnv(t)
			t.Setenv("CLM_DATA_DIR", t.TempDir())
			t.Setenv("CLM_HTTP_ADDR", "127.0.0.1:0")
			for k, v := range tt.env(t) {
				t.Setenv(k, v)
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			var out, errb bytes.Buffer
			code := run(ctx, nil, strings.NewReader(""), &out, &errb)
			if ctx.Err() != nil {
				t.Fatalf("the bridge kept running with a revoked token:\n%s", errb.String())
			}
			if code != 3 {
				t.Fatalf("exit %d, want 3:\n%s", code, errb.String())
			}
			if !strings.Contains(errb.String(), tt.names) || !strings.Contains(errb.String(), "stopped for good") {
				t.Errorf("stderr does not say what to fix (%q):\n%s", tt.names, errb.String())
			}
		})
	}
}

// TestSignalsShutDownCleanly builds the binary, starts it in console mode
// with an input that never ends, and stops it with each signal an
// operator or a supervisor sends: each must drain and close the store
// (SIGHUP used to kill the process at once, leaving the WAL behind).
func TestSignalsShutDownCleanly(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := filepath.Join(t.TempDir(), "bridge")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP} {
		t.Run(sig.String(), func(t *testing.T) {
			data := t.TempDir()
			cmd := exec.Command(bin)
			cmd.Env = []string{"CLM_DATA_DIR=" + data, "CLM_LOG_LEVEL=info", "CLM_HTTP_ADDR=off", "PATH=" + os.Getenv("PATH")}
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
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			select {
			case err := <-done:
				if err != nil {
					t.Fatalf("exit after %v: %v\n%s", sig, err, stderr.String())
				}
			case <-time.After(30 * time.Second):
				_ = cmd.Process.Kill()
				t.Fatalf("no exit after %v", sig)
			}
			if !strings.Contains(stderr.String(), "wiping sessions and closing the store") {
				t.Fatalf("no orderly shutdown in:\n%s", stderr.String())
			}
			if _, err := os.Stat(filepath.Join(data, "bridge.db-wal")); err == nil {
				t.Errorf("the WAL was left behind after %v: the store was not closed", sig)
			}
		})
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
