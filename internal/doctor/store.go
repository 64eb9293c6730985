package doctor

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"

	_ "github.com/mattn/go-sqlite3" // the store's driver

	"github.com/clmbridge/clmbridge/internal/instancelock"
)

// Store says where the bridge keeps its data.
type Store struct {
	DataDir string // CLM_DATA_DIR
	Path    string // the SQLite file inside it
}

// Check examines the data directory (exists, private, which bridge holds
// it) and the store file (private, intact, its schema version). It never
// creates or migrates anything.
func (s Store) Check(ctx context.Context) []Finding {
	const area = "store"
	var fs []Finding
	add := func(l Level, what, fix string) { fs = append(fs, Finding{Area: area, Level: l, What: what, Fix: fix}) }

	st, err := os.Stat(s.DataDir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		add(Info, "the data directory "+s.DataDir+" does not exist yet; the bridge creates it at first start", "")
		return fs
	case err != nil:
		add(Fail, "cannot read the data directory: "+err.Error(), "check CLM_DATA_DIR and that this user may read it")
		return fs
	case !st.IsDir():
		add(Fail, "CLM_DATA_DIR "+s.DataDir+" is not a directory", "point CLM_DATA_DIR at a directory")
		return fs
	}
	if st.Mode().Perm()&0o077 != 0 {
		add(Warn, fmt.Sprintf("the data directory %s is readable by other users (mode %04o)", s.DataDir, st.Mode().Perm()),
			"chmod 700 "+s.DataDir)
	} else {
		add(OK, "the data directory "+s.DataDir+" is private to its owner", "")
	}

	switch l, err := instancelock.Acquire(s.DataDir); {
	case err == nil:
		_ = l.Release()
		add(Info, "no bridge is running on this data directory now", "")
	case errors.Is(err, instancelock.ErrLocked):
		var held *instancelock.HeldError
		if errors.As(err, &held) && held.PID > 0 {
			add(Info, fmt.Sprintf("a bridge is running on this data directory (PID %d)", held.PID), "")
		} else {
			add(Info, "a bridge is running on this data directory", "")
		}
	default:
		add(Warn, "cannot take the data directory's lock: "+err.Error(), "make the data directory writable by the bridge's user")
	}

	fst, err := os.Stat(s.Path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		add(Info, "no store yet at "+s.Path+"; the bridge creates it at first start", "")
		return fs
	case err != nil:
		add(Fail, "cannot read the store: "+err.Error(), "check the file's owner and mode")
		return fs
	}
	if fst.Mode().Perm()&0o077 != 0 {
		add(Warn, fmt.Sprintf("the store %s is readable by other users (mode %04o)", s.Path, fst.Mode().Perm()),
			"chmod 600 "+s.Path+"*")
	}
	abs, err := filepath.Abs(s.Path)
	if err != nil {
		add(Fail, "cannot resolve the store's path: "+err.Error(), "")
		return fs
	}
	// mode=rw: never create the file; a running bridge keeps writing (WAL).
	dsn := "file:" + (&url.URL{Path: abs}).EscapedPath() + "?mode=rw&_busy_timeout=5000"
	db, err := sql.Open("sqlite3", dsn)
	if err != nil {
		add(Fail, "cannot open the store: "+err.Error(), "")
		return fs
	}
	defer func() { _ = db.Close() }()
	var check string
	if err := db.QueryRowContext(ctx, "PRAGMA quick_check").Scan(&check); err != nil {
		add(Fail, "cannot read the store: "+err.Error(), "is it an SQLite file? stop the bridge and restore a backup: bridge restore BACKUP")
		return fs
	}
	if check != "ok" {
		add(Fail, "the store is damaged: "+check, "stop the bridge and restore the latest backup: bridge restore BACKUP")
		return fs
	}
	var version int
	if err := db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		add(Warn, "cannot read the store's schema version: "+err.Error(), "")
		return fs
	}
	// A running bridge keeps recent commits in the WAL until a
	// checkpoint: the disk the store takes is both files (and -shm).
	size := fst.Size()
	for _, suffix := range []string{"-wal", "-shm"} {
		if st, err := os.Stat(s.Path + suffix); err == nil {
			size += st.Size()
		}
	}
	add(OK, fmt.Sprintf("the store is intact (schema version %d, %d bytes on disk with its WAL)", version, size), "")
	return fs
}
