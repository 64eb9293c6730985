package app_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/clmbridge/clmbridge/clm"
	"github.com/clmbridge/clmbridge/internal/app"
	"github.com/clmbridge/clmbridge/internal/pgtest"
	"github.com/clmbridge/clmbridge/storage"
)

// With CLM_DATABASE_URL set, the bridge keeps its store in PostgreSQL:
// alice's chat and the message she sent are there after a restart, and
// nothing is written to CLM_DATA_DIR's SQLite file.
func TestBridgeOnPostgresKeepsHistoryAcrossARestart(t *testing.T) {
	dbURL, _ := pgtest.Schema(t)
	dir := t.TempDir()
	cfg := storyConfig(dir)
	cfg.DatabaseURL = app.DatabaseURL(dbURL)
	run := func(lines ...string) string {
		t.Helper()
		var out, errb bytes.Buffer
		opts := app.Options{
			Storage: storage.Options{Argon2: storage.Argon2Params{MemoryKiB: 8, Time: 1, Threads: 1}},
			Now:     func() time.Time { return storyNow },
		}
		in := strings.NewReader(strings.Join(lines, "\n") + "\n")
		if err := app.RunWith(context.Background(), cfg, opts, in, &out, &errb); err != nil {
			t.Fatalf("Run: %v\nstderr:\n%s", err, errb.String())
		}
		return out.String()
	}
	p, err := clm.NewPointer([]byte(storySecret), clm.Message{Chat: "Work", Username: "alice", Text: storyText}, storyNow.Unix())
	if err != nil {
		t.Fatal(err)
	}
	first := run("alice@dm: new Work "+storySecret, "alice@dm: send Work "+storyText)
	if a := joined(first, "alice"); !strings.Contains(a, "Created Work") || !strings.Contains(a, p.String()) {
		t.Fatalf("alice saw:\n%s", a)
	}
	second := run("alice@dm: unlock Work "+storySecret, "alice@dm: history Work")
	if a := joined(second, "alice"); !strings.Contains(a, storyText) {
		t.Fatalf("after a restart alice's history lacks her message:\n%s", a)
	}
	if _, err := os.Stat(filepath.Join(dir, app.DBFileName)); err == nil {
		t.Errorf("an SQLite store was created in CLM_DATA_DIR although CLM_DATABASE_URL is set")
	}
}
