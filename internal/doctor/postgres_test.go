package doctor

import (
	"context"
	"strings"
	"testing"

	"github.com/clmbridge/clmbridge/internal/pgtest"
	"github.com/clmbridge/clmbridge/storage"
)

func TestPostgresTLSIsJudgedByWhereTheServerIs(t *testing.T) {
	tests := []struct {
		name  string
		st    storage.PostgresStatus
		mode  string
		level Level
		says  string
	}{
		{"local server without TLS", storage.PostgresStatus{Local: true}, "disable", Info, "on this machine"},
		{"remote server without TLS", storage.PostgresStatus{}, "prefer", Fail, "not encrypted"},
		{"remote server, TLS, certificate unchecked", storage.PostgresStatus{TLS: true}, "require", Warn, "sslmode=require"},
		{"remote server, TLS, verify-full", storage.PostgresStatus{TLS: true}, "verify-full", OK, "certificate checked"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := tlsFindings(tt.st, tt.mode)
			if len(fs) != 1 || fs[0].Level != tt.level || !strings.Contains(fs[0].What, tt.says) {
				t.Fatalf("findings = %+v, want one %v saying %q", fs, tt.level, tt.says)
			}
		})
	}
}

func TestPostgresSchemaVersionIsComparedWithTheProgram(t *testing.T) {
	tests := []struct {
		v     int
		level Level
		says  string
	}{
		{0, Info, "creates its tables"},
		{1, Info, "migrates it to 2"},
		{2, OK, "schema version 2"},
		{3, Fail, "newer than this program"},
	}
	for _, tt := range tests {
		f := schemaFinding(storage.PostgresStatus{SchemaVersion: tt.v, KnownVersion: 2})
		if f.Level != tt.level || !strings.Contains(f.What, tt.says) {
			t.Errorf("version %d: %+v, want %v saying %q", tt.v, f, tt.level, tt.says)
		}
	}
}

// On a real server (CLM_TEST_DATABASE_URL), doctor connects, reads the
// schema version of a store the bridge made, and creates nothing when
// there is none.
func TestPostgresCheckReadsAStoresSchemaVersion(t *testing.T) {
	ctx := context.Background()
	dsn, _ := pgtest.Schema(t)
	fresh := Postgres{URL: dsn}.Check(ctx)
	if !hasFinding(fresh, Info, "no store in this database yet") {
		t.Fatalf("doctor on an empty schema: %+v", fresh)
	}
	if st, err := storage.ProbePostgres(ctx, dsn); err != nil || st.SchemaVersion != 0 {
		t.Fatalf("doctor created something: %+v, %v", st, err)
	}
	s, err := storage.OpenPostgres(ctx, dsn, storage.Options{Argon2: storage.Argon2Params{MemoryKiB: 64, Time: 1, Threads: 1}})
	if err != nil {
		t.Fatal(err)
	}
	_ = s.Close()
	made := Postgres{URL: dsn}.Check(ctx)
	if !hasFinding(made, OK, "connected to PostgreSQL") || !hasFinding(made, OK, "the store is at schema version") {
		t.Fatalf("doctor on a store: %+v", made)
	}
}

func hasFinding(fs []Finding, l Level, says string) bool {
	for _, f := range fs {
		if f.Level == l && strings.Contains(f.What, says) {
			return true
		}
	}
	return false
}
