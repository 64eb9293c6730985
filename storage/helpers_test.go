package storage

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/clmbridge/clmbridge/internal/pgtest"
)

// cheapArgon keeps tests fast: 64 KiB, 1 pass. Only TestDefaultArgon2Params
// runs the production cost.
var cheapArgon = Argon2Params{MemoryKiB: 64, Time: 1, Threads: 1}

func cheapOptions() Options { return Options{Argon2: cheapArgon} }

// testDatabaseURL names the environment variable holding a PostgreSQL
// server for the tests (.ci/run sets it); unset, PostgreSQL subtests skip.
const testDatabaseURL = pgtest.EnvVar

// backend is one of the store's databases, for tests run over both.
type backend struct {
	name string // "sqlite" or "postgres"
}

var backendNames = []string{"sqlite", "postgres"}

// forEachBackend runs fn as a subtest per backend, each with its own
// fresh store from b.open. The PostgreSQL subtest skips, saying why, when
// CLM_TEST_DATABASE_URL is not set.
func forEachBackend(t *testing.T, fn func(t *testing.T, b backend)) {
	t.Helper()
	for _, name := range backendNames {
		t.Run(name, func(t *testing.T) {
			b := backend{name: name}
			b.skipIfMissing(t)
			fn(t, b)
		})
	}
}

// skipIfMissing skips t when the backend is not available here.
func (b backend) skipIfMissing(t testing.TB) {
	t.Helper()
	if b.name == "postgres" {
		pgtest.BaseURL(t)
	}
}

// open opens a fresh, empty store on the backend with the cheap test
// options, closed (and on PostgreSQL dropped) at the end of the test.
func (b backend) open(t testing.TB) *Store {
	t.Helper()
	s, err := b.openWith(t, cheapOptions())
	if err != nil {
		t.Fatalf("open %s store: %v", b.name, err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// openWith opens a fresh store with opts; the caller closes it.
func (b backend) openWith(t testing.TB, opts Options) (*Store, error) {
	t.Helper()
	if b.name == "sqlite" {
		return Open(context.Background(), filepath.Join(t.TempDir(), "bridge.db"), opts)
	}
	dsn, _ := testSchema(t)
	return OpenPostgres(context.Background(), dsn, opts)
}

// openShared opens n stores on one fresh database, as n bridge
// processes sharing it would, all at once (so they also migrate it
// together); each is closed at the end of the test.
func (b backend) openShared(t testing.TB, n int) []*Store {
	t.Helper()
	var dsn string
	if b.name == "sqlite" {
		dsn = filepath.Join(t.TempDir(), "bridge.db")
	} else {
		dsn, _ = testSchema(t)
	}
	stores := make([]*Store, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			if b.name == "sqlite" {
				stores[i], errs[i] = Open(context.Background(), dsn, cheapOptions())
			} else {
				stores[i], errs[i] = OpenPostgres(context.Background(), dsn, cheapOptions())
			}
		})
	}
	wg.Wait()
	for i, s := range stores {
		if s != nil {
			t.Cleanup(func() { _ = s.Close() })
		}
		if errs[i] != nil {
			t.Fatalf("opening store %d of %d on one %s database at once: %v", i+1, n, b.name, errs[i])
		}
	}
	return stores
}

// testSchema gives the test a PostgreSQL schema of its own (see pgtest).
func testSchema(t testing.TB) (dsn, schema string) {
	t.Helper()
	return pgtest.Schema(t)
}

// openStore opens a fresh store in a temporary directory, closed at the
// end of the test.
func openStore(t testing.TB) (*Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "bridge.db")
	s, err := Open(context.Background(), path, cheapOptions())
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s, path
}

func mustMember(t testing.TB, s *Store, uid, nick string) Member {
	t.Helper()
	m, err := s.EnsureMember(context.Background(), MemberRef{Platform: "telegram", UserID: uid}, nick)
	if err != nil {
		t.Fatalf("EnsureMember: %v", err)
	}
	return m
}

func mustChat(t testing.TB, s *Store, memberID int64, name, secret string) *ChatKey {
	t.Helper()
	k, err := s.CreateChat(context.Background(), memberID, name, []byte(secret))
	if err != nil {
		t.Fatalf("CreateChat: %v", err)
	}
	return k
}

// testMessage returns the i-th message of a test chat: a distinct pointer,
// nonce and text per i.
func testMessage(i int) NewMessage {
	return NewMessage{
		Direction:     Sent,
		Epoch:         1_700_000_000 + int64(i),
		Nonce:         fmt.Sprintf("nonce%011d", i),
		Pointer:       fmt.Sprintf(`{"e": %d, "n": "nonce%011d", "d": "%08x"}`, 1_700_000_000+i, i, i),
		Authenticated: i%2 == 0,
		Username:      "alice",
		Text:          fmt.Sprintf("message number %d", i),
		Source:        Source{Platform: "telegram", Channel: "-100123", MessageID: fmt.Sprint(1000 + i)},
	}
}

func mustSave(t testing.TB, s *Store, k *ChatKey, m NewMessage) int64 {
	t.Helper()
	id, created, err := s.SaveMessage(context.Background(), k, m)
	if err != nil {
		t.Fatalf("SaveMessage: %v", err)
	}
	if !created {
		t.Fatalf("SaveMessage: created = false for a new pointer")
	}
	return id
}

func mustHistory(t testing.TB, s *Store, k *ChatKey, p Page) []Message {
	t.Helper()
	h, err := s.History(context.Background(), k, p)
	if err != nil {
		t.Fatalf("History: %v", err)
	}
	return h
}

// rawExec changes the database behind the store's back, as someone with
// the file would.
func rawExec(t testing.TB, s *Store, query string, args ...any) {
	t.Helper()
	if _, err := s.w.ExecContext(context.Background(), query, args...); err != nil {
		t.Fatalf("raw SQL %q: %v", query, err)
	}
}

func rawCount(t testing.TB, s *Store, query string, args ...any) int {
	t.Helper()
	var n int
	if err := s.r.QueryRowContext(context.Background(), query, args...).Scan(&n); err != nil {
		t.Fatalf("raw SQL %q: %v", query, err)
	}
	return n
}

// rawDump reads every row query selects, as someone with the database
// would, and prints them: two dumps are equal when the rows are.
func rawDump(t testing.TB, s *Store, query string) string {
	t.Helper()
	rows, err := s.r.QueryContext(context.Background(), query)
	if err != nil {
		t.Fatalf("raw SQL %q: %v", query, err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatalf("raw SQL %q: %v", query, err)
		}
		fmt.Fprintf(&b, "%x\n", vals)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("raw SQL %q: %v", query, err)
	}
	return b.String()
}

func wantErr(t testing.TB, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("error = %v, want %v", err, target)
	}
}

func ids(ms []Message) []int64 {
	out := make([]int64, len(ms))
	for i, m := range ms {
		out[i] = m.ID
	}
	return out
}

// flipSealedByte flips one bit of byte i of the sealed blob of message
// number num in k's chat, as a failing disk might.
func flipSealedByte(t testing.TB, s *Store, k *ChatKey, num int64, i int) {
	t.Helper()
	var sealed []byte
	if err := s.w.QueryRowContext(context.Background(), `SELECT sealed FROM messages WHERE chat_id = ? AND num = ?`, k.ChatID(), num).Scan(&sealed); err != nil {
		t.Fatal(err)
	}
	sealed[i%len(sealed)] ^= 1
	rawExec(t, s, `UPDATE messages SET sealed = ? WHERE chat_id = ? AND num = ?`, sealed, k.ChatID(), num)
}
