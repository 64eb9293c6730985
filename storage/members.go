package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// MemberRef is a member's platform identity, opaque to storage.
type MemberRef struct {
	Platform string
	UserID   string
}

// Member is a stored member.
type Member struct {
	ID       int64
	Ref      MemberRef
	Nickname string
	Created  time.Time
}

// EnsureMember returns the member for ref, creating it with nickname when
// new. An existing member keeps its nickname (use SetNickname to change
// it); nickname is validated either way.
func (s *Store) EnsureMember(ctx context.Context, ref MemberRef, nickname string) (Member, error) {
	if err := s.enter(); err != nil {
		return Member{}, err
	}
	defer s.leave()
	if err := checkRef(ref); err != nil {
		return Member{}, err
	}
	if err := checkNickname(nickname); err != nil {
		return Member{}, err
	}
	// Most calls find an existing member: look on the read pool first so
	// they do not queue for the writer.
	m, err := getMember(ctx, s.r, ref)
	if err == nil || !errors.Is(err, ErrNotFound) {
		return m, err
	}
	err = s.write(ctx, func(tx dbtx) error {
		if _, err := tx.ExecContext(ctx,
			`INSERT INTO members (platform, user_id, nickname, created) VALUES (?, ?, ?, ?)
			 ON CONFLICT (platform, user_id) DO NOTHING`,
			ref.Platform, ref.UserID, nickname, unixNano(s.now())); err != nil {
			return dbErr("adding member", err)
		}
		m, err = getMember(ctx, tx, ref)
		return err
	})
	return m, err
}

type queryer interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func getMember(ctx context.Context, q queryer, ref MemberRef) (Member, error) {
	m := Member{Ref: ref}
	var created int64
	err := q.QueryRowContext(ctx,
		`SELECT id, nickname, created FROM members WHERE platform = ? AND user_id = ?`,
		ref.Platform, ref.UserID).Scan(&m.ID, &m.Nickname, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return Member{}, fmt.Errorf("%w: no such member", ErrNotFound)
	}
	if err != nil {
		return Member{}, dbErr("reading member", err)
	}
	m.Created = fromUnixNano(created)
	return m, nil
}

// SetNickname changes the nickname a member signs with.
func (s *Store) SetNickname(ctx context.Context, memberID int64, nickname string) error {
	if err := s.enter(); err != nil {
		return err
	}
	defer s.leave()
	if err := checkNickname(nickname); err != nil {
		return err
	}
	return s.write(ctx, func(tx dbtx) error {
		res, err := tx.ExecContext(ctx, `UPDATE members SET nickname = ? WHERE id = ?`, nickname, memberID)
		return affectedOne(res, err, "changing nickname", "no such member")
	})
}

// DeleteMember deletes a member and all their chats and messages.
func (s *Store) DeleteMember(ctx context.Context, memberID int64) error {
	if err := s.enter(); err != nil {
		return err
	}
	defer s.leave()
	return s.write(ctx, func(tx dbtx) error {
		// Foreign keys cascade to chats, and from chats to messages.
		res, err := tx.ExecContext(ctx, `DELETE FROM members WHERE id = ?`, memberID)
		return affectedOne(res, err, "deleting member", "no such member")
	})
}

// affectedOne turns an Exec result into nil, a database error, or
// ErrNotFound (with notFound as its text) when no row was touched.
func affectedOne(res sql.Result, err error, doing, notFound string) error {
	if err != nil {
		return dbErr(doing, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return dbErr(doing, err)
	}
	if n == 0 {
		return fmt.Errorf("%w: %s", ErrNotFound, notFound)
	}
	return nil
}
