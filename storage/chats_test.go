package storage

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestEnsureMemberIsIdempotentAndKeepsNickname(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be backend) {
		ctx := context.Background()
		s := be.open(t)
		before := time.Now()
		a := mustMember(t, s, "42", "alice")
		if a.Nickname != "alice" || a.Ref != (MemberRef{"telegram", "42"}) || a.Created.Before(before.Add(-time.Second)) {
			t.Fatalf("new member = %+v", a)
		}
		again := mustMember(t, s, "42", "someone-else")
		if again.ID != a.ID || again.Nickname != "alice" {
			t.Fatalf("second EnsureMember = %+v, want the same member with nickname alice", again)
		}
		other, err := s.EnsureMember(ctx, MemberRef{"discord", "42"}, "alice")
		if err != nil {
			t.Fatal(err)
		}
		if other.ID == a.ID {
			t.Fatal("same user id on another platform is the same member")
		}

		if err := s.SetNickname(ctx, a.ID, "Alice 2"); err != nil {
			t.Fatalf("SetNickname: %v", err)
		}
		if got := mustMember(t, s, "42", "x"); got.Nickname != "Alice 2" {
			t.Fatalf("nickname after SetNickname = %q", got.Nickname)
		}
		wantErr(t, s.SetNickname(ctx, 9999, "bob"), ErrNotFound)
	})
}

func TestMemberInputValidation(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be backend) {
		ctx := context.Background()
		s := be.open(t)
		m := mustMember(t, s, "1", "alice")
		cases := []struct {
			name string
			ref  MemberRef
			nick string
		}{
			{"empty platform", MemberRef{"", "1"}, "n"},
			{"empty user id", MemberRef{"telegram", ""}, "n"},
			{"long user id", MemberRef{"telegram", strings.Repeat("9", 129)}, "n"},
			{"invalid UTF-8 user id", MemberRef{"telegram", "\xff"}, "n"},
			{"control char in platform", MemberRef{"tele\x00gram", "1"}, "n"},
			{"empty nickname", MemberRef{"telegram", "2"}, ""},
			{"long nickname", MemberRef{"telegram", "2"}, strings.Repeat("n", 33)},
			{"separator in nickname", MemberRef{"telegram", "2"}, "a|¶|b"},
			{"newline in nickname", MemberRef{"telegram", "2"}, "a\nb"},
			{"invalid UTF-8 nickname", MemberRef{"telegram", "2"}, "a\xc3"},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				_, err := s.EnsureMember(ctx, c.ref, c.nick)
				wantErr(t, err, ErrInvalid)
				if c.nick != "n" {
					wantErr(t, s.SetNickname(ctx, m.ID, c.nick), ErrInvalid)
				}
			})
		}
		if n := rawCount(t, s, `SELECT count(*) FROM members`); n != 1 {
			t.Fatalf("%d members after bad input, want 1", n)
		}
		if got := mustMember(t, s, "1", "x"); got.Nickname != "alice" {
			t.Fatalf("nickname changed by bad input to %q", got.Nickname)
		}
	})
}

func TestCreateAndUnlockChat(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be backend) {
		ctx := context.Background()
		s := be.open(t)
		m := mustMember(t, s, "1", "alice")
		k := mustChat(t, s, m.ID, "Work", "correct horse")
		if k.Name() != "Work" || k.MemberID() != m.ID || k.ChatID() == 0 {
			t.Fatalf("key identity = %q %d %d", k.Name(), k.MemberID(), k.ChatID())
		}

		u, err := s.UnlockChat(ctx, m.ID, "Work", []byte("correct horse"))
		if err != nil {
			t.Fatalf("UnlockChat: %v", err)
		}
		if u.ChatID() != k.ChatID() || u.km.key != k.km.key {
			t.Fatal("unlocking gives a different chat or key than creating")
		}

		_, err = s.UnlockChat(ctx, m.ID, "Work", []byte("correct horsf"))
		wantErr(t, err, ErrWrongSecret)
		if strings.Contains(err.Error(), "horsf") {
			t.Fatalf("error echoes the secret: %v", err)
		}
		_, err = s.UnlockChat(ctx, m.ID, "work", []byte("correct horse"))
		wantErr(t, err, ErrNotFound)
		_, err = s.CreateChat(ctx, m.ID, "Work", []byte("other"))
		wantErr(t, err, ErrExists)
		_, err = s.CreateChat(ctx, 9999, "Work", []byte("other"))
		wantErr(t, err, ErrNotFound)

		// What is stored: a 16-byte salt, a 32-byte verifier, the params.
		var salt, verifier []byte
		var p Argon2Params
		if err := s.r.QueryRowContext(context.Background(), `SELECT kdf_salt, verifier, kdf_memory, kdf_time, kdf_threads FROM chats`).
			Scan(&salt, &verifier, &p.MemoryKiB, &p.Time, &p.Threads); err != nil {
			t.Fatal(err)
		}
		if len(salt) != 16 || len(verifier) != 32 || p != cheapArgon {
			t.Fatalf("stored salt %d bytes, verifier %d bytes, params %v", len(salt), len(verifier), p)
		}
		if bytes.Equal(verifier, k.km.key[:]) {
			t.Fatal("the stored verifier is the data key")
		}
	})
}

func TestChatNameValidation(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be backend) {
		ctx := context.Background()
		s := be.open(t)
		m := mustMember(t, s, "1", "alice")
		cases := []struct {
			name  string
			input string
			ok    bool
		}{
			{"plain", "Work", true},
			{"unicode", "Семья 日本", true},
			{"64 runes", strings.Repeat("ж", 64), true},
			{"emoji with joiner", "👩\u200d💻 team", true},
			{"empty", "", false},
			{"65 runes", strings.Repeat("ж", 65), false},
			{"invalid UTF-8", "Wo\xffrk", false},
			{"separator", "a|¶|b", false},
			{"newline", "Wo\nrk", false},
			{"NUL", "Wo\x00rk", false},
			{"leading space", " Work", false},
			{"trailing space", "Work ", false},
			{"bidi override", "Work\u202e", false},
			{"zero-width space", "Wo\u200brk", false},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				k, err := s.CreateChat(ctx, m.ID, c.input, []byte("pw"))
				if c.ok {
					if err != nil {
						t.Fatalf("CreateChat: %v", err)
					}
					if _, err := s.UnlockChat(ctx, m.ID, c.input, []byte("pw")); err != nil {
						t.Fatalf("UnlockChat: %v", err)
					}
					if k.Name() != c.input {
						t.Fatalf("name = %q", k.Name())
					}
					return
				}
				wantErr(t, err, ErrInvalid)
				_, err = s.UnlockChat(ctx, m.ID, c.input, []byte("pw"))
				wantErr(t, err, ErrInvalid)
				wantErr(t, s.DeleteChat(ctx, m.ID, c.input), ErrInvalid)
			})
		}
		chats, err := s.ListChats(ctx, m.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(chats) != 4 {
			t.Fatalf("%d chats, want the 4 valid ones", len(chats))
		}
	})
}

func TestSecretValidation(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be backend) {
		ctx := context.Background()
		s := be.open(t)
		m := mustMember(t, s, "1", "alice")
		k := mustChat(t, s, m.ID, "Work", "pw")
		for name, secret := range map[string][]byte{"empty": nil, "too long": bytes.Repeat([]byte("x"), 1025)} {
			t.Run(name, func(t *testing.T) {
				_, err := s.CreateChat(ctx, m.ID, "Other", secret)
				wantErr(t, err, ErrInvalid)
				_, err = s.UnlockChat(ctx, m.ID, "Work", secret)
				wantErr(t, err, ErrInvalid)
				_, _, err = s.Rekey(ctx, k, secret)
				wantErr(t, err, ErrInvalid)
				if strings.Contains(err.Error(), "xxxx") {
					t.Fatal("error echoes the secret")
				}
			})
		}
		if _, err := s.UnlockChat(ctx, m.ID, "Work", []byte("pw")); err != nil {
			t.Fatalf("the old secret no longer works after rejected rekeys: %v", err)
		}
	})
}

func TestChatKeyPrintsRedacted(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be backend) {
		s := be.open(t)
		m := mustMember(t, s, "1", "alice")
		const secret = "hunter2-secret"
		k := mustChat(t, s, m.ID, "Work", secret)
		keyHex := hex.EncodeToString(k.km.key[:])
		var logged bytes.Buffer
		slog.New(slog.NewJSONHandler(&logged, nil)).Info("unlocked", "key", k, "value", *k)
		outputs := []string{
			fmt.Sprint(k), fmt.Sprint(*k),
			fmt.Sprintf("%v %+v %#v %s %x", k, k, k, k, k),
			fmt.Sprintf("%v %+v %#v %s %x", *k, *k, *k, *k, *k),
			fmt.Sprintf("%#v %+v", k.km, k.km),
			logged.String(),
		}
		for _, out := range outputs {
			for _, bad := range []string{secret, keyHex, string(k.km.key[:])} {
				if strings.Contains(out, bad) {
					t.Fatalf("formatted key leaks key material: %s", out)
				}
			}
			if !strings.Contains(out, "REDACTED") {
				t.Errorf("formatted key does not say REDACTED: %s", out)
			}
		}
	})
}

func TestWipedKeyIsRefused(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be backend) {
		ctx := context.Background()
		s := be.open(t)
		m := mustMember(t, s, "1", "alice")
		k := mustChat(t, s, m.ID, "Work", "pw")
		id := mustSave(t, s, k, testMessage(1))
		k.Wipe()
		k.Wipe() // twice is fine
		if k.km.key != [32]byte{} {
			t.Fatal("Wipe left key bytes")
		}
		_, _, err := s.SaveMessage(ctx, k, testMessage(2))
		wantErr(t, err, ErrLocked)
		_, err = s.History(ctx, k, Page{Size: 10})
		wantErr(t, err, ErrLocked)
		wantErr(t, s.Trash(ctx, k, id), ErrLocked)
		_, _, err = s.Rekey(ctx, k, []byte("new"))
		wantErr(t, err, ErrLocked)

		var nilKey *ChatKey
		nilKey.Wipe()
		_, err = s.History(ctx, nilKey, Page{Size: 10})
		wantErr(t, err, ErrInvalid)
		_, _, err = s.SaveMessage(ctx, nil, testMessage(3))
		wantErr(t, err, ErrInvalid)
		_, err = s.Export(ctx, nil, new(bytes.Buffer))
		wantErr(t, err, ErrInvalid)
	})
}

func TestRekeyResealsEveryMessage(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be backend) {
		ctx := context.Background()
		s := be.open(t)
		m := mustMember(t, s, "1", "alice")
		k := mustChat(t, s, m.ID, "Work", "old secret")
		const n = 600 // more than one rekey batch
		var want []NewMessage
		for i := range n {
			want = append(want, testMessage(i))
			mustSave(t, s, k, testMessage(i))
		}
		if err := s.Trash(ctx, k, 5); err != nil {
			t.Fatal(err)
		}
		var sealedBefore []byte
		if err := s.r.QueryRowContext(context.Background(), `SELECT sealed FROM messages WHERE id = 7`).Scan(&sealedBefore); err != nil {
			t.Fatal(err)
		}

		k2, _, err := s.Rekey(ctx, k, []byte("new secret"))
		if err != nil {
			t.Fatalf("Rekey: %v", err)
		}
		if k.km.key != [32]byte{} {
			t.Error("the old key was not wiped")
		}
		if k2.ChatID() != k.ChatID() || k2.Name() != "Work" {
			t.Error("rekeyed key names another chat")
		}
		_, err = s.UnlockChat(ctx, m.ID, "Work", []byte("old secret"))
		wantErr(t, err, ErrWrongSecret)
		k3, err := s.UnlockChat(ctx, m.ID, "Work", []byte("new secret"))
		if err != nil {
			t.Fatalf("unlock with new secret: %v", err)
		}
		var sealedAfter []byte
		if err := s.r.QueryRowContext(context.Background(), `SELECT sealed FROM messages WHERE id = 7`).Scan(&sealedAfter); err != nil {
			t.Fatal(err)
		}
		if bytes.Equal(sealedBefore, sealedAfter) {
			t.Error("message 7 was not re-sealed")
		}

		h := mustHistory(t, s, k3, Page{Size: MaxPageSize})
		h = append(h, mustHistory(t, s, k3, Page{Size: MaxPageSize, Page: 1})...)
		trash, err := s.ListTrash(ctx, k3)
		if err != nil {
			t.Fatal(err)
		}
		if len(h) != n-1 || len(trash) != 1 || trash[0].ID != 5 {
			t.Fatalf("after rekey: %d live and %d trashed messages", len(h), len(trash))
		}
		for _, msg := range append(h, trash...) {
			if msg.NewMessage != want[msg.ID-1] {
				t.Fatalf("message %d after rekey = %+v, want %+v", msg.ID, msg.NewMessage, want[msg.ID-1])
			}
		}
	})
}

func TestRekeyResealsTheRestAndReportsDamagedMessages(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be backend) {
		ctx := context.Background()
		s := be.open(t)
		m := mustMember(t, s, "1", "alice")
		k := mustChat(t, s, m.ID, "Work", "old")
		for i := range 300 {
			mustSave(t, s, k, testMessage(i))
		}
		// Damage one message in the trash and one past the first batch.
		if err := s.Trash(ctx, k, 10); err != nil {
			t.Fatal(err)
		}
		flipSealedByte(t, s, k, 10, 30)
		flipSealedByte(t, s, k, 290, 30)
		damagedRows := func() string {
			return rawDump(t, s, `SELECT sealed, ad_version FROM messages WHERE num IN (10, 290) ORDER BY id`)
		}
		before := damagedRows()

		k2, damaged, err := s.Rekey(ctx, k, []byte("new"))
		if err != nil {
			t.Fatalf("Rekey with two damaged messages: %v", err)
		}
		if !slices.Equal(damaged, []int64{10, 290}) {
			t.Fatalf("Rekey reported %v damaged, want [10 290]", damaged)
		}
		if damagedRows() != before {
			t.Error("Rekey changed the damaged rows; it leaves them as they are")
		}
		_, err = s.UnlockChat(ctx, m.ID, "Work", []byte("old"))
		wantErr(t, err, ErrWrongSecret)
		h := mustHistory(t, s, k2, Page{Size: MaxPageSize})
		h = append(h, mustHistory(t, s, k2, Page{Size: MaxPageSize, Page: 1})...)
		for _, msg := range h {
			if msg.Damaged != (msg.ID == 290) {
				t.Fatalf("after rekey, message %d damaged = %v", msg.ID, msg.Damaged)
			}
			if !msg.Damaged && msg.NewMessage != testMessage(int(msg.ID-1)) {
				t.Fatalf("message %d after rekey = %+v", msg.ID, msg.NewMessage)
			}
		}
		if len(h) != 299 {
			t.Fatalf("%d messages in the history after rekey, want 299", len(h))
		}
		// Purging them is the way out, and the next rekey is clean.
		for _, n := range damaged {
			if err := s.Purge(ctx, k2, n); err != nil {
				t.Fatal(err)
			}
		}
		if _, damaged, err := s.Rekey(ctx, k2, []byte("newer")); err != nil || len(damaged) != 0 {
			t.Fatalf("Rekey after purging: %v damaged, %v", damaged, err)
		}
	})
}

func TestRekeyIsAllOrNothing(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be backend) {
		ctx := context.Background()
		s := be.open(t)
		m := mustMember(t, s, "1", "alice")
		k := mustChat(t, s, m.ID, "Work", "old")
		home := mustChat(t, s, m.ID, "Home", "other")
		for i := range 300 {
			mustSave(t, s, k, testMessage(i))
		}
		state := func() string {
			return rawDump(t, s, `SELECT sealed, ad_version FROM messages ORDER BY id`) +
				rawDump(t, s, `SELECT kdf_salt, verifier FROM chats ORDER BY id`)
		}
		before := state()

		// A key that opens none of the chat's messages (Home's key material
		// under Work's identity): every message would be left unreadable for
		// good, so Rekey refuses, after re-sealing nothing.
		wrong := &ChatKey{memberID: k.memberID, chatID: k.chatID, name: k.name, salt: k.salt, km: home.km}
		_, _, err := s.Rekey(ctx, wrong, []byte("new"))
		wantErr(t, err, ErrCorrupt)
		if !strings.Contains(err.Error(), "nothing was changed") {
			t.Errorf("error does not say nothing changed: %v", err)
		}
		// A cancelled rekey changes nothing either.
		cancelled, cancel := context.WithCancel(ctx)
		cancel()
		_, _, err = s.Rekey(cancelled, k, []byte("new"))
		if err == nil {
			t.Fatal("a cancelled rekey succeeded")
		}
		if before != state() {
			t.Fatal("a failed rekey changed the database")
		}
		// The old key still works.
		k2, _, err := s.Rekey(ctx, k, []byte("new"))
		if err != nil {
			t.Fatalf("Rekey after a failed one: %v", err)
		}
		if h := mustHistory(t, s, k2, Page{Size: 500}); len(h) != 300 {
			t.Fatalf("%d messages after rekey, want 300", len(h))
		}
	})
}

func TestStaleKeyIsRefusedAfterAnotherSessionRekeys(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be backend) {
		ctx := context.Background()
		s := be.open(t)
		m := mustMember(t, s, "1", "alice")
		k1 := mustChat(t, s, m.ID, "Work", "old")
		k2, err := s.UnlockChat(ctx, m.ID, "Work", []byte("old")) // a second session
		if err != nil {
			t.Fatal(err)
		}
		mustSave(t, s, k1, testMessage(1))
		k3, _, err := s.Rekey(ctx, k1, []byte("new"))
		if err != nil {
			t.Fatal(err)
		}
		// k2 still holds the old key bytes: it must not seal with them.
		_, _, err = s.SaveMessage(ctx, k2, testMessage(2))
		wantErr(t, err, ErrLocked)
		_, err = s.History(ctx, k2, Page{Size: 10})
		wantErr(t, err, ErrLocked)
		_, _, err = s.Rekey(ctx, k2, []byte("other"))
		wantErr(t, err, ErrLocked)
		if h := mustHistory(t, s, k3, Page{Size: 10}); len(h) != 1 {
			t.Fatalf("history = %d messages, want 1", len(h))
		}
	})
}

func TestListChatsCountsMessagesWithoutAKey(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be backend) {
		ctx := context.Background()
		s := be.open(t)
		m := mustMember(t, s, "1", "alice")
		other := mustMember(t, s, "2", "bob")
		mustChat(t, s, other.ID, "Bob's", "pw")
		work := mustChat(t, s, m.ID, "Work", "pw")
		fam := mustChat(t, s, m.ID, "Family", "pw2")
		for i := range 3 {
			mustSave(t, s, work, testMessage(i))
		}
		mustSave(t, s, fam, testMessage(9))
		if err := s.Trash(ctx, work, 1); err != nil {
			t.Fatal(err)
		}
		chats, err := s.ListChats(ctx, m.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(chats) != 2 {
			t.Fatalf("ListChats = %+v", chats)
		}
		if c := chats[0]; c.Name != "Family" || c.Messages != 1 || c.Trashed != 0 || c.ID != fam.ChatID() {
			t.Errorf("first chat = %+v", c)
		}
		if c := chats[1]; c.Name != "Work" || c.Messages != 2 || c.Trashed != 1 || c.Created.IsZero() || c.LastUsed.Before(c.Created) {
			t.Errorf("second chat = %+v", c)
		}
		empty := mustMember(t, s, "3", "carol")
		if chats, err := s.ListChats(ctx, empty.ID); err != nil || len(chats) != 0 {
			t.Errorf("ListChats of a member without chats = %v, %v", chats, err)
		}
		_, err = s.ListChats(ctx, 9999)
		wantErr(t, err, ErrNotFound)
	})
}

func TestUnlockUpdatesLastUsed(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be backend) {
		ctx := context.Background()
		s := be.open(t)
		clock := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
		s.now = func() time.Time { return clock }
		m := mustMember(t, s, "1", "alice")
		mustChat(t, s, m.ID, "Work", "pw")
		clock = clock.Add(time.Hour)
		if _, err := s.UnlockChat(ctx, m.ID, "Work", []byte("pw")); err != nil {
			t.Fatal(err)
		}
		chats, _ := s.ListChats(ctx, m.ID)
		if !chats[0].LastUsed.Equal(clock) || !chats[0].Created.Equal(clock.Add(-time.Hour)) {
			t.Fatalf("created %v, last used %v", chats[0].Created, chats[0].LastUsed)
		}
	})
}

func TestDeleteChatRemovesItsMessagesOnly(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be backend) {
		ctx := context.Background()
		s := be.open(t)
		m := mustMember(t, s, "1", "alice")
		work := mustChat(t, s, m.ID, "Work", "pw")
		fam := mustChat(t, s, m.ID, "Family", "pw")
		for i := range 3 {
			mustSave(t, s, work, testMessage(i))
			mustSave(t, s, fam, testMessage(i))
		}
		if err := s.DeleteChat(ctx, m.ID, "Work"); err != nil {
			t.Fatalf("DeleteChat: %v", err)
		}
		if n := rawCount(t, s, `SELECT count(*) FROM messages WHERE chat_id = ?`, work.ChatID()); n != 0 {
			t.Fatalf("%d messages of the deleted chat remain", n)
		}
		if h := mustHistory(t, s, fam, Page{Size: 10}); len(h) != 3 {
			t.Fatalf("other chat lost messages: %d left", len(h))
		}
		_, err := s.History(ctx, work, Page{Size: 10})
		wantErr(t, err, ErrNotFound)
		wantErr(t, s.DeleteChat(ctx, m.ID, "Work"), ErrNotFound)

		// A new chat of the same name gets a new id; the old key stays dead.
		again := mustChat(t, s, m.ID, "Work", "pw")
		if again.ChatID() == work.ChatID() {
			t.Fatal("a deleted chat's id was reused")
		}
		_, _, err = s.SaveMessage(ctx, work, testMessage(7))
		wantErr(t, err, ErrNotFound)
	})
}

func TestDeleteMemberRemovesEverythingOfTheirs(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be backend) {
		ctx := context.Background()
		s := be.open(t)
		a := mustMember(t, s, "1", "alice")
		b := mustMember(t, s, "2", "bob")
		ka := mustChat(t, s, a.ID, "Work", "pw")
		kb := mustChat(t, s, b.ID, "Work", "pw")
		for i := range 3 {
			mustSave(t, s, ka, testMessage(i))
			mustSave(t, s, kb, testMessage(i))
		}
		if err := s.DeleteMember(ctx, a.ID); err != nil {
			t.Fatalf("DeleteMember: %v", err)
		}
		st, _ := s.Stats(ctx)
		if st != (Stats{Members: 1, Chats: 1, Messages: 3}) {
			t.Fatalf("after deleting a member: %+v", st)
		}
		if n := rawCount(t, s, `SELECT count(*) FROM chats WHERE member_id = ?`, a.ID); n != 0 {
			t.Fatal("chats of the deleted member remain")
		}
		wantErr(t, s.DeleteMember(ctx, a.ID), ErrNotFound)
		_, err := s.ListChats(ctx, a.ID)
		wantErr(t, err, ErrNotFound)
		if again := mustMember(t, s, "1", "alice"); again.ID == a.ID {
			t.Fatal("re-created member reuses the deleted member's id")
		}
	})
}
