// Package instancelock makes sure one bridge at a time runs on a data
// directory, so two processes never share a store or poll the same bot
// (Telegram answers the second poller 409 Conflict).
//
// The lock is flock(2) on DATA_DIR/bridge.lock: the kernel releases it when
// the process exits, however it exits (a crash or SIGKILL included), so a
// stale lock file never blocks a restart. The file holds the owner's PID,
// for the message the second process prints. It is not a lock across
// machines: flock on a network filesystem may not be shared.
package instancelock

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// FileName is the lock file's name inside the data directory.
const FileName = "bridge.lock"

// ErrLocked is matched (errors.Is) by the error Acquire returns when another
// process holds the lock.
var ErrLocked = errors.New("instancelock: data directory in use by another bridge")

// HeldError says who holds the lock. It matches ErrLocked.
type HeldError struct {
	Path string // the lock file
	PID  int    // the other process, 0 if it could not be read
}

// Error says which process holds the lock and what to do.
func (e *HeldError) Error() string {
	who := "another bridge process"
	if e.PID > 0 {
		who = fmt.Sprintf("another bridge (PID %d)", e.PID)
	}
	return fmt.Sprintf("%s is already running on this data directory (lock %s): "+
		"stop it first, or give this one its own CLM_DATA_DIR", who, e.Path)
}

// Is makes errors.Is(err, ErrLocked) true.
func (e *HeldError) Is(target error) bool { return target == ErrLocked }

// Lock is a held data-directory lock.
type Lock struct {
	f *os.File
}

// Acquire takes the lock of dir (creating dir and the lock file if needed)
// without waiting. When another process holds it, the error is a
// *HeldError naming that process.
func Acquire(dir string) (*Lock, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create the data directory %s: %w", dir, err)
	}
	path := filepath.Join(dir, FileName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open the lock file %s (is the data directory writable by this user?): %w", path, err)
	}
	if err := flock(f, unix.LOCK_EX|unix.LOCK_NB); err != nil {
		_ = f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, &HeldError{Path: path, PID: readPID(path)}
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	// Record our PID for the next process's message. Failing to write it
	// does not weaken the lock, only that message.
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return &Lock{f: f}, nil
}

// Release frees the lock. The file stays (removing it would race with a
// process that just opened it); its stale PID is harmless.
func (l *Lock) Release() error {
	if l == nil || l.f == nil {
		return nil
	}
	f := l.f
	l.f = nil
	_ = f.Truncate(0)
	uerr := flock(f, unix.LOCK_UN)
	if err := f.Close(); err != nil {
		return fmt.Errorf("release the data directory lock: %w", err)
	}
	if uerr != nil {
		return fmt.Errorf("release the data directory lock: %w", uerr)
	}
	return nil
}

// flock retries on EINTR, which a signal arriving during the call causes.
func flock(f *os.File, how int) error {
	for {
		err := unix.Flock(int(f.Fd()), how)
		if !errors.Is(err, unix.EINTR) {
			return err
		}
	}
}

func readPID(path string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return 0
	}
	return pid
}
