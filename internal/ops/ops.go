// Package ops implements the operator subcommands of cmd/bridge:
// `healthcheck` and `healthcheck ready` (for a container's HEALTHCHECK), `doctor` (what to fix in
// the setup) and `backup` (an online copy of the store). Each is a function
// that takes its inputs and output streams and returns the process's exit
// status, so cmd/bridge only dispatches and tests need no subprocess.
//
// It does not run the bridge, and none of these commands takes the data
// directory's lock: they work beside a running bridge.
package ops

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"

	_ "github.com/mattn/go-sqlite3" // to verify a backup

	"github.com/clmbridge/clmbridge/internal/doctor"
	"github.com/clmbridge/clmbridge/internal/httpapi"
	"github.com/clmbridge/clmbridge/storage"
)

// Exit statuses.
const (
	ExitOK    = 0
	ExitFail  = 1
	ExitUsage = 2
)

// Healthcheck asks the bridge listening on addr (CLM_HTTP_ADDR) whether it
// is alive. It prints nothing on success and the reason on failure.
func Healthcheck(ctx context.Context, addr string, stderr io.Writer) int {
	if err := httpapi.Probe(ctx, addr); err != nil {
		fmt.Fprintln(stderr, "healthcheck:", err)
		return ExitFail
	}
	return ExitOK
}

// Readycheck asks the bridge listening on addr (CLM_HTTP_ADDR) whether it
// is ready (/readyz: every readiness check passes, such as the store open
// and each platform connected). It prints nothing on success and the
// first check that is not ready on failure.
func Readycheck(ctx context.Context, addr string, stderr io.Writer) int {
	if err := httpapi.ProbeReady(ctx, addr); err != nil {
		fmt.Fprintln(stderr, "healthcheck ready:", err)
		return ExitFail
	}
	return ExitOK
}

// Doctor runs the checks, prints the findings and what to fix, and returns
// ExitFail when any finding is a failure.
func Doctor(ctx context.Context, checks []doctor.Check, stdout io.Writer) int {
	if doctor.Report(stdout, doctor.Run(ctx, checks)) {
		return ExitOK
	}
	return ExitFail
}

// Backup writes a consistent copy of the store at dbPath to dest, while a
// bridge may go on writing to it, then checks the copy's integrity. dest
// must not exist. Restoring is copying the file back as the store while
// the bridge is stopped.
func Backup(ctx context.Context, dbPath, dest string, stdout, stderr io.Writer) int {
	if dest == "" {
		fmt.Fprintln(stderr, "usage: bridge backup PATH   (PATH: a new file for the copy)")
		return ExitUsage
	}
	if _, err := os.Stat(dbPath); err != nil {
		fmt.Fprintf(stderr, "backup: no store at %s (%v): check CLM_DATA_DIR\n", dbPath, unwrapPath(err))
		return ExitFail
	}
	if _, err := os.Stat(dest); err == nil {
		fmt.Fprintf(stderr, "backup: %s already exists: choose a new file name\n", dest)
		return ExitFail
	}
	// Opening the store never rewrites it when its schema is current; the
	// Argon2 cost does not matter here (nothing is unlocked).
	s, err := storage.Open(ctx, dbPath, storage.Options{})
	if err != nil {
		fmt.Fprintln(stderr, "backup: open the store:", err)
		return ExitFail
	}
	berr := s.Backup(ctx, dest)
	if cerr := s.Close(); cerr != nil && berr == nil {
		berr = cerr
	}
	if berr != nil {
		fmt.Fprintln(stderr, "backup:", berr)
		return ExitFail
	}
	size, version, err := verify(ctx, dest)
	if err != nil {
		fmt.Fprintf(stderr, "backup: the copy at %s failed its check: %v\n", dest, err)
		return ExitFail
	}
	fmt.Fprintf(stdout, "backup written to %s (%d bytes, schema version %d, integrity ok)\n", dest, size, version)
	return ExitOK
}

// verify runs SQLite's integrity check on a backup file.
func verify(ctx context.Context, path string) (size int64, version int, err error) {
	st, err := os.Stat(path)
	if err != nil {
		return 0, 0, err
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return 0, 0, err
	}
	db, err := sql.Open("sqlite3", "file:"+(&url.URL{Path: abs}).EscapedPath()+"?mode=ro")
	if err != nil {
		return 0, 0, err
	}
	defer func() { _ = db.Close() }()
	var check string
	if err := db.QueryRowContext(ctx, "PRAGMA integrity_check").Scan(&check); err != nil {
		return 0, 0, err
	}
	if check != "ok" {
		return 0, 0, errors.New(check)
	}
	if err := db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return 0, 0, err
	}
	return st.Size(), version, nil
}

func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
