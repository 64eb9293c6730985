package app_test

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

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

// An instance that drops out of its cluster (here its connections to
// PostgreSQL are cut, as a network partition or a database failover
// would) stops serving, since its members are handed to the live
// instances, and says that it must be restarted; a supervisor restarts it.
func TestAnInstanceThatLeavesItsClusterStopsAndAsksForARestart(t *testing.T) {
	dbURL, schema := pgtest.Schema(t)
	cfg := storyConfig(t.TempDir())
	cfg.DatabaseURL = app.DatabaseURL(dbURL)
	cfg.ClusterHeartbeat, cfg.ClusterTTL = 100*time.Millisecond, time.Second
	stdin, feed := io.Pipe()
	defer feed.Close()
	stderr := &lockedBuffer{}
	done := make(chan error, 1)
	go func() {
		opts := app.Options{Storage: storage.Options{Argon2: storage.Argon2Params{MemoryKiB: 8, Time: 1, Threads: 1}}}
		done <- app.RunWith(context.Background(), cfg, opts, stdin, io.Discard, stderr)
	}()
	waitFor(t, stderr, "cluster: joined")

	conn, err := pgx.Connect(context.Background(), pgtest.BaseURL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var ids []string
	rows, err := conn.Query(context.Background(), `SELECT id FROM `+pgx.Identifier{schema, "cluster_instances"}.Sanitize())
	if err == nil {
		ids, err = pgx.CollectRows(rows, pgx.RowTo[string])
	}
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) != 1 {
		t.Fatalf("instances registered: %v, want this one", ids)
	}
	// Only this instance's connections: other tests may share the server.
	tag, err := conn.Exec(context.Background(), `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE application_name = $1`, "clm-cluster "+ids[0])
	if err != nil || tag.RowsAffected() == 0 {
		t.Fatalf("cutting the instance's connections: %v (%d cut)", err, tag.RowsAffected())
	}
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "left the cluster") || !strings.Contains(err.Error(), "restart it") {
			t.Fatalf("RunWith returned %v, want an error saying it left the cluster and must be restarted", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("the instance went on serving after losing its cluster\nstderr:\n%s", stderr.String())
	}
}

// lockedBuffer is a bytes.Buffer safe for a writer and a reader at once.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// waitFor waits (bounded) until w holds want.
func waitFor(t *testing.T, w *lockedBuffer, want string) {
	t.Helper()
	for range 300 {
		if strings.Contains(w.String(), want) {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("never logged %q:\n%s", want, w.String())
}
