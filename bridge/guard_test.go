package bridge

import (
	"strings"
	"testing"
	"time"
)

// Joining a chat (unlock of a name the member does not have) checks no
// secret: the first pointer that opens does. These tests guard that joins
// are no way around the unlock backoff: few joined chats at once, a
// receive none of them opens counts as a wrong secret, and a member's
// chats are bounded.

func TestJoinedButUnconfirmedChatsAreCapped(t *testing.T) {
	e := newEnv(t, Options{})
	e.newChat("alice", "Work", workSecret)
	ptr := e.send("alice", "Work", "confirming")
	e.cmd("bob", dm, "unlock", "Work "+workSecret)
	for i := 1; i < MaxUnconfirmedChats; i++ {
		r := e.cmd("bob", dm, "unlock", "g"+itoa(i)+" guess-number-"+itoa(i))
		mustContain(t, r.text(), "so you joined it")
	}
	r := e.cmd("bob", dm, "unlock", "one-more guess-one-more")
	mustContain(t, r.text(), itoa(MaxUnconfirmedChats)+" chats you joined", "Work", "g1", "/clm receive", "/clm forget", "Nothing was unlocked")
	mustNotContain(t, r.text(), "guess-one-more")
	if names := e.chatNames("bob"); len(names) != MaxUnconfirmedChats {
		t.Fatalf("bob's chats %v", names)
	}
	t.Run("locking and unlocking again does not confirm a joined chat", func(t *testing.T) {
		e.cmd("bob", dm, "lock", "g1")
		e.unlock("bob", "g1", "guess-number-1")
		r := e.cmd("bob", dm, "unlock", "one-more guess-one-more")
		mustContain(t, r.text(), "chats you joined")
	})
	t.Run("a pointer confirms one, and a join is free again", func(t *testing.T) {
		mustContain(t, e.cmd("bob", dm, "receive", ptr).text(), "📨 Work · alice: confirming")
		mustContain(t, e.cmd("bob", dm, "unlock", "one-more guess-one-more").text(), "so you joined it")
	})
	t.Run("the which-secret answer confirms one too", func(t *testing.T) {
		e := newEnv(t, Options{})
		e.newChat("alice", "Work", workSecret)
		ptr := e.send("alice", "Work", "answered")
		e.cmd("bob", dm, "unlock", "Work "+workSecret)
		for i := 1; i < MaxUnconfirmedChats; i++ {
			e.cmd("bob", dm, "unlock", "g"+itoa(i)+" guess-number-"+itoa(i))
		}
		e.cmd("bob", dm, "lock", "Work")
		e.cmd("bob", dm, "receive", ptr)
		mustContain(t, e.post("bob", dm, workSecret).text(), "📨 Work · alice: answered")
		mustContain(t, e.cmd("bob", dm, "unlock", "one-more guess-one-more").text(), "so you joined it")
	})
	t.Run("forgetting one frees its place", func(t *testing.T) {
		mustContain(t, e.cmd("bob", dm, "unlock", "two-more guess-two-more").text(), "chats you joined")
		e.cmd("bob", dm, "forget", "g2 confirm")
		mustContain(t, e.cmd("bob", dm, "unlock", "two-more guess-two-more").text(), "so you joined it")
	})
}

func TestAReceiveNoJoinedChatOpensCountsAsAWrongSecret(t *testing.T) {
	e := newEnv(t, Options{})
	e.newChat("alice", "Work", workSecret)
	ptr := e.send("alice", "Work", "guarded words")
	for i := 1; i <= MaxUnconfirmedChats; i++ {
		e.cmd("mallory", dm, "unlock", "Work"+itoa(i)+" guess-number-"+itoa(i))
	}
	for left := DefaultFreeUnlocks - 1; left > 0; left-- {
		r := e.cmd("mallory", dm, "receive", ptr)
		mustContain(t, r.text(), "None of the chats you joined", "wrong secret", "You may try "+plural(left, "time", "times")+" more")
	}
	r := e.cmd("mallory", dm, "receive", ptr)
	mustContain(t, r.text(), "Too many wrong secrets")
	mustNotContain(t, r.text(), "guarded words", "send it as your next message")
	// Waiting now: no join, no unlock.
	r = e.cmd("mallory", dm, "unlock", "Work "+workSecret)
	mustContain(t, r.text(), "Too many wrong secrets", "Nothing was unlocked")

	t.Run("rekeying a joined chat does not confirm it", func(t *testing.T) {
		e := newEnv(t, Options{})
		e.newChat("alice", "Work", workSecret)
		ptr := e.send("alice", "Work", "hi")
		e.cmd("bob", dm, "unlock", "Work guess-number-1")
		mustContain(t, e.cmd("bob", dm, "rekey", "Work guess-number-2").text(), "new secret")
		mustContain(t, e.cmd("bob", dm, "receive", ptr).text(), "None of the chats you joined", "wrong secret")
	})
	t.Run("a receive a confirmed chat opens counts nothing", func(t *testing.T) {
		e := newEnv(t, Options{})
		e.newChat("alice", "Work", workSecret)
		ptr := e.send("alice", "Work", "hi")
		e.newChat("bob", "Work", workSecret)
		e.cmd("bob", dm, "unlock", "Side side-secret-123")
		for range DefaultFreeUnlocks + 1 {
			mustNotContain(t, e.cmd("bob", dm, "receive", ptr).text(), "wrong secret", "Too many")
		}
	})
	t.Run("while waiting, joined chats open nothing", func(t *testing.T) {
		e := newEnv(t, Options{})
		e.newChat("alice", "Work", workSecret)
		ptr := e.send("alice", "Work", "after the wait")
		e.newChat("bob", "Home", homeSecret)
		e.cmd("bob", dm, "lock", "")
		e.cmd("bob", dm, "unlock", "Work "+workSecret) // joined, right secret
		for range DefaultFreeUnlocks {
			e.cmd("bob", dm, "unlock", "Home "+wrongGuess)
		}
		r := e.cmd("bob", dm, "receive", ptr)
		mustNotContain(t, r.text(), "after the wait")
		mustContain(t, r.text(), "Too many wrong secrets", "chats you joined")
		e.clock.Advance(DefaultUnlockBackoff + time.Second)
		mustContain(t, e.cmd("bob", dm, "receive", ptr).text(), "📨 Work · alice: after the wait")
	})
	t.Run("watch does not open pointers with a joined chat", func(t *testing.T) {
		e := newEnv(t, Options{})
		n := &notifier{}
		e.b.RegisterNotifier("test", n)
		e.newChat("alice", "Work", workSecret)
		e.cmd("bob", dm, "unlock", "Work "+workSecret)
		e.cmd("bob", dm, "watch", "on")
		e.post("bob", general, "hi")
		e.post("alice", general, e.send("alice", "Work", "watched early"))
		if got := n.to("id-bob"); got != "" {
			t.Fatalf("a joined chat was watch-delivered: %q", got)
		}
		e.cmd("bob", dm, "receive", e.send("alice", "Work", "confirms"))
		e.post("alice", general, e.send("alice", "Work", "watched later"))
		mustContain(t, n.to("id-bob"), "watched later")
	})
}

func TestAMembersChatsAreCapped(t *testing.T) {
	e := newEnv(t, Options{})
	e.newChat("alice", "Work", workSecret)
	ptr := e.send("alice", "Work", "one too many")
	for i := range MaxChatsPerMember {
		e.newChat("bob", "c"+itoa(i), workSecret)
	}
	e.cmd("bob", dm, "lock", "")
	tests := []struct{ name, cmd, args string }{
		{"new", "new", "another " + workSecret},
		{"join", "unlock", "another " + workSecret},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.cmd("bob", dm, tt.cmd, tt.args)
			mustContain(t, r.text(), "You have "+itoa(MaxChatsPerMember)+" chats", "/clm forget")
		})
	}
	t.Run("which-secret answer", func(t *testing.T) {
		e.cmd("bob", dm, "receive", ptr)
		r := e.post("bob", dm, workSecret)
		mustContain(t, r.text(), "one too many", "You have "+itoa(MaxChatsPerMember)+" chats")
	})
	if n := len(e.chatNames("bob")); n != MaxChatsPerMember {
		t.Fatalf("bob has %d chats", n)
	}
	if strings.Contains(e.logs.String(), workSecret) {
		t.Fatal("secret in the logs")
	}
}
