package storage

import (
	"bytes"
	"context"
	"crypto/cipher"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Direction says whether the member sent or received a message.
type Direction string

// The two directions.
const (
	Sent     Direction = "sent"
	Received Direction = "received"
)

// Source is where a pointer was seen (all optional). It is stored in clear,
// as metadata, and bound into the message's seal.
type Source struct {
	Platform  string
	Channel   string
	MessageID string
}

// NewMessage is a message to save. Username, Text, Pointer and Nonce are
// sealed; Direction, Epoch, Authenticated and Source are stored in clear
// but bound into the seal, so editing them on disk makes the message fail
// to open.
type NewMessage struct {
	Direction     Direction
	Epoch         int64
	Nonce         string
	Pointer       string // the public pointer text, in canonical form (clm.Pointer.String)
	Authenticated bool
	Username      string // the sender's nickname (sealed)
	Text          string // the message (sealed)
	Source        Source
}

// Message is a stored message, opened with the chat's key.
type Message struct {
	ID int64
	NewMessage
	Saved     time.Time
	DeletedAt *time.Time // in the trash when not nil
}

// SaveMessage seals and saves m in the key's chat. Saving the same pointer
// text again in the same chat returns the existing id and created=false and
// changes nothing (not even a trashed message's place in the trash). When
// SaveMessage returns, the message is committed: it survives a crash of the
// process (see Options.FullSync for power loss).
func (s *Store) SaveMessage(ctx context.Context, key *ChatKey, m NewMessage) (id int64, created bool, err error) {
	if err := s.enter(); err != nil {
		return 0, false, err
	}
	defer s.leave()
	if err := checkNewMessage(m); err != nil {
		return 0, false, err
	}
	a, err := key.aead()
	if err != nil {
		return 0, false, err
	}
	ph := pointerHash(m.Pointer)
	f := adFields{
		memberID: key.memberID, chatID: key.chatID, pointerHash: ph[:],
		direction: m.Direction, epoch: m.Epoch, authenticated: m.Authenticated,
		srcPlatform: []byte(m.Source.Platform), srcChannel: []byte(m.Source.Channel), srcMessageID: []byte(m.Source.MessageID),
	}
	var buf [512]byte
	ad := appendAD(buf[:0], f)
	plain := appendPayload(nil, m.Username, m.Pointer, m.Nonce, m.Text)
	sealed, err := seal(a, plain, ad)
	clear(plain)
	if err != nil {
		return 0, false, err
	}
	now := unixNano(s.now())
	// Fast path: one autocommit statement that inserts only if the key is
	// current and the pointer is new. Exec steps it to completion, so the
	// commit has happened (or failed) when it returns.
	res, err := s.w.ExecContext(ctx,
		`INSERT INTO messages (id, chat_id, pointer_hash, direction, epoch, authenticated,
		  src_platform, src_channel, src_message_id, sealed, saved)
		 SELECT `+nextMessageID+`, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?
		 WHERE EXISTS (SELECT 1 FROM chats WHERE id = ? AND member_id = ? AND kdf_salt = ?)
		 ON CONFLICT (chat_id, pointer_hash) DO NOTHING`,
		key.chatID, ph[:], string(m.Direction), m.Epoch, m.Authenticated,
		m.Source.Platform, m.Source.Channel, m.Source.MessageID, sealed, now,
		key.chatID, key.memberID, key.salt)
	if err != nil {
		return 0, false, dbErr("saving message", err)
	}
	if n, err := res.RowsAffected(); err == nil && n == 1 {
		if id, err = res.LastInsertId(); err == nil {
			return id, true, nil
		}
	}
	// Nothing inserted: the key is stale or the pointer is saved already.
	// Find out which in a transaction, inserting if it was neither (the
	// chat changed in between).
	err = s.write(ctx, func(tx dbtx) error {
		if err := checkKey(ctx, tx, key); err != nil {
			return err
		}
		err := tx.QueryRowContext(ctx,
			`INSERT INTO messages (id, chat_id, pointer_hash, direction, epoch, authenticated,
			  src_platform, src_channel, src_message_id, sealed, saved)
			 SELECT `+nextMessageID+`, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?
			 WHERE true
			 ON CONFLICT (chat_id, pointer_hash) DO NOTHING RETURNING id`,
			key.chatID, ph[:], string(m.Direction), m.Epoch, m.Authenticated,
			m.Source.Platform, m.Source.Channel, m.Source.MessageID, sealed, now).Scan(&id)
		if err == nil {
			created = true
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return dbErr("saving message", err)
		}
		err = tx.QueryRowContext(ctx, `SELECT id FROM messages WHERE chat_id = ? AND pointer_hash = ?`,
			key.chatID, ph[:]).Scan(&id)
		return dbErr("finding saved message", err)
	})
	if err != nil {
		return 0, false, err
	}
	return id, created, nil
}

// nextMessageID is the SQL for a new message id: above every id in use and
// every id ever deleted (see the messages_id_floor trigger), so an id a
// member saw never names another message later.
const nextMessageID = `max((SELECT coalesce(max(id), 0) FROM messages), (SELECT floor FROM message_id_floor)) + 1`

// Page selects a page of history: newest first, Size messages (1 to
// MaxPageSize), Page from 0.
type Page struct {
	Size int
	Page int
}

// sealCols are the columns a lean opener scans, in order: just enough to
// open the seal (every column bound into it); messageCols are the columns
// a full opener scans: those and the times.
const (
	sealCols = `id, pointer_hash, direction, epoch, authenticated, sealed,
	src_platform, src_channel, src_message_id`
	messageCols = sealCols + `, saved, deleted_at`
)

// opener scans message rows of one chat and opens them, reusing its
// buffers: scanning and opening a row allocates only what the driver does.
type opener struct {
	a                cipher.AEAD
	memberID, chatID int64
	ad, plain        []byte

	id               int64
	ph, dir, sealed  sql.RawBytes
	srcP, srcC, srcM sql.RawBytes
	epoch, saved     int64
	auth             bool
	deleted          sql.NullInt64
	dest             []any
	direction        Direction
	payload          payload
}

// newOpener returns an opener for rows selecting messageCols (full) or
// sealCols.
func newOpener(a cipher.AEAD, key *ChatKey, full bool) *opener {
	o := &opener{a: a, memberID: key.memberID, chatID: key.chatID}
	o.dest = []any{&o.id, &o.ph, &o.dir, &o.epoch, &o.auth, &o.sealed, &o.srcP, &o.srcC, &o.srcM}
	if full {
		o.dest = append(o.dest, &o.saved, &o.deleted)
	}
	return o
}

// scanOpen scans the current row and opens its seal.
func (o *opener) scanOpen(rows *sql.Rows) error {
	if err := rows.Scan(o.dest...); err != nil {
		return dbErr("reading messages", err)
	}
	switch string(o.dir) {
	case string(Sent):
		o.direction = Sent
	case string(Received):
		o.direction = Received
	default:
		return corruptErr(o.id)
	}
	o.ad = appendAD(o.ad[:0], adFields{
		memberID: o.memberID, chatID: o.chatID, pointerHash: o.ph,
		direction: o.direction, epoch: o.epoch, authenticated: o.auth,
		srcPlatform: o.srcP, srcChannel: o.srcC, srcMessageID: o.srcM,
	})
	var err error
	o.plain, err = open(o.a, o.plain[:0], o.sealed, o.ad)
	if err != nil {
		return corruptErr(o.id)
	}
	o.payload, err = parsePayload(o.plain)
	if err != nil {
		return corruptErr(o.id)
	}
	return nil
}

// message builds the Message of the row last opened (with a lean opener,
// Saved and DeletedAt are left for the caller to fill).
func (o *opener) message() Message {
	m := Message{
		ID: o.id,
		NewMessage: NewMessage{
			Direction:     o.direction,
			Epoch:         o.epoch,
			Nonce:         string(o.payload.nonce),
			Pointer:       string(o.payload.pointer),
			Authenticated: o.auth,
			Username:      string(o.payload.username),
			Text:          string(o.payload.text),
			Source:        Source{Platform: string(o.srcP), Channel: string(o.srcC), MessageID: string(o.srcM)},
		},
		Saved: fromUnixNano(o.saved),
	}
	if o.deleted.Valid {
		t := fromUnixNano(o.deleted.Int64)
		m.DeletedAt = &t
	}
	return m
}

// wipe clears the opener's plaintext buffer.
func (o *opener) wipe() { clear(o.plain[:cap(o.plain)]) }

// eachMessage runs query (selecting messageCols, or sealCols when !full)
// in a read transaction after checking key, and calls fn with every row
// opened; fn returns false to stop early. after, if not nil, then runs in
// the same transaction.
func (s *Store) eachMessage(ctx context.Context, key *ChatKey, full bool, fn func(o *opener) bool,
	after func(tx dbtx) error, query string, args ...any) error {
	a, err := key.aead()
	if err != nil {
		return err
	}
	return s.read(ctx, func(tx dbtx) error {
		if err := checkKey(ctx, tx, key); err != nil {
			return err
		}
		if err := scanMessages(ctx, tx, newOpener(a, key, full), fn, query, args...); err != nil {
			return err
		}
		if after != nil {
			return after(tx)
		}
		return nil
	})
}

func scanMessages(ctx context.Context, tx dbtx, o *opener, fn func(o *opener) bool, query string, args ...any) error {
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return dbErr("reading messages", err)
	}
	defer rows.Close()
	defer o.wipe()
	for rows.Next() {
		if err := o.scanOpen(rows); err != nil {
			return err
		}
		if !fn(o) {
			return nil
		}
	}
	return dbErr("reading messages", rows.Err())
}

// History returns messages not in the trash, newest first (in the order
// they were saved). A message that fails to open fails the call with
// ErrCorrupt naming its id.
func (s *Store) History(ctx context.Context, key *ChatKey, p Page) ([]Message, error) {
	if err := s.enter(); err != nil {
		return nil, err
	}
	defer s.leave()
	if err := checkPage(p); err != nil {
		return nil, err
	}
	out := make([]Message, 0, p.Size)
	err := s.eachMessage(ctx, key, true, func(o *opener) bool {
		out = append(out, o.message())
		return true
	}, nil, `SELECT `+messageCols+` FROM messages WHERE chat_id = ? AND deleted_at IS NULL
		ORDER BY id DESC LIMIT ? OFFSET ?`, chatIDOf(key), p.Size, p.Page*p.Size)
	if err != nil {
		return nil, err
	}
	return out, nil
}

// chatIDOf is the key's chat id, or 0 for a nil key (which eachMessage
// then refuses).
func chatIDOf(k *ChatKey) int64 {
	if k == nil {
		return 0
	}
	return k.chatID
}

// Search returns up to limit (1 to MaxPageSize) messages whose text
// contains query, ignoring case, newest first, not in the trash. The text
// is sealed, so it decrypts the chat's messages one by one, reusing one
// buffer, and stops at limit matches. Case is folded with Unicode simple
// lower-casing on both sides.
func (s *Store) Search(ctx context.Context, key *ChatKey, query string, limit int) ([]Message, error) {
	if err := s.enter(); err != nil {
		return nil, err
	}
	defer s.leave()
	switch {
	case strings.TrimSpace(query) == "":
		return nil, fmt.Errorf("%w: the search text is empty", ErrInvalid)
	case !utf8.ValidString(query):
		return nil, fmt.Errorf("%w: the search text is not valid UTF-8", ErrInvalid)
	case utf8.RuneCountInString(query) > maxQueryRunes:
		return nil, fmt.Errorf("%w: the search text is longer than %d characters", ErrInvalid, maxQueryRunes)
	case limit < 1 || limit > MaxPageSize:
		return nil, fmt.Errorf("%w: the search limit must be 1..%d", ErrInvalid, MaxPageSize)
	}
	needle := appendLower(nil, []byte(query))
	var (
		out   []Message
		lower []byte
	)
	defer func() { clear(lower[:cap(lower)]) }()
	// The scan reads only what opening needs; the few matches get their
	// times afterwards, in the same snapshot.
	err := s.eachMessage(ctx, key, false, func(o *opener) bool {
		lower = appendLower(lower[:0], o.payload.text)
		if bytes.Contains(lower, needle) {
			out = append(out, o.message())
		}
		return len(out) < limit
	}, func(tx dbtx) error {
		for i := range out {
			m := &out[i]
			var (
				saved   int64
				deleted sql.NullInt64
			)
			err := tx.QueryRowContext(ctx, `SELECT saved, deleted_at FROM messages WHERE id = ?`, m.ID).Scan(&saved, &deleted)
			if err != nil {
				return dbErr("reading messages", err)
			}
			m.Saved = fromUnixNano(saved)
			if deleted.Valid {
				t := fromUnixNano(deleted.Int64)
				m.DeletedAt = &t
			}
		}
		return nil
	}, `SELECT `+sealCols+` FROM messages WHERE chat_id = ? AND deleted_at IS NULL ORDER BY id DESC`,
		chatIDOf(key))
	if err != nil {
		return nil, err
	}
	return out, nil
}

// appendLower appends s lower-cased (unicode.ToLower per code point, with
// an ASCII fast path) to dst.
func appendLower(dst, s []byte) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			dst = append(dst, c)
			i++
			continue
		}
		r, n := utf8.DecodeRune(s[i:])
		dst = utf8.AppendRune(dst, unicode.ToLower(r))
		i += n
	}
	return dst
}

// ListTrash returns the chat's trashed messages, newest first.
func (s *Store) ListTrash(ctx context.Context, key *ChatKey) ([]Message, error) {
	if err := s.enter(); err != nil {
		return nil, err
	}
	defer s.leave()
	var out []Message
	err := s.eachMessage(ctx, key, true, func(o *opener) bool {
		out = append(out, o.message())
		return true
	}, nil, `SELECT `+messageCols+` FROM messages WHERE chat_id = ? AND deleted_at IS NOT NULL ORDER BY id DESC`,
		chatIDOf(key))
	if err != nil {
		return nil, err
	}
	return out, nil
}

// changeMessage runs one statement on message id of key's chat, after
// checking key; the statement's last two parameters must be id and chat id.
func (s *Store) changeMessage(ctx context.Context, key *ChatKey, doing, stmt string, args ...any) error {
	if _, err := key.aead(); err != nil {
		return err
	}
	return s.write(ctx, func(tx dbtx) error {
		if err := checkKey(ctx, tx, key); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, stmt, append(args, key.chatID)...)
		return affectedOne(res, err, doing, "this chat has no message with that id")
	})
}

// Trash moves a message to the trash. Trashing a message already there
// keeps its original time.
func (s *Store) Trash(ctx context.Context, key *ChatKey, id int64) error {
	if err := s.enter(); err != nil {
		return err
	}
	defer s.leave()
	return s.changeMessage(ctx, key, "moving message to trash",
		`UPDATE messages SET deleted_at = coalesce(deleted_at, ?) WHERE id = ? AND chat_id = ?`,
		unixNano(s.now()), id)
}

// Restore takes a message out of the trash (a message not in the trash
// stays as it is).
func (s *Store) Restore(ctx context.Context, key *ChatKey, id int64) error {
	if err := s.enter(); err != nil {
		return err
	}
	defer s.leave()
	return s.changeMessage(ctx, key, "restoring message",
		`UPDATE messages SET deleted_at = NULL WHERE id = ? AND chat_id = ?`, id)
}

// Purge deletes a message for good, whether or not it is in the trash.
// It also removes a message that fails to open.
func (s *Store) Purge(ctx context.Context, key *ChatKey, id int64) error {
	if err := s.enter(); err != nil {
		return err
	}
	defer s.leave()
	return s.changeMessage(ctx, key, "purging message",
		`DELETE FROM messages WHERE id = ? AND chat_id = ?`, id)
}

// ClearChat deletes every message of the chat, trash included (the chat
// and its secret stay).
func (s *Store) ClearChat(ctx context.Context, key *ChatKey) error {
	if err := s.enter(); err != nil {
		return err
	}
	defer s.leave()
	if _, err := key.aead(); err != nil {
		return err
	}
	return s.write(ctx, func(tx dbtx) error {
		if err := checkKey(ctx, tx, key); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM messages WHERE chat_id = ?`, key.chatID)
		return dbErr("clearing chat", err)
	})
}
