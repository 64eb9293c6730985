package doctor

import (
	"context"
	"fmt"
	"net/url"

	"github.com/clmbridge/clmbridge/storage"
)

// Postgres says where the bridge keeps its store when CLM_DATABASE_URL is
// set.
type Postgres struct {
	URL string // CLM_DATABASE_URL; may hold a password, never shown
}

// Check connects to the database and reports the connection, the store's
// schema version, and (for a server that is not on this machine) whether
// the connection is encrypted and the server's certificate checked. It
// never creates or migrates anything. No finding holds the password.
func (p Postgres) Check(ctx context.Context) []Finding {
	const area = "store"
	shown := storage.RedactURL(p.URL)
	st, err := storage.ProbePostgres(ctx, p.URL)
	if err != nil {
		return []Finding{{Area: area, Level: Fail, What: "cannot reach the store in PostgreSQL: " + err.Error(),
			Fix: "check CLM_DATABASE_URL, that the server runs and that it accepts this user from here"}}
	}
	fs := []Finding{{Area: area, Level: OK, What: fmt.Sprintf("connected to PostgreSQL %s at %s", st.Server, shown)}}
	fs = append(fs, schemaFinding(st))
	fs = append(fs, tlsFindings(st, sslMode(p.URL))...)
	for i := range fs {
		fs[i].Area = area
	}
	return fs
}

// schemaFinding compares the database's schema version with the
// program's.
func schemaFinding(st storage.PostgresStatus) Finding {
	switch v, known := st.SchemaVersion, st.KnownVersion; {
	case v == 0:
		return Finding{Level: Info, What: "no store in this database yet; the bridge creates its tables at first start"}
	case v < known:
		return Finding{Level: Info, What: fmt.Sprintf("the store has schema version %d; the bridge migrates it to %d at its next start", v, known)}
	case v > known:
		return Finding{Level: Fail, What: fmt.Sprintf("the store has schema version %d, newer than this program knows (%d)", v, known),
			Fix: "upgrade the bridge to the version that wrote this database"}
	}
	return Finding{Level: OK, What: fmt.Sprintf("the store is at schema version %d", st.SchemaVersion)}
}

// tlsFindings judges the connection's encryption. On this machine
// (loopback or a Unix socket) nothing crosses a network; elsewhere the
// connection must be encrypted, and only sslmode=verify-full checks that
// the server is the one named.
func tlsFindings(st storage.PostgresStatus, mode string) []Finding {
	switch {
	case st.Local:
		return []Finding{{Level: Info, What: "the PostgreSQL server is on this machine (loopback or socket): TLS is not needed"}}
	case !st.TLS:
		return []Finding{{Level: Fail, What: "the connection to the PostgreSQL server is not encrypted: message metadata and sealed rows cross the network in clear",
			Fix: "enable TLS on the server and add sslmode=verify-full to CLM_DATABASE_URL"}}
	case mode != "verify-full":
		return []Finding{{Level: Warn, What: "the connection is encrypted but the server's certificate is not checked (sslmode=" + mode + ")",
			Fix: "add sslmode=verify-full (and sslrootcert= if the server's CA is private) to CLM_DATABASE_URL"}}
	}
	return []Finding{{Level: OK, What: "the connection to the PostgreSQL server is encrypted and its certificate checked (verify-full)"}}
}

// sslMode is the URL's sslmode, or libpq's default "prefer".
func sslMode(dbURL string) string {
	u, err := url.Parse(dbURL)
	if err != nil {
		return "prefer"
	}
	if m := u.Query().Get("sslmode"); m != "" {
		return m
	}
	return "prefer"
}
