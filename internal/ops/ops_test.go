package ops

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/clmbridge/clmbridge/internal/doctor"
	"github.com/clmbridge/clmbridge/internal/httpapi"
	"github.com/clmbridge/clmbridge/storage"
)

var cheap = storage.Options{Argon2: storage.Argon2Params{MemoryKiB: 64, Time: 1, Threads: 1}}

const (
	chatSecret = "backup-Secret-Quokka-771"
	textPrefix = "plaintext-Wombat-"
)

// TestBackupWhileWriting runs `backup` while another goroutine keeps saving
// messages: the copy must be intact, hold every message acknowledged before
// the backup began (and no more than were acknowledged when it ended), open
// with the chat's secret, and hold no secret or plaintext.
func TestBackupWhileWriting(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "bridge.db")
	s, err := storage.Open(ctx, dbPath, cheap)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = s.Close() }()
	m, err := s.EnsureMember(ctx, storage.MemberRef{Platform: "console", UserID: "alice"}, "alice")
	if err != nil {
		t.Fatal(err)
	}
	key, err := s.CreateChat(ctx, m.ID, "Work", []byte(chatSecret))
	if err != nil {
		t.Fatal(err)
	}

	var acked atomic.Int64
	stop := make(chan struct{})
	started := make(chan struct{})
	var wg sync.WaitGroup
	var writeErr error // read after wg.Wait
	var failed atomic.Bool
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			_, _, err := s.SaveMessage(ctx, key, storage.NewMessage{
				Direction: storage.Sent, Epoch: int64(1700000000 + i), Nonce: fmt.Sprintf("n%08d", i),
				Pointer:  fmt.Sprintf(`{"e": %d, "n": "n%08d", "d": "x"}`, 1700000000+i, i),
				Username: "alice", Text: fmt.Sprintf("%s%d", textPrefix, i),
			})
			if err != nil {
				writeErr = err
				failed.Store(true)
				if acked.Load() < 50 {
					close(started)
				}
				return
			}
			if acked.Add(1) == 50 {
				close(started)
			}
		}
	}()

	<-started // writes are flowing
	before := acked.Load()
	dest := filepath.Join(t.TempDir(), "copy.db")
	var out, errOut bytes.Buffer
	code := Backup(ctx, dbPath, dest, &out, &errOut)
	after := acked.Load()
	// Let a few more writes land after the backup, to show they went on.
	for acked.Load() < after+10 && !failed.Load() {
		if _, err := s.Stats(ctx); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
	if writeErr != nil {
		t.Fatalf("a write failed during the backup: %v", writeErr)
	}
	if code != ExitOK {
		t.Fatalf("backup exit %d: %s", code, errOut.String())
	}
	if !strings.Contains(out.String(), "integrity ok") {
		t.Errorf("backup output: %q", out.String())
	}

	raw, err := os.ReadFile(dest)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{chatSecret, textPrefix} {
		if bytes.Contains(raw, []byte(s)) {
			t.Errorf("the backup file holds %q in the clear", s)
		}
	}
	if st, _ := os.Stat(dest); st.Mode().Perm() != 0o600 {
		t.Errorf("backup mode %04o, want 0600", st.Mode().Perm())
	}

	copyStore, err := storage.Open(ctx, dest, cheap)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = copyStore.Close() }()
	st, err := copyStore.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("acknowledged: %d before the backup, %d after; the copy holds %d", before, after, st.Messages)
	// One writer: when the backup ended, at most one save had committed
	// without being counted yet.
	if st.Messages < before || st.Messages > after+1 {
		t.Errorf("backup holds %d messages; %d were acknowledged before it began and %d (plus one in flight) when it ended", st.Messages, before, after)
	}
	ck, err := copyStore.UnlockChat(ctx, m.ID, "Work", []byte(chatSecret))
	if err != nil {
		t.Fatalf("unlock Work in the backup: %v", err)
	}
	page, err := copyStore.History(ctx, ck, storage.Page{Size: 5})
	if err != nil || len(page) == 0 || !strings.HasPrefix(page[0].Text, textPrefix) {
		t.Fatalf("history from the backup: %v, %+v", err, page)
	}
}

func TestBackupRefusals(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "bridge.db")
	s, err := storage.Open(ctx, dbPath, cheap)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	existing := filepath.Join(dir, "old.db")
	if err := os.WriteFile(existing, []byte("keep me"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		db, dest string
		code     int
		says     string
	}{
		{"no destination", dbPath, "", ExitUsage, "usage: bridge backup PATH"},
		{"no store", filepath.Join(dir, "missing.db"), filepath.Join(dir, "b1.db"), ExitFail, "no store at"},
		{"destination exists", dbPath, existing, ExitFail, "already exists"},
		{"destination directory missing", dbPath, filepath.Join(dir, "nope", "b.db"), ExitFail, "backup:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			if code := Backup(ctx, tt.db, tt.dest, &out, &errOut); code != tt.code {
				t.Errorf("exit %d, want %d (%s)", code, tt.code, errOut.String())
			}
			if !strings.Contains(errOut.String(), tt.says) {
				t.Errorf("stderr %q lacks %q", errOut.String(), tt.says)
			}
		})
	}
	if b, _ := os.ReadFile(existing); string(b) != "keep me" {
		t.Error("backup overwrote an existing file")
	}
}

func TestHealthcheck(t *testing.T) {
	srv, err := httpapi.Listen(httpapi.Config{Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	addr := srv.Addr().String()

	var errOut bytes.Buffer
	if code := Healthcheck(context.Background(), addr, &errOut); code != ExitOK {
		t.Errorf("healthcheck of a running endpoint: exit %d: %s", code, errOut.String())
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	errOut.Reset()
	if code := Healthcheck(context.Background(), addr, &errOut); code != ExitFail {
		t.Errorf("healthcheck with nothing running: exit %d", code)
	}
	if !strings.Contains(errOut.String(), "healthcheck: no bridge answers") {
		t.Errorf("stderr: %q", errOut.String())
	}
}

func TestDoctorExitStatus(t *testing.T) {
	tests := []struct {
		name  string
		level doctor.Level
		code  int
	}{
		{"all fine", doctor.OK, ExitOK},
		{"warnings only", doctor.Warn, ExitOK},
		{"a failure", doctor.Fail, ExitFail},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			checks := []doctor.Check{{Area: "config", Run: func(context.Context) []doctor.Finding {
				return []doctor.Finding{{Level: tt.level, What: "something", Fix: "do this"}}
			}}}
			if code := Doctor(context.Background(), checks, &out); code != tt.code {
				t.Errorf("exit %d, want %d:\n%s", code, tt.code, out.String())
			}
		})
	}
}
