// Package pgtest gives tests a PostgreSQL schema of their own on the
// server named by CLM_TEST_DATABASE_URL (which .ci/run sets), so tests and
// test packages running in parallel on one server never see each other's
// tables. Without the variable, tests that need it skip, saying how to
// run them. It is for tests only.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"
)

// EnvVar names the test server's URL, such as
// postgres://postgres@127.0.0.1:5432/test?sslmode=disable.
const EnvVar = "CLM_TEST_DATABASE_URL"

// BaseURL returns the test server's URL, or skips t with a message when
// none is set.
func BaseURL(t testing.TB) string {
	t.Helper()
	base := os.Getenv(EnvVar)
	if base == "" {
		t.Skip("PostgreSQL tests skipped: set " + EnvVar + " (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable) to run them")
	}
	return base
}

// Schema creates an empty schema for t alone on the test server (skipping
// t when there is none), drops it with everything in it when t ends, and
// returns a URL whose connections use it, and its name.
func Schema(t testing.TB) (dbURL, schema string) {
	t.Helper()
	base := BaseURL(t)
	var rnd [8]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		t.Fatal(err)
	}
	schema = "clm_test_" + hex.EncodeToString(rnd[:])
	exec(t, base, "CREATE SCHEMA "+schema)
	t.Cleanup(func() { exec(t, base, "DROP SCHEMA "+schema+" CASCADE") })
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("%s does not parse: %v", EnvVar, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), schema
}

// exec runs one statement on its own connection to base.
func exec(t testing.TB, base, sql string) {
	t.Helper()
	ctx := context.Background()
	c, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("connecting to %s: %v", EnvVar, err)
	}
	defer func() { _ = c.Close(ctx) }()
	if _, err := c.Exec(ctx, sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}
