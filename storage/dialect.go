package storage

import (
	"context"
	"database/sql"
	"strconv"
	"strings"
)

// dialect is what differs between the two backends' SQL. Everything else
// (every query, the sealing, the associated data) is shared: queries are
// written once with '?' placeholders, which the PostgreSQL pool rewrites to
// $1, $2….
type dialect struct {
	name string // "sqlite" or "postgres", for errors and doctor
	// dollar rewrites '?' placeholders as $n (PostgreSQL).
	dollar bool
	// beginWrite and beginRead start a write and a read-only snapshot
	// transaction; endRead ends the latter.
	beginWrite, beginRead, endRead string
	// nextMessageID is the SQL expression for a new row id, never reused.
	nextMessageID string
	// nextMessageNum is the SQL expression for the next number in a chat;
	// its two parameters are the chat id.
	nextMessageNum string
	// lockChat follows a SELECT of a chat row in a write transaction: it
	// makes writers to one chat (from any process) take turns, so two of
	// them never pick the same number or seal under a key being changed.
	// shareChat does the same for the one-statement save, which may run
	// beside other saves of the chat but never beside a rekey or purge.
	lockChat, shareChat string
	// batchScans reads long scans that may stop early (Search) in
	// batches, because the server sends a whole result however little of
	// it is read.
	batchScans bool
}

// sqliteDialect: one write connection already makes writers take turns,
// and BEGIN IMMEDIATE takes the file's write lock up front.
func sqliteDialect() *dialect {
	return &dialect{
		name:       "sqlite",
		beginWrite: "BEGIN IMMEDIATE", beginRead: "BEGIN", endRead: "ROLLBACK",
		nextMessageID: `max((SELECT coalesce(max(id), 0) FROM messages), (SELECT floor FROM message_id_floor)) + 1`,
		nextMessageNum: `max((SELECT coalesce(max(num), 0) FROM messages WHERE chat_id = ?),
	(SELECT num_floor FROM chats WHERE id = ?)) + 1`,
	}
}

// postgresDialect: several processes may write at once, so writes lock
// the chat row they touch; reads run in a REPEATABLE READ snapshot, as
// SQLite's read transactions do. Row ids come from a sequence, which never
// hands out a number twice.
func postgresDialect() *dialect {
	return &dialect{
		name:       "postgres",
		dollar:     true,
		beginWrite: "BEGIN", beginRead: "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", endRead: "ROLLBACK",
		nextMessageID: `nextval('messages_id_seq')`,
		nextMessageNum: `greatest((SELECT coalesce(max(num), 0) FROM messages WHERE chat_id = ?),
	(SELECT num_floor FROM chats WHERE id = ?)) + 1`,
		lockChat:   " FOR UPDATE",
		shareChat:  " FOR SHARE",
		batchScans: true,
	}
}

// bind rewrites query's '?' placeholders for the dialect: '?' is the next
// parameter, '?N' parameter N (as in SQLite). The store's SQL has no '?'
// inside string literals, so every '?' is a placeholder.
func (d *dialect) bind(query string) string {
	if !d.dollar || !strings.Contains(query, "?") {
		return query
	}
	var b strings.Builder
	b.Grow(len(query) + 16)
	n := 0
	for i := 0; i < len(query); i++ {
		if query[i] == '?' {
			b.WriteByte('$')
			if i+1 < len(query) && '0' <= query[i+1] && query[i+1] <= '9' {
				continue // ?N: the digits follow as they are
			}
			n++
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(query[i])
	}
	return b.String()
}

// pool is a connection pool that speaks the store's SQL in its dialect.
type pool struct {
	db *sql.DB
	d  *dialect
}

func (p pool) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return p.db.ExecContext(ctx, p.d.bind(query), args...)
}

func (p pool) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return p.db.QueryContext(ctx, p.d.bind(query), args...)
}

func (p pool) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	return p.db.QueryRowContext(ctx, p.d.bind(query), args...)
}

// conn is one connection of a pool, held for a transaction.
type conn struct {
	c *sql.Conn
	d *dialect
}

func (c conn) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return c.c.ExecContext(ctx, c.d.bind(query), args...)
}

func (c conn) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return c.c.QueryContext(ctx, c.d.bind(query), args...)
}

func (c conn) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	return c.c.QueryRowContext(ctx, c.d.bind(query), args...)
}

var (
	_ dbtx = pool{}
	_ dbtx = conn{}
)
