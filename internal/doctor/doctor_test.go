package doctor

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clmbridge/clmbridge/internal/instancelock"
	"github.com/clmbridge/clmbridge/storage"
)

func summary(t *testing.T, fs []Finding, secrets ...string) string {
	t.Helper()
	var b bytes.Buffer
	Report(&b, fs)
	for _, s := range secrets {
		if strings.Contains(b.String(), s) {
			t.Errorf("doctor output contains a secret:\n%s", b.String())
		}
	}
	return b.String()
}

func worst(fs []Finding) Level {
	w := OK
	for _, f := range fs {
		w = max(w, f.Level)
	}
	return w
}

func TestStoreDoctor(t *testing.T) {
	ctx := context.Background()
	cheap := storage.Options{Argon2: storage.Argon2Params{MemoryKiB: 64, Time: 1, Threads: 1}}
	tests := []struct {
		name  string
		setup func(t *testing.T, dir string) // dir is the data directory
		want  Level
		says  []string
	}{
		{name: "nothing yet", setup: func(t *testing.T, dir string) { _ = os.Remove(dir) },
			want: Info, says: []string{"does not exist yet"}},
		{name: "directory but no store", setup: func(t *testing.T, dir string) {},
			want: Info, says: []string{"private to its owner", "no bridge is running", "no store yet"}},
		{name: "a real store", setup: func(t *testing.T, dir string) {
			s, err := storage.Open(ctx, filepath.Join(dir, "bridge.db"), cheap)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
		}, want: Info, says: []string{"the store is intact (schema version"}},
		{name: "not a database", setup: func(t *testing.T, dir string) {
			if err := os.WriteFile(filepath.Join(dir, "bridge.db"), bytes.Repeat([]byte("garbage!"), 1024), 0o600); err != nil {
				t.Fatal(err)
			}
		}, want: Fail, says: []string{"restore"}},
		{name: "world-readable directory", setup: func(t *testing.T, dir string) {
			if err := os.Chmod(dir, 0o755); err != nil {
				t.Fatal(err)
			}
		}, want: Warn, says: []string{"readable by other users (mode 0755)", "chmod 700"}},
		{name: "a bridge holds the directory", setup: func(t *testing.T, dir string) {
			l, err := instancelock.Acquire(dir)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = l.Release() })
		}, want: Info, says: []string{fmt.Sprintf("a bridge is running on this data directory (PID %d)", os.Getpid())}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "data")
			if err := os.Mkdir(dir, 0o700); err != nil {
				t.Fatal(err)
			}
			tt.setup(t, dir)
			fs := Store{DataDir: dir, Path: filepath.Join(dir, "bridge.db")}.Check(ctx)
			out := summary(t, fs)
			if got := worst(fs); got != tt.want {
				t.Errorf("worst level %v, want %v:\n%s", got, tt.want, out)
			}
			for _, s := range tt.says {
				if !strings.Contains(out, s) {
					t.Errorf("output lacks %q:\n%s", s, out)
				}
			}
			if _, err := os.Stat(filepath.Join(dir, "bridge.db")); tt.name == "directory but no store" && err == nil {
				t.Error("the doctor created a store")
			}
		})
	}
}

func TestReportVerdict(t *testing.T) {
	tests := []struct {
		name   string
		fs     []Finding
		wantOK bool
		says   string
	}{
		{"all fine", []Finding{{Area: "store", Level: OK, What: "fine"}}, true, "all checks passed"},
		{"a warning", []Finding{{Area: "telegram", Level: Warn, What: "privacy", Fix: "do X"}}, true, "1 warning(s)"},
		{"a failure", []Finding{{Area: "discord", Level: Fail, What: "token", Fix: "reset"}, {Level: Warn}}, false, "1 problem(s) to fix"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			if got := Report(&b, tt.fs); got != tt.wantOK {
				t.Errorf("Report = %v, want %v", got, tt.wantOK)
			}
			if !strings.Contains(b.String(), tt.says) {
				t.Errorf("output lacks %q:\n%s", tt.says, b.String())
			}
			for _, f := range tt.fs {
				if f.Fix != "" && !strings.Contains(b.String(), "fix: "+f.Fix) {
					t.Errorf("output lacks the fix %q", f.Fix)
				}
			}
		})
	}
}

func TestRunFillsArea(t *testing.T) {
	fs := Run(context.Background(), []Check{
		{Area: "config", Run: func(context.Context) []Finding { return []Finding{{Level: OK, What: "x"}} }},
	})
	if len(fs) != 1 || fs[0].Area != "config" {
		t.Errorf("Run = %+v", fs)
	}
}

func TestStoreDoctorCountsTheWALOfARunningStore(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "bridge.db")
	s, err := storage.Open(ctx, path, storage.Options{Argon2: storage.Argon2Params{MemoryKiB: 64, Time: 1, Threads: 1}})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = s.Close() }()
	if _, err := s.EnsureMember(ctx, storage.MemberRef{Platform: "console", UserID: "alice"}, "alice"); err != nil {
		t.Fatal(err)
	}
	var total int64
	for _, suffix := range []string{"", "-wal", "-shm"} {
		st, err := os.Stat(path + suffix)
		if err != nil {
			t.Fatalf("no %s%s while the store is open: %v", path, suffix, err)
		}
		total += st.Size()
	}
	out := summary(t, Store{DataDir: dir, Path: path}.Check(ctx))
	if want := fmt.Sprintf("%d bytes on disk", total); !strings.Contains(out, want) {
		t.Errorf("output lacks %q (the database, its WAL and shm):\n%s", want, out)
	}
}
