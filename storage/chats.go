package storage

import (
	"bytes"
	"context"
	"crypto/subtle"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"golang.org/x/crypto/chacha20poly1305"
)

// CreateChat creates the member's chat name with secret (ErrExists if the
// member already has a chat of that name) and returns it unlocked. The
// store keeps a random salt, the Argon2id parameters and a verifier; never
// the secret.
func (s *Store) CreateChat(ctx context.Context, memberID int64, name string, secret []byte) (*ChatKey, error) {
	if err := s.enter(); err != nil {
		return nil, err
	}
	defer s.leave()
	if err := checkChatName(name); err != nil {
		return nil, err
	}
	if err := checkSecret(secret); err != nil {
		return nil, err
	}
	// Fail fast, before spending an Argon2id run.
	var members, exists int
	err := s.r.QueryRowContext(ctx, `SELECT
		(SELECT count(*) FROM members WHERE id = ?),
		(SELECT count(*) FROM chats WHERE member_id = ? AND name = ?)`,
		memberID, memberID, name).Scan(&members, &exists)
	if err != nil {
		return nil, dbErr("looking up chat", err)
	}
	if members == 0 {
		return nil, fmt.Errorf("%w: no such member", ErrNotFound)
	}
	if exists > 0 {
		return nil, fmt.Errorf("%w: this member already has a chat of that name (unlock it, or pick another name)", ErrExists)
	}

	salt, err := newSalt()
	if err != nil {
		return nil, err
	}
	p := s.argon
	verifier, key, err := s.derive(ctx, secret, salt, p)
	if err != nil {
		return nil, err
	}
	defer clear(key[:])
	var id int64
	now := unixNano(s.now())
	err = s.write(ctx, func(tx dbtx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM members WHERE id = ?`, memberID).Scan(&n); err != nil {
			return dbErr("looking up member", err)
		}
		if n == 0 {
			return fmt.Errorf("%w: no such member", ErrNotFound)
		}
		err := tx.QueryRowContext(ctx,
			`INSERT INTO chats (member_id, name, kdf_salt, kdf_memory, kdf_time, kdf_threads, verifier, created, last_used)
			 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
			 ON CONFLICT (member_id, name) DO NOTHING RETURNING id`,
			memberID, name, salt, p.MemoryKiB, p.Time, p.Threads, verifier[:], now, now).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("%w: this member already has a chat of that name (unlock it, or pick another name)", ErrExists)
		}
		return dbErr("creating chat", err)
	})
	if err != nil {
		return nil, err
	}
	return newChatKey(memberID, id, name, salt, &key), nil
}

// UnlockChat verifies secret for the member's chat name (ErrNotFound,
// ErrWrongSecret) and returns it unlocked. The verifier is compared in
// constant time. Limiting guesses is the caller's job; each guess costs an
// Argon2id run, of which at most MaxConcurrentKDF run at once.
func (s *Store) UnlockChat(ctx context.Context, memberID int64, name string, secret []byte) (*ChatKey, error) {
	if err := s.enter(); err != nil {
		return nil, err
	}
	defer s.leave()
	if err := checkChatName(name); err != nil {
		return nil, err
	}
	if err := checkSecret(secret); err != nil {
		return nil, err
	}
	var (
		id             int64
		salt, verifier []byte
		p              Argon2Params
	)
	err := s.r.QueryRowContext(ctx,
		`SELECT id, kdf_salt, kdf_memory, kdf_time, kdf_threads, verifier FROM chats WHERE member_id = ? AND name = ?`,
		memberID, name).Scan(&id, &salt, &p.MemoryKiB, &p.Time, &p.Threads, &verifier)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%w: this member has no chat of that name (create it first)", ErrNotFound)
	}
	if err != nil {
		return nil, dbErr("looking up chat", err)
	}
	if err := p.validate(); err != nil || len(salt) != saltLen || len(verifier) != verifierLen {
		return nil, fmt.Errorf("%w: the chat's key parameters are damaged; restore a backup or delete the chat", ErrCorrupt)
	}
	got, key, err := s.derive(ctx, secret, salt, p)
	if err != nil {
		return nil, err
	}
	defer clear(key[:])
	if subtle.ConstantTimeCompare(got[:], verifier) != 1 {
		return nil, fmt.Errorf("%w: check the secret and try again", ErrWrongSecret)
	}
	err = s.write(ctx, func(tx dbtx) error {
		// Only if the chat was not rekeyed or deleted meanwhile.
		res, err := tx.ExecContext(ctx, `UPDATE chats SET last_used = ? WHERE id = ? AND kdf_salt = ?`,
			unixNano(s.now()), id, salt)
		return affectedOne(res, err, "marking chat used", "the chat was deleted or its secret changed meanwhile; unlock it again")
	})
	if err != nil {
		return nil, err
	}
	return newChatKey(memberID, id, name, salt, &key), nil
}

// checkKey verifies, inside tx, that key still addresses a chat of its
// member with the key generation it was unlocked at: a ChatKey of a
// deleted, or since rekeyed, chat is refused rather than sealing data no
// current key can open. lock (dialect.lockChat in a write, else empty)
// holds the chat row until the transaction ends.
func checkKey(ctx context.Context, tx dbtx, key *ChatKey, lock string) error {
	if key == nil || key.km == nil {
		return fmt.Errorf("%w: no chat key: unlock the chat first", ErrInvalid)
	}
	var salt []byte
	err := tx.QueryRowContext(ctx, `SELECT kdf_salt FROM chats WHERE id = ? AND member_id = ?`+lock,
		key.chatID, key.memberID).Scan(&salt)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%w: the chat no longer exists", ErrNotFound)
	}
	if err != nil {
		return dbErr("looking up chat", err)
	}
	if !bytes.Equal(salt, key.salt) {
		return fmt.Errorf("%w: the chat's secret was changed; unlock it with the new secret", ErrLocked)
	}
	return nil
}

// rekeyBatch is how many messages Rekey reads before re-sealing them.
const rekeyBatch = 256

// Rekey changes the chat's secret, re-sealing every message (trash
// included) in one transaction, and returns the new key (the old one is
// wiped). Messages sealed with an older associated-data layout are re-sealed
// with the current one (which binds their number).
//
// Messages that fail to open (Damaged in a listing) cannot be re-sealed:
// Rekey leaves them as they are, returns their numbers in damaged, and
// changes the secret anyway, so one damaged row cannot keep a burned
// secret in use. They stay unreadable, and still sealed under the old key,
// until purged. But if no message opens and some fail, the key is more
// likely wrong than every row damaged: Rekey then refuses with ErrCorrupt.
//
// All or nothing: on any error, or if the call is cancelled, nothing
// changes and the old key stays valid. The new verifier uses the store's
// current Argon2 parameters, which is how a chat moves to a higher cost.
func (s *Store) Rekey(ctx context.Context, key *ChatKey, newSecret []byte) (newKey *ChatKey, damaged []int64, err error) {
	if err := s.enter(); err != nil {
		return nil, nil, err
	}
	defer s.leave()
	if err := checkSecret(newSecret); err != nil {
		return nil, nil, err
	}
	oldAEAD, err := key.aead()
	if err != nil {
		return nil, nil, err
	}
	salt, err := newSalt()
	if err != nil {
		return nil, nil, err
	}
	p := s.argon
	verifier, keyBytes, err := s.derive(ctx, newSecret, salt, p)
	if err != nil {
		return nil, nil, err
	}
	defer clear(keyBytes[:])
	newAEAD, err := chacha20poly1305.NewX(keyBytes[:])
	if err != nil {
		return nil, nil, fmt.Errorf("storage: making cipher: %w", err)
	}

	type row struct {
		id     int64
		sealed []byte
	}
	err = s.write(ctx, func(tx dbtx) error {
		damaged = damaged[:0]
		if err := checkKey(ctx, tx, key, s.d.lockChat); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx,
			`UPDATE chats SET kdf_salt = ?, kdf_memory = ?, kdf_time = ?, kdf_threads = ?, verifier = ?, last_used = ? WHERE id = ?`,
			salt, p.MemoryKiB, p.Time, p.Threads, verifier[:], unixNano(s.now()), key.chatID)
		if err := affectedOne(res, err, "changing chat secret", "the chat no longer exists"); err != nil {
			return err
		}
		var (
			o      = newOpener(oldAEAD, key, false)
			id     int64
			ad     []byte
			batch  []row
			after  int64
			opened int
		)
		defer o.wipe()
		dest := append([]any{&id}, o.dest...)
		for {
			batch = batch[:0]
			rows, err := tx.QueryContext(ctx,
				`SELECT id, `+sealCols+` FROM messages
				 WHERE chat_id = ? AND id > ? ORDER BY id LIMIT ?`, key.chatID, after, rekeyBatch)
			if err != nil {
				return dbErr("reading messages", err)
			}
			n := 0
			for rows.Next() {
				n++
				if err := rows.Scan(dest...); err != nil {
					_ = rows.Close()
					return dbErr("reading messages", err)
				}
				after = id
				if !o.open() {
					damaged = append(damaged, o.num)
					continue
				}
				opened++
				ad = appendAD(ad[:0], adFields{
					version: adCurrent, memberID: key.memberID, chatID: key.chatID, num: o.num, pointerHash: o.ph,
					direction: o.direction, epoch: o.epoch, authenticated: o.auth,
					srcPlatform: o.srcP, srcChannel: o.srcC, srcMessageID: o.srcM,
				})
				sealed, err := seal(newAEAD, o.plain, ad)
				if err != nil {
					_ = rows.Close()
					return err
				}
				batch = append(batch, row{id, sealed})
			}
			if err := rows.Close(); err != nil {
				return dbErr("reading messages", err)
			}
			if err := rows.Err(); err != nil {
				return dbErr("reading messages", err)
			}
			for _, r := range batch {
				if _, err := tx.ExecContext(ctx, `UPDATE messages SET sealed = ?, ad_version = ? WHERE id = ?`,
					r.sealed, adCurrent, r.id); err != nil {
					return dbErr("re-sealing messages", err)
				}
			}
			if n < rekeyBatch {
				break
			}
		}
		slices.Sort(damaged)
		if opened == 0 && len(damaged) > 0 {
			return fmt.Errorf("%w: no message of this chat opens with its key, so nothing was changed; purge the damaged messages (%s) or restore a backup, then change the secret",
				ErrCorrupt, numList(damaged))
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	key.Wipe()
	return newChatKey(key.memberID, key.chatID, key.name, salt, &keyBytes), damaged, nil
}

// numList writes message numbers as "#3, #7", at most ten and a count of
// the rest, for errors.
func numList(nums []int64) string {
	const most = 10
	var b strings.Builder
	for i, n := range nums {
		if i == most {
			fmt.Fprintf(&b, " and %d more", len(nums)-most)
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "#%d", n)
	}
	return b.String()
}

// ChatSummary describes a chat without needing its key.
type ChatSummary struct {
	ID       int64
	Name     string
	Messages int // not in the trash
	Trashed  int
	Created  time.Time
	LastUsed time.Time // created, unlocked or rekeyed
}

// ListChats lists a member's chats by name (ErrNotFound for an unknown
// member).
func (s *Store) ListChats(ctx context.Context, memberID int64) ([]ChatSummary, error) {
	if err := s.enter(); err != nil {
		return nil, err
	}
	defer s.leave()
	var out []ChatSummary
	err := s.read(ctx, func(tx dbtx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM members WHERE id = ?`, memberID).Scan(&n); err != nil {
			return dbErr("looking up member", err)
		}
		if n == 0 {
			return fmt.Errorf("%w: no such member", ErrNotFound)
		}
		rows, err := tx.QueryContext(ctx, `SELECT c.id, c.name, c.created, c.last_used,
			(SELECT count(*) FROM messages m WHERE m.chat_id = c.id AND m.deleted_at IS NULL),
			(SELECT count(*) FROM messages m WHERE m.chat_id = c.id AND m.deleted_at IS NOT NULL)
			FROM chats c WHERE c.member_id = ? ORDER BY c.name`, memberID)
		if err != nil {
			return dbErr("listing chats", err)
		}
		defer rows.Close()
		for rows.Next() {
			var (
				c                 ChatSummary
				created, lastUsed int64
			)
			if err := rows.Scan(&c.ID, &c.Name, &created, &lastUsed, &c.Messages, &c.Trashed); err != nil {
				return dbErr("listing chats", err)
			}
			c.Created, c.LastUsed = fromUnixNano(created), fromUnixNano(lastUsed)
			out = append(out, c)
		}
		return dbErr("listing chats", rows.Err())
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// DeleteChat deletes the member's chat name with all its messages. Keys of
// the chat stop working (ErrNotFound).
func (s *Store) DeleteChat(ctx context.Context, memberID int64, name string) error {
	if err := s.enter(); err != nil {
		return err
	}
	defer s.leave()
	if err := checkChatName(name); err != nil {
		return err
	}
	return s.write(ctx, func(tx dbtx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM chats WHERE member_id = ? AND name = ?`, memberID, name)
		return affectedOne(res, err, "deleting chat", "this member has no chat of that name")
	})
}
