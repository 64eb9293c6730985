package ops

import (
	"bytes"
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/clmbridge/clmbridge/internal/instancelock"
	"github.com/clmbridge/clmbridge/storage"
)

// restoreWorld is a data directory whose store holds one chat, and a
// backup of it taken before a second chat was created.
type restoreWorld struct {
	dir, db, backup string
}

func newRestoreWorld(t *testing.T) restoreWorld {
	t.Helper()
	ctx := context.Background()
	w := restoreWorld{dir: t.TempDir()}
	w.db = filepath.Join(w.dir, "bridge.db")
	w.backup = filepath.Join(t.TempDir(), "backup.db")
	s, err := storage.Open(ctx, w.db, cheap)
	if err != nil {
		t.Fatal(err)
	}
	m, err := s.EnsureMember(ctx, storage.MemberRef{Platform: "console", UserID: "alice"}, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateChat(ctx, m.ID, "Work", []byte(chatSecret)); err != nil {
		t.Fatal(err)
	}
	if err := s.Backup(ctx, w.backup); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateChat(ctx, m.ID, "Later", []byte(chatSecret)); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return w
}

func chatsIn(t *testing.T, path string) int64 {
	t.Helper()
	s, err := storage.Open(context.Background(), path, cheap)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = s.Close() }()
	st, err := s.Stats(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return st.Chats
}

func TestRestorePutsTheBackupInPlaceAndKeepsTheCurrentStore(t *testing.T) {
	w := newRestoreWorld(t)
	now := time.Date(2026, 12, 1, 3, 4, 5, 0, time.UTC)
	var out, errb bytes.Buffer
	if code := Restore(context.Background(), w.dir, w.db, w.backup, now, &out, &errb); code != ExitOK {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if n := chatsIn(t, w.db); n != 1 {
		t.Errorf("the restored store holds %d chats, want the backup's 1", n)
	}
	kept := w.db + ".before-restore-20261201T030405Z"
	if n := chatsIn(t, kept); n != 2 {
		t.Errorf("the kept store holds %d chats, want the 2 it had", n)
	}
	if !strings.Contains(out.String(), kept) || !strings.Contains(out.String(), "integrity ok") {
		t.Errorf("stdout %q does not say where the old store is", out.String())
	}
	if _, err := os.Stat(w.backup); err != nil {
		t.Errorf("the backup itself is gone: %v", err)
	}
}

func TestRestoreRefusesAndChangesNothing(t *testing.T) {
	tests := []struct {
		name    string
		prepare func(t *testing.T, w restoreWorld) (backup string, release func())
		says    string
	}{
		{"while a bridge runs on the data directory", func(t *testing.T, w restoreWorld) (string, func()) {
			l, err := instancelock.Acquire(w.dir)
			if err != nil {
				t.Fatal(err)
			}
			return w.backup, func() { _ = l.Release() }
		}, "stop the bridge first"},
		{"a file that is not SQLite", func(t *testing.T, w restoreWorld) (string, func()) {
			p := filepath.Join(t.TempDir(), "notes.txt")
			if err := os.WriteFile(p, bytes.Repeat([]byte("not a database\n"), 100), 0o600); err != nil {
				t.Fatal(err)
			}
			return p, func() {}
		}, "not an intact SQLite file"},
		{"a damaged backup", func(t *testing.T, w restoreWorld) (string, func()) {
			b, err := os.ReadFile(w.backup)
			if err != nil {
				t.Fatal(err)
			}
			for i := len(b) / 2; i < len(b)/2+4096 && i < len(b); i++ {
				b[i] ^= 0x5a
			}
			p := filepath.Join(t.TempDir(), "damaged.db")
			if err := os.WriteFile(p, b, 0o600); err != nil {
				t.Fatal(err)
			}
			return p, func() {}
		}, "nothing was changed"},
		{"another program's SQLite file", func(t *testing.T, w restoreWorld) (string, func()) {
			p := filepath.Join(t.TempDir(), "other.db")
			db, err := sql.Open("sqlite3", p)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := db.Exec("CREATE TABLE notes (body TEXT)"); err != nil {
				t.Fatal(err)
			}
			_ = db.Close()
			return p, func() {}
		}, "not a CLM Bridge store"},
		{"a backup from a newer bridge", func(t *testing.T, w restoreWorld) (string, func()) {
			db, err := sql.Open("sqlite3", w.backup)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := db.Exec("PRAGMA user_version = 999"); err != nil {
				t.Fatal(err)
			}
			_ = db.Close()
			return w.backup, func() {}
		}, "newer than this program knows"},
		{"a backup that does not exist", func(t *testing.T, w restoreWorld) (string, func()) {
			return filepath.Join(t.TempDir(), "missing.db"), func() {}
		}, "cannot read the backup"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newRestoreWorld(t)
			backup, release := tt.prepare(t, w)
			defer release()
			var out, errb bytes.Buffer
			if code := Restore(context.Background(), w.dir, w.db, backup, time.Now(), &out, &errb); code != ExitFail {
				t.Fatalf("exit %d, want %d: %s", code, ExitFail, errb.String())
			}
			if !strings.Contains(errb.String(), tt.says) {
				t.Errorf("stderr %q does not say %q", errb.String(), tt.says)
			}
			release()
			entries, _ := os.ReadDir(w.dir)
			for _, e := range entries {
				if strings.Contains(e.Name(), "restor") {
					t.Errorf("left %s in the data directory", e.Name())
				}
			}
			if n := chatsIn(t, w.db); n != 2 {
				t.Errorf("the store now holds %d chats, want its own 2", n)
			}
		})
	}
}
