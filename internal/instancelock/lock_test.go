package instancelock

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// childEnv, when set, makes the test binary act as a second bridge: take
// the lock of the directory it names, print "locked", and hold the lock
// until stdin closes.
const childEnv = "INSTANCELOCK_TEST_CHILD_DIR"

func TestMain(m *testing.M) {
	if dir := os.Getenv(childEnv); dir != "" {
		l, err := Acquire(dir)
		if err != nil {
			fmt.Println("error:", err)
			os.Exit(3)
		}
		fmt.Println("locked")
		_, _ = io.Copy(io.Discard, os.Stdin)
		if err := l.Release(); err != nil {
			fmt.Println("error:", err)
			os.Exit(4)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func TestSecondOpenInSameProcessIsRefused(t *testing.T) {
	dir := t.TempDir()
	first, err := Acquire(dir)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Acquire(dir)
	var held *HeldError
	if !errors.As(err, &held) || !errors.Is(err, ErrLocked) {
		t.Fatalf("second Acquire: %v, want a HeldError matching ErrLocked", err)
	}
	if held.PID != os.Getpid() {
		t.Errorf("HeldError.PID = %d, want %d", held.PID, os.Getpid())
	}
	for _, want := range []string{fmt.Sprintf("PID %d", os.Getpid()), "already running", "CLM_DATA_DIR", FileName} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("message %q lacks %q", err, want)
		}
	}
	if err := first.Release(); err != nil {
		t.Fatal(err)
	}
	again, err := Acquire(dir)
	if err != nil {
		t.Fatalf("Acquire after Release: %v", err)
	}
	if err := again.Release(); err != nil {
		t.Fatal(err)
	}
	if err := again.Release(); err != nil {
		t.Errorf("second Release: %v", err)
	}
}

// startHolder starts a child process that holds dir's lock.
func startHolder(t *testing.T, dir string) (*exec.Cmd, io.WriteCloser) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+dir)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || strings.TrimSpace(line) != "locked" {
		t.Fatalf("child did not take the lock: %q, %v", line, err)
	}
	return cmd, stdin
}

func TestOtherProcessHoldsLock(t *testing.T) {
	tests := []struct {
		name string
		end  func(t *testing.T, cmd *exec.Cmd, stdin io.WriteCloser)
	}{
		{"released on clean exit", func(t *testing.T, cmd *exec.Cmd, stdin io.WriteCloser) {
			_ = stdin.Close()
			if err := cmd.Wait(); err != nil {
				t.Fatalf("child: %v", err)
			}
		}},
		{"released by the kernel after SIGKILL", func(t *testing.T, cmd *exec.Cmd, _ io.WriteCloser) {
			if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			_ = cmd.Wait()
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "data")
			cmd, stdin := startHolder(t, dir)

			_, err := Acquire(dir)
			var held *HeldError
			if !errors.As(err, &held) {
				t.Fatalf("Acquire while another process holds the lock: %v", err)
			}
			if held.PID != cmd.Process.Pid {
				t.Errorf("message names PID %d, the holder is %d", held.PID, cmd.Process.Pid)
			}
			if !strings.Contains(err.Error(), fmt.Sprintf("PID %d", cmd.Process.Pid)) {
				t.Errorf("message does not name the other PID: %v", err)
			}

			tt.end(t, cmd, stdin)
			l, err := Acquire(dir)
			if err != nil {
				t.Fatalf("Acquire after the holder ended: %v", err)
			}
			if err := l.Release(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestUnusableDataDirectory(t *testing.T) {
	file := filepath.Join(t.TempDir(), "not-a-dir")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Acquire(file)
	if err == nil || errors.Is(err, ErrLocked) {
		t.Fatalf("Acquire on a file: %v, want an error other than ErrLocked", err)
	}
	if !strings.Contains(err.Error(), "data directory") {
		t.Errorf("error does not say what is wrong: %v", err)
	}
}

func TestHeldErrorWithoutPID(t *testing.T) {
	err := &HeldError{Path: "/data/bridge.lock"}
	if strings.Contains(err.Error(), "PID") {
		t.Errorf("message claims a PID it does not know: %v", err)
	}
	if !strings.Contains(err.Error(), "/data/bridge.lock") {
		t.Errorf("message does not name the lock file: %v", err)
	}
}
