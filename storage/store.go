package storage

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/stdlib"
	sqlite3 "github.com/mattn/go-sqlite3"
)

// Sentinel errors, checked with errors.Is. Returned errors wrap them with
// text saying what went wrong and what to do; no error ever contains a
// secret, a key or message plaintext.
var (
	ErrNotFound    = errors.New("storage: not found")
	ErrExists      = errors.New("storage: already exists")
	ErrWrongSecret = errors.New("storage: wrong secret for this chat")
	ErrInvalid     = errors.New("storage: invalid input")
	ErrClosed      = errors.New("storage: store is closed")
	ErrCorrupt     = errors.New("storage: message cannot be opened (corrupt or moved)")
	// ErrUnsupported means the backend does not do this; the error says
	// what to use instead.
	ErrUnsupported = errors.New("storage: not supported by this backend")
	// ErrLocked means the ChatKey was wiped, or the chat's secret was
	// changed since it was unlocked: unlock the chat again.
	ErrLocked = errors.New("storage: chat key is wiped or out of date")
)

// DefaultMaxConcurrentKDF is how many Argon2id runs may be in progress at
// once when Options.MaxConcurrentKDF is zero. With the default parameters
// that caps KDF memory at 2 × 64 MiB, and it matches a 2-core host: more
// parallel runs would only queue for CPU while holding their memory.
const DefaultMaxConcurrentKDF = 2

// busyTimeout bounds how long a connection waits for a lock SQLite holds
// (the WAL checkpoint, or a reader recovering the WAL index) before it
// reports SQLITE_BUSY. Writers never wait on each other in SQLite: they
// queue for the single write connection in database/sql, honouring ctx.
const busyTimeout = 10 * time.Second

// Options configure Open. The zero value is production-ready.
type Options struct {
	// Argon2 is the cost for new chats and rekeys (zero: the default,
	// DefaultArgon2Params). Existing chats keep the cost they were made
	// with until they are rekeyed. Tests pass a cheap one.
	Argon2 Argon2Params
	// MaxConcurrentKDF caps Argon2id runs at once (zero: the default,
	// DefaultMaxConcurrentKDF). Callers beyond the cap wait, honouring ctx.
	MaxConcurrentKDF int
	// FullSync makes every commit wait until the write-ahead log is on
	// stable storage (SQLite synchronous=FULL). By default the store uses
	// synchronous=NORMAL, under which an acknowledged write survives a
	// crash or SIGKILL of the process but the last commits may be lost
	// (never corrupted) if the operating system crashes or power fails.
	// FullSync closes that window at the cost of an fsync per commit.
	FullSync bool
}

// Store is the per-member, per-chat store, encrypted at rest. It is safe
// for concurrent use.
//
// It keeps two connection pools on one SQLite file in WAL mode: a single
// write connection (so writers queue in Go, honouring their context, and
// callers never see "database is locked") whose transactions begin
// IMMEDIATE, and a pool of query-only connections for reads, which WAL lets
// run alongside the writer on a consistent snapshot.
// On PostgreSQL (OpenPostgres) both pools hold several connections:
// writers lock the chat row they change instead (see dialect).
type Store struct {
	d         *dialect
	w, r      pool
	backupDSN string
	argon     Argon2Params
	kdf       chan struct{} // semaphore: one token per running Argon2id
	now       func() time.Time
	mu        sync.RWMutex // held shared by every call, exclusively by Close
	closed    bool
	nums      numHints // each chat's last message number, to save in one statement
}

// Open opens (creating and migrating if needed) the SQLite store at path.
// A new database file is created readable by its owner only (0600); the
// -wal and -shm files SQLite creates inherit that mode.
func Open(ctx context.Context, path string, opts Options) (*Store, error) {
	if path == "" {
		return nil, fmt.Errorf("%w: empty database path", ErrInvalid)
	}
	params, kdfMax, err := opts.resolve()
	if err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("storage: resolving database path: %w", err)
	}
	// Create the file ourselves so it is 0600 from the first byte; SQLite
	// would create it 0644 (less umask).
	f, err := os.OpenFile(abs, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("storage: opening database file: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("storage: opening database file: %w", err)
	}

	syncMode := "NORMAL"
	if opts.FullSync {
		syncMode = "FULL"
	}
	common := url.Values{}
	common.Set("_busy_timeout", fmt.Sprint(busyTimeout.Milliseconds()))
	common.Set("_foreign_keys", "on")
	common.Set("_journal_mode", "WAL")
	common.Set("_synchronous", syncMode)
	common.Set("_secure_delete", "fast") // zero deleted cells in place
	common.Set("_stmt_cache_size", "32")
	// database/sql never shares a connection between goroutines, so
	// SQLite's per-connection mutex (serialized mode) is pure overhead.
	common.Set("_mutex", "no")

	wq := cloneValues(common)
	wq.Set("_txlock", "immediate")
	d := sqliteDialect()
	w := openDB(fileURI(abs, wq))
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)

	s := &Store{
		d: d, w: pool{w, d}, backupDSN: fileURI(abs, common), argon: params,
		kdf: make(chan struct{}, kdfMax), now: time.Now,
	}
	if err := s.migrateSQLite(ctx); err != nil {
		_ = w.Close()
		return nil, err
	}

	rq := cloneValues(common)
	rq.Set("_query_only", "on")
	r := openDB(fileURI(abs, rq))
	r.SetMaxOpenConns(maxReaders)
	r.SetMaxIdleConns(maxReaders)
	if err := r.PingContext(ctx); err != nil {
		_ = w.Close()
		_ = r.Close()
		return nil, fmt.Errorf("storage: opening database for reading: %w", err)
	}
	s.r = pool{r, d}
	return s, nil
}

// MaxConcurrentKDF returns how many Argon2id runs may be in progress at
// once, so callers can size their own admission to it.
func (s *Store) MaxConcurrentKDF() int { return cap(s.kdf) }

// resolve checks the options and fills in the defaults.
func (opts Options) resolve() (Argon2Params, int, error) {
	params := opts.Argon2
	if params == (Argon2Params{}) {
		params = DefaultArgon2Params()
	}
	if err := params.validate(); err != nil {
		return params, 0, fmt.Errorf("%w: Options.Argon2: %v", ErrInvalid, err)
	}
	kdfMax := opts.MaxConcurrentKDF
	if kdfMax == 0 {
		kdfMax = DefaultMaxConcurrentKDF
	}
	if kdfMax < 0 {
		return params, 0, fmt.Errorf("%w: Options.MaxConcurrentKDF must not be negative", ErrInvalid)
	}
	return params, kdfMax, nil
}

// Per-connection tuning the DSN cannot express. mmap lets every
// connection read the database file through the shared OS page cache with
// no read syscalls; the page cache keeps hot WAL pages. Memory: at most
// (1 + maxReaders) × cacheKiB of private cache, allocated as used.
//
// walCheckpointPages lets the WAL grow to about 40 MB before a commit
// copies it back into the database (SQLite's default is 1,000 pages):
// saves rewrite the same few pages (the newest leaf of the table and of
// each index), so a bigger WAL folds many versions of a page into one
// write and one fsync. It roughly halves the cost of a small save here.
// walSizeLimit trims the WAL file back after a checkpoint if it ever grew
// past that (say, while a long read held old pages).
const (
	maxReaders         = 4
	mmapBytes          = 256 << 20
	cacheKiB           = 8 << 10
	walCheckpointPages = 10_000
	walSizeLimit       = 64 << 20
)

// openDB returns a pool of connections to dsn, each set up by connectHook.
// It uses a connector rather than sql.Open so no driver is registered
// globally.
func openDB(dsn string) *sql.DB {
	return sql.OpenDB(connector{drv: &sqlite3.SQLiteDriver{ConnectHook: connectHook}, dsn: dsn})
}

func connectHook(c *sqlite3.SQLiteConn) error {
	_, err := c.Exec(fmt.Sprintf(
		"PRAGMA mmap_size = %d; PRAGMA cache_size = -%d; PRAGMA wal_autocheckpoint = %d; PRAGMA journal_size_limit = %d",
		mmapBytes, cacheKiB, walCheckpointPages, walSizeLimit), nil)
	return err
}

type connector struct {
	drv *sqlite3.SQLiteDriver
	dsn string
}

func (c connector) Connect(context.Context) (driver.Conn, error) { return c.drv.Open(c.dsn) }

func (c connector) Driver() driver.Driver { return c.drv }

func cloneValues(v url.Values) url.Values {
	c := make(url.Values, len(v))
	for k, vs := range v {
		c[k] = append([]string(nil), vs...)
	}
	return c
}

// fileURI makes an SQLite URI for an absolute path, escaping '?', '#' and
// '%' so any file name works.
func fileURI(abs string, q url.Values) string {
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(abs), RawQuery: q.Encode()}
	return u.String()
}

// Close closes the store. It waits for calls in progress to finish; calls
// made after it return ErrClosed. Closing twice is harmless.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	errR := s.r.db.Close()
	errW := s.w.db.Close()
	if err := errors.Join(errR, errW); err != nil {
		return fmt.Errorf("storage: closing database: %w", err)
	}
	return nil
}

// enter marks a call in progress; it fails once the store is closed.
// Every exported method calls it once and defers s.leave(); internal
// helpers never call it (a nested RLock could deadlock against Close).
func (s *Store) enter() error {
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return ErrClosed
	}
	return nil
}

func (s *Store) leave() { s.mu.RUnlock() }

// dbtx is what a transaction body may use: the connection the
// transaction runs on.
type dbtx interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// write runs fn in a transaction on the write pool (on SQLite, BEGIN
// IMMEDIATE on its one connection), committing when fn returns nil. Waiting for the connection
// honours ctx.
func (s *Store) write(ctx context.Context, fn func(tx dbtx) error) error {
	return runTx(ctx, s.w, s.d.beginWrite, "COMMIT", fn)
}

// read runs fn in a read transaction on the read pool, so everything fn
// sees comes from one snapshot.
func (s *Store) read(ctx context.Context, fn func(tx dbtx) error) error {
	return runTx(ctx, s.r, s.d.beginRead, s.d.endRead, fn)
}

// runTx runs fn between begin and end statements on one connection of db.
// It issues BEGIN/COMMIT itself rather than using sql.Tx, which costs a
// goroutine per transaction: a quarter of a small save's time here. If
// ending or rolling back fails, the connection is discarded, so no later
// caller inherits an open transaction.
func runTx(ctx context.Context, p pool, begin, end string, fn func(tx dbtx) error) error {
	c, err := p.db.Conn(ctx)
	if err != nil {
		return dbErr("waiting for the database", err)
	}
	defer c.Close()
	if _, err := c.ExecContext(ctx, begin); err != nil {
		discardIfInTx(c)
		return dbErr("starting a transaction", err)
	}
	if err := fn(conn{c, p.d}); err != nil {
		rollback(c)
		return err
	}
	if _, err := c.ExecContext(ctx, end); err != nil {
		rollback(c)
		return dbErr("committing", err)
	}
	return nil
}

// rollback ends the connection's transaction, never cancelled; a
// connection it cannot clean is discarded.
func rollback(c *sql.Conn) {
	if _, err := c.ExecContext(context.Background(), "ROLLBACK"); err != nil {
		discardIfInTx(c)
	}
}

// discardIfInTx makes database/sql close c instead of reusing it, unless
// it is known to be outside a transaction.
func discardIfInTx(c *sql.Conn) {
	_ = c.Raw(func(dc any) error {
		if sc, ok := dc.(*sqlite3.SQLiteConn); ok && sc.AutoCommit() {
			return nil
		}
		if pc, ok := dc.(*stdlib.Conn); ok && pc.Conn().PgConn().TxStatus() == 'I' {
			return nil
		}
		return driver.ErrBadConn
	})
}

// dbErr wraps a database error with what the store was doing. SQL errors
// carry no secrets: every secret-derived value reaches SQLite as a bound
// parameter, never as SQL text.
func dbErr(doing string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("storage: %s: %w", doing, err)
	}
	var se sqlite3.Error
	if errors.As(err, &se) && (se.Code == sqlite3.ErrCorrupt || se.Code == sqlite3.ErrNotADB) {
		return fmt.Errorf("storage: %s: database file is damaged, restore a backup: %w", doing, err)
	}
	if strings.Contains(err.Error(), "database is closed") {
		return fmt.Errorf("storage: %s: %w", doing, ErrClosed)
	}
	return fmt.Errorf("storage: %s: %w", doing, err)
}

// Backup writes a consistent copy of the whole database to path with
// VACUUM INTO, while the store stays in use. path must not exist; the copy
// is created 0600 and, like the store, holds no secret or plaintext.
func (s *Store) Backup(ctx context.Context, path string) error {
	if err := s.enter(); err != nil {
		return err
	}
	defer s.leave()
	if s.d.name == "postgres" {
		return fmt.Errorf("%w: a store on PostgreSQL is backed up by the server's tools: run pg_dump --format=custom --file=%s \"$CLM_DATABASE_URL\" (and pg_restore to restore it)",
			ErrUnsupported, path)
	}
	if path == "" {
		return fmt.Errorf("%w: empty backup path", ErrInvalid)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return fmt.Errorf("storage: resolving backup path: %w", err)
	}
	f, err := os.OpenFile(abs, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return fmt.Errorf("%w: backup file already exists; choose a new name", ErrExists)
	}
	if err != nil {
		return fmt.Errorf("storage: creating backup file: %w", err)
	}
	_ = f.Close()
	// VACUUM INTO accepts an existing empty file, which keeps our 0600. It
	// reads one snapshot, so in WAL mode writers carry on meanwhile; it
	// runs on a connection of its own because the read pool is query-only
	// (which refuses VACUUM INTO) and the write connection must stay free.
	err = func() error {
		db := openDB(s.backupDSN)
		defer db.Close()
		_, err := db.ExecContext(ctx, `VACUUM INTO ?`, abs)
		return err
	}()
	if err != nil {
		_ = os.Remove(abs)
		return dbErr("writing backup", err)
	}
	return nil
}

// Stats counts what the store holds, for metrics and operators.
type Stats struct {
	Members  int64
	Chats    int64
	Messages int64 // not in the trash
	Trashed  int64
}

// Stats returns counts of members, chats and messages.
func (s *Store) Stats(ctx context.Context) (Stats, error) {
	if err := s.enter(); err != nil {
		return Stats{}, err
	}
	defer s.leave()
	var st Stats
	err := s.r.QueryRowContext(ctx, `SELECT
		(SELECT count(*) FROM members),
		(SELECT count(*) FROM chats),
		(SELECT count(*) FROM messages WHERE deleted_at IS NULL),
		(SELECT count(*) FROM messages WHERE deleted_at IS NOT NULL)`).
		Scan(&st.Members, &st.Chats, &st.Messages, &st.Trashed)
	if err != nil {
		return Stats{}, dbErr("counting", err)
	}
	return st, nil
}

func unixNano(t time.Time) int64 { return t.UnixNano() }

func fromUnixNano(n int64) time.Time { return time.Unix(0, n).UTC() }
