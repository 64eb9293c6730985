package ops

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/clmbridge/clmbridge/internal/instancelock"
	"github.com/clmbridge/clmbridge/storage"
)

// Restore replaces the store at dbPath (in dataDir) with the backup file,
// the documented way back from a `bridge backup` copy (the image has no
// shell to copy files with). It refuses while a bridge holds the data
// directory's lock, checks the backup first (SQLite's integrity check, a
// bridge schema this program knows, migrating an older one), and keeps
// the current store beside it, renamed with now's time, so a restore can
// itself be undone. Nothing in the data directory changes unless every
// check passed.
func Restore(ctx context.Context, dataDir, dbPath, backup string, now time.Time, stdout, stderr io.Writer) int {
	if backup == "" {
		fmt.Fprintln(stderr, "usage: bridge restore BACKUP   (BACKUP: a file written by bridge backup)")
		return ExitUsage
	}
	lock, err := instancelock.Acquire(dataDir)
	if err != nil {
		if errors.Is(err, instancelock.ErrLocked) {
			fmt.Fprintf(stderr, "restore: %v: stop the bridge first (docker stop, systemctl stop), then restore\n", err)
		} else {
			fmt.Fprintln(stderr, "restore:", err)
		}
		return ExitFail
	}
	defer func() { _ = lock.Release() }()

	if _, err := os.Stat(backup); err != nil {
		fmt.Fprintf(stderr, "restore: cannot read the backup %s (%v)\n", backup, unwrapPath(err))
		return ExitFail
	}
	if _, version, err := verify(ctx, backup); err != nil {
		fmt.Fprintf(stderr, "restore: %s is not an intact SQLite file (%v): nothing was changed\n", backup, err)
		return ExitFail
	} else if version < 1 {
		fmt.Fprintf(stderr, "restore: %s is not a CLM Bridge store (no schema version): nothing was changed\n", backup)
		return ExitFail
	}

	// Work on a copy in the data directory, so the final step is a rename
	// on one file system, and the backup itself stays as it was.
	staged := dbPath + ".restoring"
	removeStore(staged)
	if err := copyFile(backup, staged); err != nil {
		removeStore(staged)
		fmt.Fprintln(stderr, "restore: copying the backup into the data directory:", err)
		return ExitFail
	}
	// Opening it is the schema check the bridge would make at start: a
	// newer schema is refused, an older one migrated.
	s, err := storage.Open(ctx, staged, storage.Options{})
	if err == nil {
		err = s.Close()
	}
	if err != nil {
		removeStore(staged)
		fmt.Fprintf(stderr, "restore: the backup cannot be used (%v): nothing was changed\n", err)
		return ExitFail
	}

	kept := ""
	if _, err := os.Stat(dbPath); err == nil {
		kept = dbPath + ".before-restore-" + now.UTC().Format("20060102T150405Z")
		// The WAL and shared-memory files go with their database: a
		// store left by a crash may hold commits only in its WAL.
		for _, suffix := range []string{"", "-wal", "-shm"} {
			if err := os.Rename(dbPath+suffix, kept+suffix); err != nil && !errors.Is(err, os.ErrNotExist) {
				removeStore(staged)
				fmt.Fprintf(stderr, "restore: keeping the current store as %s: %v\n", kept, err)
				return ExitFail
			}
		}
	}
	if err := os.Rename(staged, dbPath); err != nil {
		fmt.Fprintf(stderr, "restore: putting the backup in place: %v (the previous store is %s)\n", err, kept)
		return ExitFail
	}
	syncDir(filepath.Dir(dbPath))
	size, version, err := verify(ctx, dbPath)
	if err != nil {
		fmt.Fprintf(stderr, "restore: the restored store failed its check: %v\n", err)
		return ExitFail
	}
	fmt.Fprintf(stdout, "restored %s as %s (%d bytes, schema version %d, integrity ok)\n", backup, dbPath, size, version)
	if kept != "" {
		fmt.Fprintf(stdout, "the previous store is kept as %s; delete it once the bridge works\n", kept)
	}
	fmt.Fprintln(stdout, "start the bridge again; members unlock their chats again (secrets are never stored)")
	return ExitOK
}

// copyFile copies src to the new file dst (0600) and syncs it.
func copyFile(src, dst string) (err error) {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer func() { _ = in.Close() }()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := out.Close(); cerr != nil && err == nil {
			err = cerr
		}
	}()
	if _, err := io.Copy(out, in); err != nil {
		return err
	}
	return out.Sync()
}

// removeStore removes an SQLite file and its WAL and shared memory.
func removeStore(path string) {
	for _, suffix := range []string{"", "-wal", "-shm"} {
		_ = os.Remove(path + suffix)
	}
}

// syncDir makes the renames in dir durable (best effort).
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
}
