package storage

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestOpenCreatesPrivateWALDatabaseAtNewestSchema(t *testing.T) {
	s, path := openStore(t)
	ctx := context.Background()
	mustMember(t, s, "1", "alice") // make SQLite create the -wal file

	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatalf("stat %s: %v", filepath.Base(p), err)
		}
		if mode := fi.Mode().Perm(); mode != 0o600 {
			t.Errorf("%s mode = %o, want 600", filepath.Base(p), mode)
		}
	}
	pragmas := []struct {
		db   pool
		name string
		want string
	}{
		{s.w, "journal_mode", "wal"},
		{s.w, "foreign_keys", "1"},
		{s.w, "synchronous", "1"}, // NORMAL
		{s.w, "user_version", "2"},
		{s.r, "foreign_keys", "1"},
		{s.r, "query_only", "1"},
		{s.r, "busy_timeout", "10000"},
		{s.w, "wal_autocheckpoint", "10000"},
		{s.r, "mmap_size", "268435456"},
		{s.w, "journal_size_limit", "67108864"},
	}
	for _, p := range pragmas {
		var got string
		if err := p.db.QueryRowContext(ctx, "PRAGMA "+p.name).Scan(&got); err != nil {
			t.Fatalf("PRAGMA %s: %v", p.name, err)
		}
		if got != p.want {
			t.Errorf("PRAGMA %s = %s, want %s", p.name, got, p.want)
		}
	}
}

func TestFullSyncOptionSelectsSynchronousFull(t *testing.T) {
	opts := cheapOptions()
	opts.FullSync = true
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "db"), opts)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var got int
	if err := s.w.QueryRowContext(context.Background(), "PRAGMA synchronous").Scan(&got); err != nil {
		t.Fatal(err)
	}
	if got != 2 {
		t.Errorf("synchronous = %d, want 2 (FULL)", got)
	}
}

func TestReopenKeepsEverything(t *testing.T) {
	ctx := context.Background()
	s, path := openStore(t)
	m := mustMember(t, s, "1", "alice")
	k := mustChat(t, s, m.ID, "Work", "s3cret")
	id := mustSave(t, s, k, testMessage(1))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s2, err := Open(ctx, path, cheapOptions())
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer s2.Close()
	k2, err := s2.UnlockChat(ctx, m.ID, "Work", []byte("s3cret"))
	if err != nil {
		t.Fatalf("UnlockChat after reopen: %v", err)
	}
	h := mustHistory(t, s2, k2, Page{Size: 10})
	if len(h) != 1 || h[0].ID != id || h[0].NewMessage != testMessage(1) {
		t.Fatalf("history after reopen = %+v", h)
	}
}

func TestOpenRefusesSchemaFromTheFuture(t *testing.T) {
	s, path := openStore(t)
	rawExec(t, s, "PRAGMA user_version = 99")
	s.Close()
	_, err := Open(context.Background(), path, cheapOptions())
	if err == nil || !strings.Contains(err.Error(), "newer") {
		t.Fatalf("Open of a version-99 database: err = %v, want a 'newer' error", err)
	}
}

func TestOpenRefusesAFileThatIsNotADatabase(t *testing.T) {
	path := filepath.Join(t.TempDir(), "notes.txt")
	junk := bytes.Repeat([]byte("this is not sqlite "), 300)
	if err := os.WriteFile(path, junk, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(context.Background(), path, cheapOptions()); err == nil {
		t.Fatal("Open of a text file succeeded")
	}
	got, _ := os.ReadFile(path)
	if !bytes.Equal(got, junk) {
		t.Error("Open changed a file that is not a database")
	}
}

func TestOpenRejectsBadOptions(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		name string
		path string
		opts Options
	}{
		{"empty path", "", cheapOptions()},
		{"negative KDF cap", "a", Options{Argon2: cheapArgon, MaxConcurrentKDF: -1}},
		{"zero threads", "b", Options{Argon2: Argon2Params{MemoryKiB: 64, Time: 1}}},
		{"zero time", "c", Options{Argon2: Argon2Params{MemoryKiB: 64, Threads: 1}}},
		{"memory below 8 per lane", "d", Options{Argon2: Argon2Params{MemoryKiB: 15, Time: 1, Threads: 2}}},
		{"memory above 4 GiB", "e", Options{Argon2: Argon2Params{MemoryKiB: 5 << 20, Time: 1, Threads: 1}}},
		{"time above limit", "f", Options{Argon2: Argon2Params{MemoryKiB: 64, Time: 65, Threads: 1}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := c.path
			if path != "" {
				path = filepath.Join(dir, path)
			}
			s, err := Open(context.Background(), path, c.opts)
			if err == nil {
				s.Close()
			}
			wantErr(t, err, ErrInvalid)
			if path != "" {
				if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
					t.Errorf("Open with bad options created the file")
				}
			}
		})
	}
}

func TestOpenHandlesPathsWithURISpecialCharacters(t *testing.T) {
	path := filepath.Join(t.TempDir(), "my data?x=1#frag %20 ü.db")
	s, err := Open(context.Background(), path, cheapOptions())
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	mustMember(t, s, "1", "alice")
	s.Close()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatalf("database not at the exact path: %v", err)
	}
	if fi.Size() == 0 {
		t.Fatalf("database at %q is empty", path)
	}
}

func TestClosedStoreReturnsErrClosed(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be backend) {
		ctx := context.Background()
		s := be.open(t)
		m := mustMember(t, s, "1", "alice")
		k := mustChat(t, s, m.ID, "Work", "pw")
		id := mustSave(t, s, k, testMessage(1))
		if err := s.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		if err := s.Close(); err != nil {
			t.Fatalf("second Close: %v", err)
		}
		calls := map[string]func() error{
			"EnsureMember": func() error { _, err := s.EnsureMember(ctx, MemberRef{"x", "y"}, "n"); return err },
			"SetNickname":  func() error { return s.SetNickname(ctx, m.ID, "bob") },
			"DeleteMember": func() error { return s.DeleteMember(ctx, m.ID) },
			"CreateChat":   func() error { _, err := s.CreateChat(ctx, m.ID, "Other", []byte("pw")); return err },
			"UnlockChat":   func() error { _, err := s.UnlockChat(ctx, m.ID, "Work", []byte("pw")); return err },
			"Rekey":        func() error { _, _, err := s.Rekey(ctx, k, []byte("new")); return err },
			"ListChats":    func() error { _, err := s.ListChats(ctx, m.ID); return err },
			"DeleteChat":   func() error { return s.DeleteChat(ctx, m.ID, "Work") },
			"SaveMessage":  func() error { _, _, err := s.SaveMessage(ctx, k, testMessage(2)); return err },
			"History":      func() error { _, err := s.History(ctx, k, Page{Size: 5}); return err },
			"Search":       func() error { _, err := s.Search(ctx, k, "message", 5); return err },
			"ListTrash":    func() error { _, err := s.ListTrash(ctx, k); return err },
			"Trash":        func() error { return s.Trash(ctx, k, id) },
			"Restore":      func() error { return s.Restore(ctx, k, id) },
			"Purge":        func() error { return s.Purge(ctx, k, id) },
			"ClearChat":    func() error { return s.ClearChat(ctx, k) },
			"Export":       func() error { _, err := s.Export(ctx, k, new(bytes.Buffer)); return err },
			"Backup":       func() error { return s.Backup(ctx, filepath.Join(t.TempDir(), "b.db")) },
			"Stats":        func() error { _, err := s.Stats(ctx); return err },
		}
		for name, call := range calls {
			t.Run(name, func(t *testing.T) { wantErr(t, call(), ErrClosed) })
		}
	})
}

func TestBackupIsAConsistentPrivateCopy(t *testing.T) {
	ctx := context.Background()
	s, _ := openStore(t)
	m := mustMember(t, s, "1", "alice")
	k := mustChat(t, s, m.ID, "Work", "pw")
	for i := range 5 {
		mustSave(t, s, k, testMessage(i))
	}
	dst := filepath.Join(t.TempDir(), "backup.db")
	if err := s.Backup(ctx, dst); err != nil {
		t.Fatalf("Backup: %v", err)
	}
	fi, err := os.Stat(dst)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("backup mode = %o, want 600", fi.Mode().Perm())
	}
	wantErr(t, s.Backup(ctx, dst), ErrExists)

	b, err := Open(ctx, dst, cheapOptions())
	if err != nil {
		t.Fatalf("opening backup: %v", err)
	}
	defer b.Close()
	bk, err := b.UnlockChat(ctx, m.ID, "Work", []byte("pw"))
	if err != nil {
		t.Fatalf("unlocking in backup: %v", err)
	}
	if h := mustHistory(t, b, bk, Page{Size: 50}); len(h) != 5 {
		t.Fatalf("backup holds %d messages, want 5", len(h))
	}
}

// On PostgreSQL the server's own tools take backups: Backup refuses,
// changing nothing, and says which command to run.
func TestBackupOnPostgresNamesPgDump(t *testing.T) {
	be := backend{name: "postgres"}
	be.skipIfMissing(t)
	s := be.open(t)
	dst := filepath.Join(t.TempDir(), "backup.db")
	err := s.Backup(context.Background(), dst)
	wantErr(t, err, ErrUnsupported)
	if !strings.Contains(err.Error(), "pg_dump") {
		t.Errorf("Backup error %q does not name pg_dump", err)
	}
	if _, err := os.Stat(dst); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Backup on PostgreSQL left a file at %s (stat: %v)", dst, err)
	}
}

func TestStatsCountsEverything(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be backend) {
		ctx := context.Background()
		s := be.open(t)
		a := mustMember(t, s, "1", "alice")
		b := mustMember(t, s, "2", "bob")
		ka := mustChat(t, s, a.ID, "Work", "pw")
		mustChat(t, s, b.ID, "Work", "pw")
		for i := range 4 {
			mustSave(t, s, ka, testMessage(i))
		}
		if err := s.Trash(ctx, ka, 1); err != nil {
			t.Fatal(err)
		}
		st, err := s.Stats(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if want := (Stats{Members: 2, Chats: 2, Messages: 3, Trashed: 1}); st != want {
			t.Fatalf("Stats = %+v, want %+v", st, want)
		}
	})
}

// TestDefaultArgon2Params is the one test that pays the production cost.
func TestDefaultArgon2Params(t *testing.T) {
	if testing.Short() {
		t.Skip("runs production Argon2id")
	}
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	d := DefaultArgon2Params()
	// At least OWASP's minimum for Argon2id: m=19 MiB, t=2, p=1.
	if d.MemoryKiB < 19*1024 || d.Time < 2 || d.Threads < 1 {
		t.Fatalf("default %v is below OWASP's minimum", d)
	}
	m := mustMember(t, s, "1", "alice")
	k := mustChat(t, s, m.ID, "Work", "pw")
	defer k.Wipe()
	var got Argon2Params
	if err := s.r.QueryRowContext(context.Background(), `SELECT kdf_memory, kdf_time, kdf_threads FROM chats`).Scan(&got.MemoryKiB, &got.Time, &got.Threads); err != nil {
		t.Fatal(err)
	}
	if got != d {
		t.Fatalf("stored params %v, want the default %v", got, d)
	}
	if cap(s.kdf) != DefaultMaxConcurrentKDF {
		t.Fatalf("KDF cap = %d, want %d", cap(s.kdf), DefaultMaxConcurrentKDF)
	}
}

func TestStoredParamsAreUsedForUnlockAndRaisedByRekey(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "db")
	s, err := Open(ctx, path, cheapOptions())
	if err != nil {
		t.Fatal(err)
	}
	m := mustMember(t, s, "1", "alice")
	mustChat(t, s, m.ID, "Work", "pw")
	s.Close()

	// Reopen with a higher cost: the chat still unlocks with its own.
	higher := Argon2Params{MemoryKiB: 256, Time: 2, Threads: 1}
	s, err = Open(ctx, path, Options{Argon2: higher})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	k, err := s.UnlockChat(ctx, m.ID, "Work", []byte("pw"))
	if err != nil {
		t.Fatalf("unlock with stored params: %v", err)
	}
	if _, _, err := s.Rekey(ctx, k, []byte("pw2")); err != nil {
		t.Fatal(err)
	}
	var got Argon2Params
	if err := s.r.QueryRowContext(context.Background(), `SELECT kdf_memory, kdf_time, kdf_threads FROM chats`).Scan(&got.MemoryKiB, &got.Time, &got.Threads); err != nil {
		t.Fatal(err)
	}
	if got != higher {
		t.Fatalf("params after rekey = %v, want %v", got, higher)
	}
}

func TestKDFWaitHonoursContextWhenAllSlotsAreBusy(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be backend) {
		ctx := context.Background()
		s := be.open(t)
		m := mustMember(t, s, "1", "alice")
		mustChat(t, s, m.ID, "Work", "pw")

		// Occupy every slot, as long-running unlocks would.
		for range cap(s.kdf) {
			s.kdf <- struct{}{}
		}
		cctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
		defer cancel()
		_, err := s.UnlockChat(cctx, m.ID, "Work", []byte("pw"))
		wantErr(t, err, context.DeadlineExceeded)
		_, err = s.CreateChat(cctx, m.ID, "Other", []byte("pw"))
		wantErr(t, err, context.DeadlineExceeded)

		// A waiting unlock proceeds once a slot frees.
		done := make(chan error, 1)
		go func() {
			_, err := s.UnlockChat(ctx, m.ID, "Work", []byte("pw"))
			done <- err
		}()
		<-s.kdf
		if err := <-done; err != nil {
			t.Fatalf("unlock after a slot freed: %v", err)
		}
		for range cap(s.kdf) - 1 {
			<-s.kdf
		}
		if n := rawCount(t, s, `SELECT count(*) FROM chats`); n != 1 {
			t.Fatalf("%d chats, want 1 (the cancelled create must not add one)", n)
		}
	})
}
