package storage

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
)

// cheapArgon keeps tests fast: 64 KiB, 1 pass. Only TestDefaultArgon2Params
// runs the production cost.
var cheapArgon = Argon2Params{MemoryKiB: 64, Time: 1, Threads: 1}

func cheapOptions() Options { return Options{Argon2: cheapArgon} }

// openStore opens a fresh store in a temporary directory, closed at the
// end of the test.
func openStore(t testing.TB) (*Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "bridge.db")
	s, err := Open(context.Background(), path, cheapOptions())
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s, path
}

func mustMember(t testing.TB, s *Store, uid, nick string) Member {
	t.Helper()
	m, err := s.EnsureMember(context.Background(), MemberRef{Platform: "telegram", UserID: uid}, nick)
	if err != nil {
		t.Fatalf("EnsureMember: %v", err)
	}
	return m
}

func mustChat(t testing.TB, s *Store, memberID int64, name, secret string) *ChatKey {
	t.Helper()
	k, err := s.CreateChat(context.Background(), memberID, name, []byte(secret))
	if err != nil {
		t.Fatalf("CreateChat: %v", err)
	}
	return k
}

// testMessage returns the i-th message of a test chat: a distinct pointer,
// nonce and text per i.
func testMessage(i int) NewMessage {
	return NewMessage{
		Direction:     Sent,
		Epoch:         1_700_000_000 + int64(i),
		Nonce:         fmt.Sprintf("nonce%011d", i),
		Pointer:       fmt.Sprintf(`{"e": %d, "n": "nonce%011d", "d": "%08x"}`, 1_700_000_000+i, i, i),
		Authenticated: i%2 == 0,
		Username:      "alice",
		Text:          fmt.Sprintf("message number %d", i),
		Source:        Source{Platform: "telegram", Channel: "-100123", MessageID: fmt.Sprint(1000 + i)},
	}
}

func mustSave(t testing.TB, s *Store, k *ChatKey, m NewMessage) int64 {
	t.Helper()
	id, created, err := s.SaveMessage(context.Background(), k, m)
	if err != nil {
		t.Fatalf("SaveMessage: %v", err)
	}
	if !created {
		t.Fatalf("SaveMessage: created = false for a new pointer")
	}
	return id
}

func mustHistory(t testing.TB, s *Store, k *ChatKey, p Page) []Message {
	t.Helper()
	h, err := s.History(context.Background(), k, p)
	if err != nil {
		t.Fatalf("History: %v", err)
	}
	return h
}

// rawExec changes the database behind the store's back, as someone with
// the file would.
func rawExec(t testing.TB, s *Store, query string, args ...any) {
	t.Helper()
	if _, err := s.w.ExecContext(context.Background(), query, args...); err != nil {
		t.Fatalf("raw SQL %q: %v", query, err)
	}
}

func rawCount(t testing.TB, s *Store, query string, args ...any) int {
	t.Helper()
	var n int
	if err := s.r.QueryRowContext(context.Background(), query, args...).Scan(&n); err != nil {
		t.Fatalf("raw SQL %q: %v", query, err)
	}
	return n
}

func wantErr(t testing.TB, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("error = %v, want %v", err, target)
	}
}

func ids(ms []Message) []int64 {
	out := make([]int64, len(ms))
	for i, m := range ms {
		out[i] = m.ID
	}
	return out
}

// flipSealedByte flips one bit of byte i of the sealed blob of message
// number num in k's chat, as a failing disk might.
func flipSealedByte(t testing.TB, s *Store, k *ChatKey, num int64, i int) {
	t.Helper()
	var sealed []byte
	if err := s.w.QueryRow(`SELECT sealed FROM messages WHERE chat_id = ? AND num = ?`, k.ChatID(), num).Scan(&sealed); err != nil {
		t.Fatal(err)
	}
	sealed[i%len(sealed)] ^= 1
	rawExec(t, s, `UPDATE messages SET sealed = ? WHERE chat_id = ? AND num = ?`, sealed, k.ChatID(), num)
}
