package storage

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
)

// migrationFS holds the schema migrations, applied in file-name order:
// SQLite's in migrations/, PostgreSQL's in migrations/postgres/. Each file
// NNNN_name.sql moves the schema from version NNNN-1 to NNNN (SQLite's
// PRAGMA user_version, PostgreSQL's schema_version table). Never edit a
// released migration: add a new one, to both backends.
//
//go:embed migrations/*.sql migrations/postgres/*.sql
var migrationFS embed.FS

// The folders of each backend's migrations in migrationFS.
const (
	sqliteMigrationDir = "migrations"
	pgMigrationDir     = "migrations/postgres"
)

type migration struct {
	version int
	name    string
	sql     string
}

func loadMigrations(dir string) ([]migration, error) {
	entries, err := fs.ReadDir(migrationFS, dir)
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("migration file %q is not named NNNN_name.sql", e.Name())
		}
		b, err := fs.ReadFile(migrationFS, path.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: v, name: e.Name(), sql: string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	for i, m := range ms {
		if m.version != i+1 {
			return nil, fmt.Errorf("migrations are not numbered 1, 2, 3...: %s", m.name)
		}
	}
	return ms, nil
}

// migrateSQLite brings the schema to the newest version in one IMMEDIATE
// transaction: a crash or error leaves the previous version intact, and two
// processes opening the same file cannot both migrate.
func (s *Store) migrateSQLite(ctx context.Context) error {
	ms, err := loadMigrations(sqliteMigrationDir)
	if err != nil {
		return fmt.Errorf("storage: loading migrations: %w", err)
	}
	return s.write(ctx, func(tx dbtx) error {
		var v int
		if err := tx.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&v); err != nil {
			return dbErr("reading schema version (is this an SQLite database?)", err)
		}
		if v > len(ms) {
			return fmt.Errorf("storage: database schema version %d is newer than this program knows (%d): upgrade the program", v, len(ms))
		}
		for _, m := range ms[v:] {
			if _, err := tx.ExecContext(ctx, m.sql); err != nil {
				return dbErr("applying migration "+m.name, err)
			}
			// PRAGMA takes no bound parameters; the version is our own integer.
			if _, err := tx.ExecContext(ctx, fmt.Sprintf(`PRAGMA user_version = %d`, m.version)); err != nil {
				return dbErr("recording schema version", err)
			}
		}
		return nil
	})
}
