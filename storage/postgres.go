package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// Connection pool sizes on PostgreSQL. Writers lock the chat rows they
// touch, so unlike SQLite several may run at once; the server, not one
// file lock, is the limit.
const (
	pgMaxWriters = 4
	pgMaxReaders = 4
)

// pgMigrateLock is the first key of the session-independent advisory lock
// (pg_advisory_xact_lock(key, hash of the schema)) that makes instances
// starting together migrate one at a time: "CLMb" in ASCII.
const pgMigrateLock = 0x434c4d62

// IsPostgresURL reports whether u names a PostgreSQL database
// (postgres:// or postgresql://), to be opened with OpenPostgres rather
// than Open.
func IsPostgresURL(u string) bool {
	l := strings.ToLower(strings.TrimSpace(u))
	return strings.HasPrefix(l, "postgres://") || strings.HasPrefix(l, "postgresql://")
}

// RedactURL returns the database URL with its password replaced, for
// logs, errors and doctor. A URL that does not parse is hidden whole,
// since its password cannot be found to cut out.
func RedactURL(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return "(unparsable database URL)"
	}
	q := p.Query()
	if q.Has("password") {
		q.Set("password", "xxxxx")
		p.RawQuery = q.Encode()
	}
	return p.Redacted()
}

// OpenPostgres opens (creating and migrating its tables if needed) the
// store in the PostgreSQL database at dbURL (postgres://user@host/db?…;
// a search_path parameter selects a schema). The same sealing, associated
// data and guarantees hold as on SQLite; Options.FullSync does not apply
// (a PostgreSQL commit is durable by the server's synchronous_commit).
// Errors never contain the URL's password.
func OpenPostgres(ctx context.Context, dbURL string, opts Options) (*Store, error) {
	params, kdfMax, err := opts.resolve()
	if err != nil {
		return nil, err
	}
	if !IsPostgresURL(dbURL) {
		return nil, fmt.Errorf("%w: the database URL must start with postgres:// or postgresql://", ErrInvalid)
	}
	cfg, err := pgx.ParseConfig(dbURL)
	if err != nil {
		return nil, fmt.Errorf("%w: the database URL %s does not parse; check its form (postgres://user:password@host:5432/database?sslmode=verify-full)",
			ErrInvalid, RedactURL(dbURL))
	}
	d := postgresDialect()
	w := stdlib.OpenDB(*cfg)
	w.SetMaxOpenConns(pgMaxWriters)
	w.SetMaxIdleConns(pgMaxWriters)
	w.SetConnMaxIdleTime(5 * time.Minute)
	r := stdlib.OpenDB(*cfg)
	r.SetMaxOpenConns(pgMaxReaders)
	r.SetMaxIdleConns(pgMaxReaders)
	r.SetConnMaxIdleTime(5 * time.Minute)
	s := &Store{
		d: d, w: pool{w, d}, r: pool{r, d}, argon: params,
		kdf: make(chan struct{}, kdfMax), now: time.Now,
	}
	if err := s.migratePostgres(ctx); err != nil {
		_ = w.Close()
		_ = r.Close()
		return nil, redactErr(err, cfg.Password)
	}
	return s, nil
}

// redactErr returns err, or when its text holds the password (a driver
// may echo its connection string) an error with that text cut out.
func redactErr(err error, password string) error {
	if err == nil || password == "" || !strings.Contains(err.Error(), password) {
		return err
	}
	return errors.New(strings.ReplaceAll(err.Error(), password, "xxxxx"))
}

// migratePostgres brings the schema to the newest version in one
// transaction, holding an advisory lock so that instances starting
// together migrate one after another: the second finds the work done.
// The version lives in the schema_version table.
func (s *Store) migratePostgres(ctx context.Context) error {
	ms, err := loadMigrations(pgMigrationDir)
	if err != nil {
		return fmt.Errorf("storage: loading migrations: %w", err)
	}
	return s.write(ctx, func(tx dbtx) error {
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(?, hashtext(current_schema()))`, pgMigrateLock); err != nil {
			return dbErr("waiting for the migration lock (is the database reachable?)", err)
		}
		if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_version (version integer NOT NULL)`); err != nil {
			return dbErr("creating the schema_version table (may this user create tables?)", err)
		}
		var v int
		err := tx.QueryRowContext(ctx, `SELECT version FROM schema_version`).Scan(&v)
		if errors.Is(err, sql.ErrNoRows) {
			if _, err := tx.ExecContext(ctx, `INSERT INTO schema_version (version) VALUES (0)`); err != nil {
				return dbErr("recording schema version", err)
			}
		} else if err != nil {
			return dbErr("reading schema version", err)
		}
		if v > len(ms) {
			return fmt.Errorf("storage: database schema version %d is newer than this program knows (%d): upgrade the program", v, len(ms))
		}
		for _, m := range ms[v:] {
			if _, err := tx.ExecContext(ctx, m.sql); err != nil {
				return dbErr("applying migration "+m.name, err)
			}
			if _, err := tx.ExecContext(ctx, `UPDATE schema_version SET version = ?`, m.version); err != nil {
				return dbErr("recording schema version", err)
			}
		}
		return nil
	})
}

// PostgresStatus is what ProbePostgres learns of a database, for doctor.
type PostgresStatus struct {
	// SchemaVersion is the store's schema version (0: no store yet);
	// KnownVersion the newest this program knows.
	SchemaVersion, KnownVersion int
	// Local is true when the URL's host is a loopback address or a Unix
	// socket, where TLS matters less.
	Local bool
	// TLS is true when this connection is encrypted.
	TLS bool
	// Server is the server's version string.
	Server string
}

// ProbePostgres connects to dbURL and reports the store's schema version
// and whether the connection uses TLS. It never creates or changes
// anything. Errors never contain the URL's password.
func ProbePostgres(ctx context.Context, dbURL string) (PostgresStatus, error) {
	var st PostgresStatus
	ms, err := loadMigrations(pgMigrationDir)
	if err != nil {
		return st, fmt.Errorf("storage: loading migrations: %w", err)
	}
	st.KnownVersion = len(ms)
	cfg, err := pgx.ParseConfig(dbURL)
	if err != nil || !IsPostgresURL(dbURL) {
		return st, fmt.Errorf("%w: the database URL %s does not parse; check its form (postgres://user:password@host:5432/database?sslmode=verify-full)",
			ErrInvalid, RedactURL(dbURL))
	}
	st.Local = isLocalHost(cfg.Host)
	c, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return st, redactErr(fmt.Errorf("storage: connecting to %s: %w", RedactURL(dbURL), err), cfg.Password)
	}
	defer func() { _ = c.Close(context.Background()) }()
	if err := c.QueryRow(ctx, `SELECT current_setting('server_version'),
		coalesce((SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()), false)`).Scan(&st.Server, &st.TLS); err != nil {
		return st, redactErr(fmt.Errorf("storage: asking the server: %w", err), cfg.Password)
	}
	var exists bool
	if err := c.QueryRow(ctx, `SELECT to_regclass('schema_version') IS NOT NULL`).Scan(&exists); err != nil {
		return st, redactErr(fmt.Errorf("storage: looking for the store's tables: %w", err), cfg.Password)
	}
	if exists {
		if err := c.QueryRow(ctx, `SELECT version FROM schema_version`).Scan(&st.SchemaVersion); err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return st, redactErr(fmt.Errorf("storage: reading the schema version: %w", err), cfg.Password)
		}
	}
	return st, nil
}

// isLocalHost reports whether a PostgreSQL host is a Unix socket
// directory or a loopback name or address.
func isLocalHost(host string) bool {
	if strings.HasPrefix(host, "/") || host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
