package bridge

import (
	"context"
	"encoding/hex"
	"errors"
	"testing"

	"github.com/clmbridge/clmbridge/clm"
	"github.com/clmbridge/clmbridge/storage"
)

// A pointer names its chat inside the ciphertext. These tests guard the rule
// that a pointer never deletes, replaces or rekeys a member's chat, and that
// the name inside an untagged pointer (which anyone can change on the way)
// is never taken as a chat's name.

const (
	homeSecret  = "home-secret-hearth-42"
	xSecret     = "x-secret-shared-with-mallory"
	ySecret     = "y-secret-only-the-victim-has"
	victimWords = "for Y's members only"
)

// secretOpens reports, from the store itself, whether secret is who's chat's
// secret now.
func (e *env) secretOpens(who, chat, secret string) bool {
	e.t.Helper()
	ctx := context.Background()
	m, err := e.store.EnsureMember(ctx, storage.MemberRef{Platform: "test", UserID: "id-" + who}, who)
	if err != nil {
		e.t.Fatal(err)
	}
	k, err := e.store.UnlockChat(ctx, m.ID, chat, []byte(secret))
	switch {
	case err == nil:
		k.Wipe()
		return true
	case errors.Is(err, storage.ErrWrongSecret):
		return false
	}
	e.t.Fatalf("unlocking %s's %s in the store: %v", who, chat, err)
	return false
}

// forgedPointer makes a tagged pointer with secret whose chat name inside is
// chat: what any member of a chat can make with its secret.
func forgedPointer(t *testing.T, secret, chat, text string) string {
	t.Helper()
	p, err := clm.NewPointer([]byte(secret), clm.Message{Chat: chat, Username: "mallory", Text: text}, 1790000000)
	if err != nil {
		t.Fatal(err)
	}
	return p.String()
}

// renameLegacy changes the chat name inside an untagged pointer from one
// name to another of the same length by flipping bits of its data: no
// secret is needed, and the pointer still opens with its secret.
func renameLegacy(t *testing.T, ptr, from, to string) string {
	t.Helper()
	p, err := clm.ParsePointer(ptr)
	if err != nil || p.Tag != "" || len(from) != len(to) {
		t.Fatalf("renameLegacy needs an untagged pointer and names of one length (%v)", err)
	}
	d, err := hex.DecodeString(p.Data)
	if err != nil {
		t.Fatal(err)
	}
	for i := range len(from) { // the signed text is "#" + chat + …
		d[1+i] ^= from[i] ^ to[i]
	}
	p.Data = hex.EncodeToString(d)
	return p.String()
}

func legacyPointer(t *testing.T, secret, chat, text string) string {
	t.Helper()
	p, err := clm.NewLegacyPointer([]byte(secret), clm.Message{Chat: chat, Username: "old-client", Text: text}, 1700000000)
	if err != nil {
		t.Fatal(err)
	}
	return p.String()
}

// TestAPointerOfOneChatNamingAnotherNeverReplacesIt is attack A: mallory, a
// member of X, makes a tagged pointer with X's secret whose chat name inside
// is Y. The victim has X unlocked and an empty chat Y of their own; pressing
// Receive must not give Y X's secret (else the victim's next /clm send Y
// would be readable by mallory).
func TestAPointerOfOneChatNamingAnotherNeverReplacesIt(t *testing.T) {
	e := newEnv(t, Options{})
	e.newChat("victim", "X", xSecret)
	e.newChat("victim", "Y", ySecret)
	forged := forgedPointer(t, xSecret, "Y", "switch to Y please")

	posted := e.post("mallory", general, forged)
	if len(posted.public) != 1 {
		t.Fatalf("no Receive button: %v", posted.public)
	}
	r := e.run(Request{Member: member("victim"), Place: general, ReceiveRef: posted.public[0].ReceiveRef})
	mustContain(t, r.text(), "switch to Y please", "your chat X", "Y", "Nothing was saved or changed")
	if len(r.public) != 0 {
		t.Fatalf("answered publicly: %v", r.public)
	}
	if !e.secretOpens("victim", "Y", ySecret) || e.secretOpens("victim", "Y", xSecret) {
		t.Fatal("the victim's chat Y no longer has its own secret")
	}
	if names := e.chatNames("victim"); len(names) != 2 {
		t.Fatalf("victim's chats %v", names)
	}
	// The victim's unlocked Y still makes pointers with Y's secret.
	ptr := e.send("victim", "Y", victimWords)
	p, _ := clm.ParsePointer(ptr)
	if _, err := p.Open([]byte(xSecret)); err == nil {
		t.Fatal("the victim's pointer of Y opens with X's secret")
	}

	t.Run("nor does a chat that holds messages", func(t *testing.T) {
		e.cmd("victim", dm, "receive", forged)
		if !e.secretOpens("victim", "Y", ySecret) {
			t.Fatal("Y was rekeyed")
		}
	})
	t.Run("nor is a missing chat created from it", func(t *testing.T) {
		r := e.cmd("victim", dm, "receive", forgedPointer(t, xSecret, "Z", "a new chat for us"))
		mustContain(t, r.text(), "a new chat for us", "Nothing was saved or changed")
		if names := e.chatNames("victim"); len(names) != 2 {
			t.Fatalf("victim's chats %v", names)
		}
	})
	t.Run("through the which-secret answer", func(t *testing.T) {
		e.cmd("victim", dm, "lock", "")
		r := e.cmd("victim", dm, "receive", forged)
		mustContain(t, r.text(), "send it as your next message")
		r = e.post("victim", dm, xSecret)
		mustContain(t, r.text(), "switch to Y please", "another secret", "saved nothing")
		mustNotContain(t, r.text(), "unlocked now")
		if !e.secretOpens("victim", "Y", ySecret) || e.secretOpens("victim", "Y", xSecret) {
			t.Fatal("the answer gave Y X's secret")
		}
		if got := e.b.UnlockedChats(member("victim")); len(got) != 0 {
			t.Fatalf("unlocked %v", got)
		}
	})
	e.assertNoPublicLeak("switch to Y please", xSecret, ySecret, victimWords)
}

// TestABitFlippedLegacyPointerNeverRekeysAChat is attack B, with no secret
// at all: the chat name inside an untagged pointer of Work is changed to
// Home by flipping bits. Its text no longer matches its 2.0.2 nonce, so it
// is refused as tampered: nothing is shown, saved, rekeyed or created.
func TestABitFlippedLegacyPointerNeverRekeysAChat(t *testing.T) {
	e := newEnv(t, Options{})
	flipped := renameLegacy(t, legacyPointer(t, workSecret, "Work", "old style"), "Work", "Home")
	e.newChat("bob", "Work", workSecret)
	e.newChat("bob", "Home", homeSecret)

	r := e.cmd("bob", dm, "receive", flipped)
	mustContain(t, r.text(), "changed on the way and was not saved")
	mustNotContain(t, r.text(), "old style")
	if !e.secretOpens("bob", "Home", homeSecret) || e.secretOpens("bob", "Home", workSecret) {
		t.Fatal("bob's Home was rekeyed by an untagged pointer")
	}
	if h := e.history("bob", "Work"); len(h) != 0 {
		t.Fatalf("saved in Work: %+v", h)
	}

	t.Run("nor creates a chat of that name", func(t *testing.T) {
		e.newChat("carol", "Work", workSecret)
		r := e.cmd("carol", dm, "receive", flipped)
		mustContain(t, r.text(), "changed on the way and was not saved")
		if names := e.chatNames("carol"); len(names) != 1 || names[0] != "Work" {
			t.Fatalf("carol's chats %v", names)
		}
	})
	t.Run("nor through the which-secret answer", func(t *testing.T) {
		e.cmd("bob", dm, "lock", "")
		e.cmd("bob", dm, "receive", flipped)
		r := e.post("bob", dm, workSecret)
		mustContain(t, r.text(), "changed on the way and was not saved")
		mustNotContain(t, r.text(), "old style")
		if !e.secretOpens("bob", "Home", homeSecret) {
			t.Fatal("bob's Home was rekeyed through the answer")
		}
		// dave has no chat of that name: none is made from a changed
		// pointer, and nobody else's chat changes.
		e.cmd("dave", dm, "receive", flipped)
		r = e.post("dave", dm, workSecret)
		mustContain(t, r.text(), "changed on the way and was not saved")
		if names := e.chatNames("dave"); len(names) != 0 {
			t.Fatalf("dave's chats %v, want none", names)
		}
		if !e.secretOpens("bob", "Home", homeSecret) {
			t.Fatal("dave's answer changed bob's Home")
		}
	})
}

func TestAJoinedChatIsRenamedOnlyByATaggedPointerToAFreeNameWhileEmpty(t *testing.T) {
	e := newEnv(t, Options{})
	e.newChat("alice", "Work", workSecret)
	tagged := e.send("alice", "Work", "tagged words")
	legacy := legacyPointer(t, workSecret, "Work", "legacy words")

	t.Run("tagged, free name, empty: renamed", func(t *testing.T) {
		e.cmd("bob", dm, "unlock", "work "+workSecret)
		r := e.cmd("bob", dm, "receive", tagged)
		mustContain(t, r.text(), "tagged words", "renamed your chat to Work")
		if names := e.chatNames("bob"); len(names) != 1 || names[0] != "Work" {
			t.Fatalf("bob's chats %v", names)
		}
	})
	t.Run("untagged: not renamed", func(t *testing.T) {
		e.cmd("carol", dm, "unlock", "work "+workSecret)
		r := e.cmd("carol", dm, "receive", legacy)
		mustContain(t, r.text(), "legacy words", "without a tag", "did not rename")
		if names := e.chatNames("carol"); len(names) != 1 || names[0] != "work" {
			t.Fatalf("carol's chats %v", names)
		}
	})
	t.Run("the name is taken: not renamed, the other chat kept", func(t *testing.T) {
		e.newChat("dave", "Work", homeSecret)
		e.cmd("dave", dm, "lock", "")
		e.cmd("dave", dm, "unlock", "work "+workSecret)
		r := e.cmd("dave", dm, "receive", tagged)
		mustContain(t, r.text(), "tagged words", "did not rename")
		if names := e.chatNames("dave"); len(names) != 2 {
			t.Fatalf("dave's chats %v", names)
		}
		if !e.secretOpens("dave", "Work", homeSecret) {
			t.Fatal("dave's Work was rekeyed")
		}
	})
	t.Run("the joined chat holds messages: not renamed", func(t *testing.T) {
		e.cmd("erin", dm, "unlock", "work "+workSecret)
		e.send("erin", "work", "erin's own")
		r := e.cmd("erin", dm, "receive", tagged)
		mustContain(t, r.text(), "tagged words", "did not rename")
		if names := e.chatNames("erin"); len(names) != 1 || names[0] != "work" {
			t.Fatalf("erin's chats %v", names)
		}
		if h := e.history("erin", "work"); len(h) != 1 {
			t.Fatalf("erin's history %+v", h)
		}
	})
}

func TestAPointerNamingTheMembersChatOfTheSameSecretIsSavedThere(t *testing.T) {
	e := newEnv(t, Options{})
	e.newChat("alice", "Work", workSecret)
	ptr := e.send("alice", "Work", "for both")
	e.newChat("bob", "Home", workSecret) // two chats, one secret
	e.newChat("bob", "Work", workSecret)
	e.cmd("bob", dm, "lock", "Work")
	r := e.cmd("bob", dm, "receive", ptr)
	mustContain(t, r.text(), "📨 Work · alice: for both")
	if h := e.history("bob", "Work"); len(h) != 1 || h[0].Text != "for both" {
		t.Fatalf("bob's Work %+v", h)
	}
	if h := e.history("bob", "Home"); len(h) != 0 {
		t.Fatalf("saved in Home too: %+v", h)
	}
}
