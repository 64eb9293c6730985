package storage

import (
	"context"
	"strings"
	"testing"
)

func TestRedactURLHidesThePasswordOnly(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"password in user info", "postgres://bridge:Hunter2-Sekret@db.example:5432/clm?sslmode=verify-full",
			"postgres://bridge:xxxxx@db.example:5432/clm?sslmode=verify-full"},
		{"password as a parameter", "postgres://bridge@db.example/clm?password=Hunter2-Sekret",
			"postgres://bridge@db.example/clm?password=xxxxx"},
		{"no password", "postgres://postgres@127.0.0.1:5432/test?sslmode=disable",
			"postgres://postgres@127.0.0.1:5432/test?sslmode=disable"},
		{"unparsable", "postgres://bridge:Hunter2-Sekret@db.example:port/clm", "(unparsable database URL)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := RedactURL(tt.in); got != tt.want {
				t.Errorf("RedactURL = %q, want %q", got, tt.want)
			}
		})
	}
}

// A URL the store cannot use is refused with an error that says what to
// fix and never holds the URL's password, whether it does not parse or
// names a server that is not there.
func TestOpenPostgresErrorsNeverShowThePassword(t *testing.T) {
	const pw = "Hunter2-Sekret"
	tests := []struct {
		name, url, says string
	}{
		{"not postgres", "mysql://bridge:" + pw + "@db/clm", "postgres://"},
		{"bad port", "postgres://bridge:" + pw + "@127.0.0.1:port/clm", "does not parse"},
		{"nobody listening", "postgres://bridge:" + pw + "@127.0.0.1:1/clm?connect_timeout=5", "127.0.0.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := OpenPostgres(context.Background(), tt.url, cheapOptions())
			if err == nil {
				_ = s.Close()
				t.Fatal("OpenPostgres succeeded")
			}
			if strings.Contains(err.Error(), pw) {
				t.Errorf("error holds the password: %v", err)
			}
			if !strings.Contains(err.Error(), tt.says) {
				t.Errorf("error %q does not say %q", err, tt.says)
			}
		})
	}
}

func TestPlaceholdersAreNumberedForPostgres(t *testing.T) {
	tests := []struct{ in, pg string }{
		{"SELECT 1", "SELECT 1"},
		{"SELECT a FROM t WHERE b = ? AND c = ?", "SELECT a FROM t WHERE b = $1 AND c = $2"},
		{"UPDATE t SET a = ?1 WHERE b = ?1 OR c = ?2", "UPDATE t SET a = $1 WHERE b = $1 OR c = $2"},
	}
	for _, tt := range tests {
		if got := postgresDialect().bind(tt.in); got != tt.pg {
			t.Errorf("postgres bind(%q) = %q, want %q", tt.in, got, tt.pg)
		}
		if got := sqliteDialect().bind(tt.in); got != tt.in {
			t.Errorf("sqlite bind(%q) = %q, want it unchanged", tt.in, got)
		}
	}
}

// A second program version reading a database migrated by a newer one is
// refused, not downgraded.
func TestOpenPostgresRefusesSchemaFromTheFuture(t *testing.T) {
	be := backend{name: "postgres"}
	be.skipIfMissing(t)
	dsn, _ := testSchema(t)
	s, err := OpenPostgres(context.Background(), dsn, cheapOptions())
	if err != nil {
		t.Fatal(err)
	}
	rawExec(t, s, `UPDATE schema_version SET version = 99`)
	_ = s.Close()
	_, err = OpenPostgres(context.Background(), dsn, cheapOptions())
	if err == nil || !strings.Contains(err.Error(), "upgrade the program") {
		t.Fatalf("OpenPostgres of a newer schema: %v, want a refusal saying to upgrade", err)
	}
}
