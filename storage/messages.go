package storage

import (
	"bytes"
	"context"
	"crypto/cipher"
	"database/sql"
	"fmt"
	"math"
	"strings"
	"sync"
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
	// ID is the message's number in its chat: 1, 2, 3… in the order its
	// member saved them, never reused in that chat, and independent of
	// every other chat and member (so it tells nothing about what others
	// save). Trash, Restore and Purge take it.
	ID int64
	NewMessage
	Saved     time.Time
	DeletedAt *time.Time // in the trash when not nil
	// Damaged marks a row that fails its integrity check (a bit flipped on
	// disk, or the row edited, moved or swapped with another): only ID,
	// Saved and DeletedAt are set, nothing of it is shown, and Purge
	// removes it. Listings return it in its place rather than failing, so
	// one damaged row does not hide the rest of the chat.
	Damaged bool
}

// SaveMessage seals and saves m in the key's chat and returns its number
// in the chat (Message.ID). Saving the same pointer text again in the same
// chat returns the existing number and created=false and changes nothing
// (not even a trashed message's place in the trash). When SaveMessage
// returns, the message is committed: it survives a crash of the process
// (see Options.FullSync for power loss).
func (s *Store) SaveMessage(ctx context.Context, key *ChatKey, m NewMessage) (num int64, created bool, err error) {
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
		version: adCurrent, memberID: key.memberID, chatID: key.chatID, pointerHash: ph[:],
		direction: m.Direction, epoch: m.Epoch, authenticated: m.Authenticated,
		srcPlatform: []byte(m.Source.Platform), srcChannel: []byte(m.Source.Channel), srcMessageID: []byte(m.Source.MessageID),
	}
	plain := appendPayload(nil, m.Username, m.Pointer, m.Nonce, m.Text)
	defer clear(plain)
	now := unixNano(s.now())
	var buf [512]byte
	// The number is bound into the seal, so it is chosen before sealing.
	// Fast path: guess it from the last number this store gave the chat,
	// and insert in one autocommit statement only if the key is current,
	// the pointer is new, and the guess is free and above every number
	// ever deleted from the chat. That makes it the chat's next number:
	// numbers are handed out in turn, so every number up to the highest
	// ever given is in use or was deleted, and a guess is at most one
	// above the highest. Exec steps the statement to completion, so the
	// commit has happened (or failed) when it returns.
	if guess, ok := s.nums.next(key.chatID); ok {
		f.num = guess
		sealed, err := seal(a, plain, appendAD(buf[:0], f))
		if err != nil {
			return 0, false, err
		}
		res, err := s.w.ExecContext(ctx,
			`INSERT INTO messages (id, chat_id, num, ad_version, pointer_hash, direction, epoch, authenticated,
			  src_platform, src_channel, src_message_id, sealed, saved)
			 SELECT `+s.d.nextMessageID+`, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?
			 WHERE EXISTS (SELECT 1 FROM chats WHERE id = ? AND member_id = ? AND kdf_salt = ? AND num_floor < ?`+s.d.shareChat+`)
			 ON CONFLICT DO NOTHING`,
			key.chatID, guess, adCurrent, ph[:], string(m.Direction), m.Epoch, m.Authenticated,
			m.Source.Platform, m.Source.Channel, m.Source.MessageID, sealed, now,
			key.chatID, key.memberID, key.salt, guess)
		if err != nil {
			return 0, false, dbErr("saving message", err)
		}
		if n, err := res.RowsAffected(); err == nil && n == 1 {
			s.nums.saw(key.chatID, guess)
			return guess, true, nil
		}
	}
	// Nothing inserted: no guess, or the key is stale, the pointer saved
	// already, or the guess wrong (another process saved meanwhile). Find
	// out in a transaction, inserting if the pointer is new.
	err = s.write(ctx, func(tx dbtx) error {
		if err := checkKey(ctx, tx, key, s.d.lockChat); err != nil {
			return err
		}
		var saved sql.NullInt64
		err := tx.QueryRowContext(ctx, `SELECT
			(SELECT num FROM messages WHERE chat_id = ? AND pointer_hash = ?), `+s.d.nextMessageNum,
			key.chatID, ph[:], key.chatID, key.chatID).Scan(&saved, &num)
		if err != nil {
			return dbErr("saving message", err)
		}
		if saved.Valid {
			num = saved.Int64
			return nil
		}
		f.num = num
		sealed, err := seal(a, plain, appendAD(buf[:0], f))
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx,
			`INSERT INTO messages (id, chat_id, num, ad_version, pointer_hash, direction, epoch, authenticated,
			  src_platform, src_channel, src_message_id, sealed, saved)
			 SELECT `+s.d.nextMessageID+`, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?`,
			key.chatID, num, adCurrent, ph[:], string(m.Direction), m.Epoch, m.Authenticated,
			m.Source.Platform, m.Source.Channel, m.Source.MessageID, sealed, now)
		if err != nil {
			return dbErr("saving message", err)
		}
		created = true
		return nil
	})
	if err != nil {
		return 0, false, err
	}
	if created {
		s.nums.saw(key.chatID, num)
	}
	return num, created, nil
}

// numHints remembers, per chat, the last number this store gave a
// message, so a save can seal under its number and insert in one
// statement. It is only a guess: the insert checks it against the
// database, and a wrong one costs the transaction path, never a wrong
// number. It forgets everything when it holds maxNumHints chats.
type numHints struct {
	mu   sync.Mutex
	last map[int64]int64
}

// maxNumHints bounds the memory of numHints: 16 bytes a chat.
const maxNumHints = 1 << 16

// next returns the guessed next number of chat.
func (h *numHints) next(chat int64) (int64, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	n, ok := h.last[chat]
	return n + 1, ok
}

// saw records that chat's message number num was just saved.
func (h *numHints) saw(chat, num int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.last == nil || len(h.last) >= maxNumHints {
		h.last = make(map[int64]int64)
	}
	if num > h.last[chat] {
		h.last[chat] = num
	}
}

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
	sealCols = `num, ad_version, pointer_hash, direction, epoch, authenticated, sealed,
	src_platform, src_channel, src_message_id`
	messageCols = sealCols + `, saved, deleted_at`
)

// opener scans message rows of one chat and opens them, reusing its
// buffers: scanning and opening a row allocates only what the driver does.
type opener struct {
	a                cipher.AEAD
	memberID, chatID int64
	ad, plain        []byte

	num, adVersion   int64
	ph, dir, sealed  sql.RawBytes
	srcP, srcC, srcM sql.RawBytes
	epoch, saved     int64
	auth             bool
	deleted          sql.NullInt64
	dest             []any
	direction        Direction
	payload          payload
	damaged          bool // the row last scanned failed to open
}

// newOpener returns an opener for rows selecting messageCols (full) or
// sealCols.
func newOpener(a cipher.AEAD, key *ChatKey, full bool) *opener {
	o := &opener{a: a, memberID: key.memberID, chatID: key.chatID}
	o.dest = []any{&o.num, &o.adVersion, &o.ph, &o.dir, &o.epoch, &o.auth, &o.sealed, &o.srcP, &o.srcC, &o.srcM}
	if full {
		o.dest = append(o.dest, &o.saved, &o.deleted)
	}
	return o
}

// scanOpen scans the current row and opens its seal. A row that fails to
// open is no error: it is marked damaged and its number kept.
func (o *opener) scanOpen(rows *sql.Rows) error {
	if err := rows.Scan(o.dest...); err != nil {
		return dbErr("reading messages", err)
	}
	o.damaged = !o.open()
	return nil
}

// open opens the scanned row's seal; false if it fails its integrity
// check.
func (o *opener) open() bool {
	switch string(o.dir) {
	case string(Sent):
		o.direction = Sent
	case string(Received):
		o.direction = Received
	default:
		return false
	}
	o.ad = appendAD(o.ad[:0], adFields{
		version: o.adVersion, memberID: o.memberID, chatID: o.chatID, num: o.num, pointerHash: o.ph,
		direction: o.direction, epoch: o.epoch, authenticated: o.auth,
		srcPlatform: o.srcP, srcChannel: o.srcC, srcMessageID: o.srcM,
	})
	plain, err := open(o.a, o.plain[:0], o.sealed, o.ad)
	if err != nil {
		return false
	}
	o.plain = plain
	o.payload, err = parsePayload(o.plain)
	return err == nil
}

// message builds the Message of the row last scanned (with a lean opener,
// Saved and DeletedAt are left for the caller to fill). A damaged row
// gives its number and times only.
func (o *opener) message() Message {
	m := Message{ID: o.num, Saved: fromUnixNano(o.saved), Damaged: o.damaged}
	if !o.damaged {
		m.NewMessage = NewMessage{
			Direction:     o.direction,
			Epoch:         o.epoch,
			Nonce:         string(o.payload.nonce),
			Pointer:       string(o.payload.pointer),
			Authenticated: o.auth,
			Username:      string(o.payload.username),
			Text:          string(o.payload.text),
			Source:        Source{Platform: string(o.srcP), Channel: string(o.srcC), MessageID: string(o.srcM)},
		}
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
		if err := checkKey(ctx, tx, key, ""); err != nil {
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

// Batches of eachLiveMessageNewestFirst: the first is small, for a
// search that fills its limit among the newest messages; each next one
// doubles, up to the last size.
const (
	firstScanBatch = 64
	lastScanBatch  = 4096
)

// eachLiveMessageNewestFirst is eachMessage (lean) over the chat's
// messages not in the trash, newest first. On PostgreSQL it reads them in
// batches of growing size by row id, in one snapshot: a client cannot
// stop the server sending the rest of a result it no longer wants, so a
// search that stops early reads a batch, not the whole chat. SQLite
// steps a query only as far as it is read, so there one query does.
func (s *Store) eachLiveMessageNewestFirst(ctx context.Context, key *ChatKey, fn func(o *opener) bool,
	after func(tx dbtx) error) error {
	if !s.d.batchScans {
		return s.eachMessage(ctx, key, false, fn, after,
			`SELECT `+sealCols+` FROM messages WHERE chat_id = ? AND deleted_at IS NULL ORDER BY id DESC`, chatIDOf(key))
	}
	a, err := key.aead()
	if err != nil {
		return err
	}
	return s.read(ctx, func(tx dbtx) error {
		if err := checkKey(ctx, tx, key, ""); err != nil {
			return err
		}
		o := newOpener(a, key, false)
		defer o.wipe()
		var id int64
		dest := append([]any{&id}, o.dest...)
		before, batch := int64(math.MaxInt64), firstScanBatch
		for {
			n, stopped, err := func() (n int, stopped bool, err error) {
				rows, err := tx.QueryContext(ctx, `SELECT id, `+sealCols+` FROM messages
					WHERE chat_id = ? AND deleted_at IS NULL AND id < ? ORDER BY id DESC LIMIT ?`, key.chatID, before, batch)
				if err != nil {
					return 0, false, dbErr("reading messages", err)
				}
				defer rows.Close()
				for rows.Next() {
					n++
					if err := rows.Scan(dest...); err != nil {
						return n, false, dbErr("reading messages", err)
					}
					before = id
					o.damaged = !o.open()
					if !fn(o) {
						return n, true, nil
					}
				}
				return n, false, dbErr("reading messages", rows.Err())
			}()
			if err != nil {
				return err
			}
			if stopped || n < batch {
				break
			}
			batch = min(2*batch, lastScanBatch)
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
// they were saved). A message that fails to open is returned in its place
// marked Damaged.
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
// lower-casing on both sides. Messages that fail to open on the way (up to
// limit of them) are returned too, in their place, marked Damaged: they
// could not be searched.
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
		out              []Message
		lower            []byte
		matches, damaged int
	)
	defer func() { clear(lower[:cap(lower)]) }()
	// The scan reads only what opening needs; the few matches get their
	// times afterwards, in the same snapshot.
	err := s.eachLiveMessageNewestFirst(ctx, key, func(o *opener) bool {
		if o.damaged {
			if damaged < limit {
				out = append(out, o.message())
				damaged++
			}
			return true
		}
		lower = appendLower(lower[:0], o.payload.text)
		if bytes.Contains(lower, needle) {
			out = append(out, o.message())
			matches++
		}
		return matches < limit
	}, func(tx dbtx) error {
		for i := range out {
			m := &out[i]
			var (
				saved   int64
				deleted sql.NullInt64
			)
			err := tx.QueryRowContext(ctx, `SELECT saved, deleted_at FROM messages WHERE chat_id = ? AND num = ?`,
				chatIDOf(key), m.ID).Scan(&saved, &deleted)
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
	})
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

// ListTrash returns the chat's trashed messages, newest first; one that
// fails to open is returned in its place marked Damaged.
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

// changeMessage runs one statement on message number num of key's chat,
// after checking key; the statement's last two parameters must be num and
// chat id.
func (s *Store) changeMessage(ctx context.Context, key *ChatKey, doing, stmt string, args ...any) error {
	if _, err := key.aead(); err != nil {
		return err
	}
	return s.write(ctx, func(tx dbtx) error {
		if err := checkKey(ctx, tx, key, s.d.lockChat); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, stmt, append(args, key.chatID)...)
		return affectedOne(res, err, doing, "this chat has no message with that number")
	})
}

// Trash moves message number num (Message.ID) to the trash. Trashing a
// message already there keeps its original time.
func (s *Store) Trash(ctx context.Context, key *ChatKey, num int64) error {
	if err := s.enter(); err != nil {
		return err
	}
	defer s.leave()
	return s.changeMessage(ctx, key, "moving message to trash",
		`UPDATE messages SET deleted_at = coalesce(deleted_at, ?) WHERE num = ? AND chat_id = ?`,
		unixNano(s.now()), num)
}

// Restore takes message number num out of the trash (a message not in
// the trash stays as it is).
func (s *Store) Restore(ctx context.Context, key *ChatKey, num int64) error {
	if err := s.enter(); err != nil {
		return err
	}
	defer s.leave()
	return s.changeMessage(ctx, key, "restoring message",
		`UPDATE messages SET deleted_at = NULL WHERE num = ? AND chat_id = ?`, num)
}

// Purge deletes message number num for good, whether or not it is in the
// trash. It also removes a message that fails to open (Damaged).
func (s *Store) Purge(ctx context.Context, key *ChatKey, num int64) error {
	if err := s.enter(); err != nil {
		return err
	}
	defer s.leave()
	return s.changeMessage(ctx, key, "purging message",
		`DELETE FROM messages WHERE num = ? AND chat_id = ?`, num)
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
		if err := checkKey(ctx, tx, key, s.d.lockChat); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM messages WHERE chat_id = ?`, key.chatID)
		return dbErr("clearing chat", err)
	})
}
