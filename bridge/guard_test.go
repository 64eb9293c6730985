package bridge

import (
	"strings"
	"testing"
	"time"

	"github.com/clmbridge/clmbridge/clm"
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

func TestAReceiveCountsEachUnverifiedSecretItLeavesClosed(t *testing.T) {
	e := newEnv(t, Options{})
	e.newChat("alice", "Work", workSecret)
	ptr := e.send("alice", "Work", "guarded words")
	for i := 1; i <= MaxUnconfirmedChats; i++ {
		e.cmd("mallory", dm, "unlock", "Work"+itoa(i)+" guess-number-"+itoa(i))
	}
	// Three joined chats are three guesses, not one.
	r := e.cmd("mallory", dm, "receive", ptr)
	mustContain(t, r.text(), "(Work1, Work2, Work3) leave it closed", "3 wrong secrets", "You may try 2 times more")
	r = e.cmd("mallory", dm, "receive", ptr)
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
		mustContain(t, e.cmd("bob", dm, "receive", ptr).text(), "(Work) leave it closed", "1 wrong secret")
	})
	t.Run("a receive a chat opens counts nothing", func(t *testing.T) {
		e := newEnv(t, Options{})
		e.newChat("alice", "Work", workSecret)
		ptr := e.send("alice", "Work", "hi")
		e.newChat("bob", "Work", workSecret)
		e.cmd("bob", dm, "unlock", "Side side-secret-123")
		for range DefaultFreeUnlocks + 1 {
			mustNotContain(t, e.cmd("bob", dm, "receive", ptr).text(), "wrong secret", "Too many")
		}
	})
	t.Run("while waiting, unverified chats open nothing", func(t *testing.T) {
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
		mustContain(t, r.text(), "Too many wrong secrets", "While you must wait", "(Work)")
		e.clock.Advance(DefaultUnlockBackoff + time.Second)
		mustContain(t, e.cmd("bob", dm, "receive", ptr).text(), "📨 Work · alice: after the wait")
	})
	t.Run("watch does not open pointers with an unverified secret", func(t *testing.T) {
		e := newEnv(t, Options{})
		n := &notifier{}
		e.b.RegisterNotifier("test", n)
		e.newChat("alice", "Work", workSecret)
		e.cmd("bob", dm, "unlock", "Work "+workSecret)
		e.cmd("bob", dm, "watch", "on")
		e.post("bob", general, "hi")
		e.post("alice", general, e.send("alice", "Work", "watched early"))
		// A pointer bob pastes proves nothing: he could have made it.
		e.cmd("bob", dm, "receive", e.send("alice", "Work", "pasted"))
		e.post("alice", general, e.send("alice", "Work", "watched pasted"))
		if got := n.to("id-bob"); got != "" {
			t.Fatalf("an unverified secret was watch-delivered: %q", got)
		}
		e.confirmSecret("bob", "Work", "alice", general)
		e.post("alice", general, e.send("alice", "Work", "watched later"))
		mustContain(t, n.to("id-bob"), "watched later")
	})
}

// TestGuessesThroughAnySuppliedSecretAreCounted covers every way a member
// can put a secret of their choosing into a session and then try it on a
// pointer: each is a guess, counted when the pointer stays closed, and
// while the member must wait even the right guess opens nothing.
func TestGuessesThroughAnySuppliedSecretAreCounted(t *testing.T) {
	tests := []struct {
		name string
		// try puts guess into one of mallory's sessions (attempt i) and
		// tries it on target; it returns mallory's answers.
		try func(e *env, i int, guess, target string) string
	}{
		{"new and receive", func(e *env, i int, guess, target string) string {
			e.cmd("mallory", dm, "lock", "") // only the new guess is tried
			e.cmd("mallory", dm, "new", "Guess"+itoa(i)+" "+guess)
			return e.cmd("mallory", dm, "receive", target).text()
		}},
		{"rekey and receive", func(e *env, i int, guess, target string) string {
			if i == 1 {
				e.cmd("mallory", dm, "new", "Mine") // a generated secret
			}
			e.cmd("mallory", dm, "rekey", "Mine "+guess)
			return e.cmd("mallory", dm, "receive", target).text()
		}},
		{"lock, unlock and receive", func(e *env, i int, guess, target string) string {
			e.cmd("mallory", dm, "new", "Guess"+itoa(i)+" "+guess)
			e.cmd("mallory", dm, "lock", "")
			// The verifier matches the chat she made with her guess: that
			// proves nothing about anyone else's secret.
			e.cmd("mallory", dm, "unlock", "Guess"+itoa(i)+" "+guess)
			return e.cmd("mallory", dm, "receive", target).text()
		}},
		{"join and receive", func(e *env, i int, guess, target string) string {
			if i > 1 {
				e.cmd("mallory", dm, "forget", "Guess"+itoa(i-1)+" confirm")
			}
			e.cmd("mallory", dm, "unlock", "Guess"+itoa(i)+" "+guess)
			return e.cmd("mallory", dm, "receive", target).text()
		}},
		{"which-secret answer beside a pointer she made", func(e *env, i int, guess, target string) string {
			own, err := clm.NewPointer([]byte(guess), clm.Message{Chat: "Mine" + itoa(i), Username: "mallory", Text: "decoy"}, 1795694400)
			if err != nil {
				e.t.Fatal(err)
			}
			e.cmd("mallory", dm, "lock", "") // only the answer is tried
			asked := e.cmd("mallory", dm, "receive", own.String()+" "+target).text()
			return asked + "\n" + e.post("mallory", dm, guess).text()
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, Options{})
			e.newChat("alice", "Work", workSecret)
			target := e.send("alice", "Work", "the target")
			for i := 1; i <= DefaultFreeUnlocks; i++ {
				got := tt.try(e, i, "guess-number-"+itoa(i), target)
				mustNotContain(t, got, "the target")
				if i < DefaultFreeUnlocks {
					mustContain(t, got, "You may try "+plural(DefaultFreeUnlocks-i, "time", "times")+" more")
				} else {
					mustContain(t, got, "Too many wrong secrets")
				}
			}
			// The right guess now opens nothing until the wait is over.
			got := tt.try(e, DefaultFreeUnlocks+1, workSecret, target)
			mustNotContain(t, got, "the target")
			mustContain(t, got, "Too many wrong secrets")
			e.assertNoPublicLeak("the target", workSecret)
		})
	}
}

// TestVerifiedSecretsReceiveFreely guards ordinary members: a secret that
// opened a pointer someone else posted, and a chat unlocked with it later,
// count nothing when a receive leaves pointers of other chats closed.
func TestVerifiedSecretsReceiveFreely(t *testing.T) {
	e := newEnv(t, Options{})
	e.newChat("alice", "Home", homeSecret)
	other := e.send("alice", "Home", "not bob's chat")
	e.newChat("alice", "Work", workSecret)
	e.cmd("bob", dm, "unlock", "Work "+workSecret) // joined: unverified
	mustContain(t, e.cmd("bob", dm, "receive", other).text(), "1 wrong secret")
	e.confirmSecret("bob", "Work", "alice", general)
	e.cmd("bob", dm, "lock", "")
	e.unlock("bob", "Work", workSecret) // a verified unlock
	for range 2 * DefaultFreeUnlocks {
		r := e.cmd("bob", dm, "receive", other)
		mustContain(t, r.text(), "None of your unlocked chats opens this pointer", "send it as your next message")
		mustNotContain(t, r.text(), "wrong secret", "Too many")
	}
	t.Run("a press that also quotes the post verifies too", func(t *testing.T) {
		// Telegram and Discord send the post's text with the press.
		e.cmd("dave", dm, "unlock", "Work "+workSecret) // joined: unverified
		ptr := e.send("alice", "Work", "quoted and pressed")
		ref := e.post("alice", general, ptr).public[0].ReceiveRef
		r := e.run(Request{Member: member("dave"), Place: general, Command: "receive", ReceiveRef: ref, Quoted: ptr})
		mustContain(t, r.text(), "📨 Work · alice: quoted and pressed")
		mustNotContain(t, e.cmd("dave", dm, "receive", other).text(), "wrong secret", "Too many")
	})
	t.Run("a chat made with a generated secret", func(t *testing.T) {
		e.cmd("carol", dm, "new", "Fresh")
		for range 2 * DefaultFreeUnlocks {
			mustNotContain(t, e.cmd("carol", dm, "receive", other).text(), "wrong secret", "Too many")
		}
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
