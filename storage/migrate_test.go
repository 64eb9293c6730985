package storage

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// openV1Fixture copies testdata/v1.db (a store written by the version-1
// schema, see testdata/make_v1_fixture.go) into a temporary directory and
// opens it, which migrates it.
func openV1Fixture(t *testing.T) *Store {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "v1.db"))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "bridge.db")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := Open(context.Background(), path, cheapOptions())
	if err != nil {
		t.Fatalf("opening a version-1 store: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func texts(ms []Message) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = fmt.Sprintf("#%d %s", m.ID, m.Text)
		if m.Damaged {
			out[i] += " (damaged)"
		}
	}
	return out
}

func TestVersion1StoreOpensNumbersEachChatAndReads(t *testing.T) {
	ctx := context.Background()
	s := openV1Fixture(t)
	if n := rawCount(t, s, `PRAGMA user_version`); n != 2 {
		t.Fatalf("schema version after opening = %d, want 2", n)
	}
	alice := mustMember(t, s, "1001", "alice")
	bob := mustMember(t, s, "1002", "bob")
	unlock := func(member int64, chat, secret string) *ChatKey {
		t.Helper()
		k, err := s.UnlockChat(ctx, member, chat, []byte(secret))
		if err != nil {
			t.Fatalf("unlocking %s: %v", chat, err)
		}
		return k
	}
	aw := unlock(alice.ID, "Work", "fixture work secret")
	ah := unlock(alice.ID, "Home", "fixture home secret")
	bw := unlock(bob.ID, "Work", "fixture work secret")

	// The fixture saved into the three chats in turn (global ids 1..12),
	// trashed alice's second Work message and purged her fourth. Each
	// chat is now numbered on its own, in the order it was saved.
	cases := []struct {
		name         string
		key          *ChatKey
		history, bin []string
	}{
		{"alice Work", aw, []string{"#5 alice Work 6", "#4 alice Work 5", "#3 alice Work 3", "#1 alice Work 1"}, []string{"#2 alice Work 2"}},
		{"alice Home", ah, []string{"#2 alice Home 2", "#1 alice Home 1"}, []string{}},
		{"bob Work", bw, []string{"#4 bob Work 4", "#3 bob Work 3", "#2 bob Work 2", "#1 bob Work 1"}, []string{}},
	}
	check := func(when string) {
		t.Helper()
		for _, c := range cases {
			if got := texts(mustHistory(t, s, c.key, Page{Size: 10})); !slices.Equal(got, c.history) {
				t.Errorf("%s: %s history = %q, want %q", when, c.name, got, c.history)
			}
			trash, err := s.ListTrash(ctx, c.key)
			if got := texts(trash); err != nil || !slices.Equal(got, c.bin) {
				t.Errorf("%s: %s trash = %q (%v), want %q", when, c.name, got, err, c.bin)
			}
		}
	}
	check("migrated")
	if n := rawCount(t, s, `SELECT count(*) FROM messages WHERE ad_version = 2`); n != 11 {
		t.Fatalf("%d rows keep the old seal, want all 11", n)
	}

	// New messages take the next number of their own chat.
	next := testMessage(1)
	if num := mustSave(t, s, aw, next); num != 6 {
		t.Fatalf("new message in alice's Work is #%d, want #6", num)
	}
	cases[0].history = append([]string{"#6 " + next.Text}, cases[0].history...)
	// A rekey upgrades the old seals, which then bind their numbers.
	var err error
	for i, c := range cases {
		if cases[i].key, _, err = s.Rekey(ctx, c.key, []byte("new secret")); err != nil {
			t.Fatalf("rekey %s: %v", c.name, err)
		}
	}
	if n := rawCount(t, s, `SELECT count(*) FROM messages WHERE ad_version <> ?`, adCurrent); n != 0 {
		t.Fatalf("%d rows keep the old seal after rekey", n)
	}
	check("rekeyed")
	// An old row's number moved after the upgrade is caught.
	rawExec(t, s, `UPDATE messages SET num = 7 WHERE chat_id = ? AND num = 1`, cases[0].key.ChatID())
	if h := mustHistory(t, s, cases[0].key, Page{Size: 10}); !h[len(h)-1].Damaged {
		t.Fatalf("a renumbered upgraded row opened: %q", texts(h))
	}
}
