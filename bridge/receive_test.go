package bridge

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clmbridge/clmbridge/clm"
	"github.com/clmbridge/clmbridge/storage"
)

// flipLastHex changes the last hex digit of the pointer's data: the
// message's last byte changes, the tag no longer verifies.
func flipLastHex(t *testing.T, ptr string) string {
	t.Helper()
	p, err := clm.ParsePointer(ptr)
	if err != nil {
		t.Fatal(err)
	}
	d := []byte(p.Data)
	last := d[len(d)-1]
	if last == '0' {
		d[len(d)-1] = '1'
	} else {
		d[len(d)-1] = '0'
	}
	p.Data = string(d)
	return p.String()
}

func TestReceiveOpensWithAnUnlockedChatAndSavesIt(t *testing.T) {
	e := newEnv(t, Options{})
	e.newChat("alice", "Work", workSecret)
	ptr := e.send("alice", "Work", "the plan")
	e.newChat("bob", "Work", workSecret)

	r := e.run(Request{Member: member("bob"), Place: dm, Command: "receive", Args: "look: ```" + ptr + "```", MessageID: "m1"})
	mustContain(t, r.text(), "📨 Work · alice: the plan")
	mustNotContain(t, r.text(), "Unauthenticated")
	h := e.history("bob", "Work")
	if len(h) != 1 || h[0].Direction != storage.Received || h[0].Text != "the plan" || !h[0].Authenticated || h[0].Source.MessageID != "m1" {
		t.Fatalf("bob's history %+v", h)
	}
	t.Run("again is idempotent", func(t *testing.T) {
		r := e.cmd("bob", dm, "receive", ptr)
		mustContain(t, r.text(), "the plan", "already in your history")
		if len(e.history("bob", "Work")) != 1 {
			t.Fatal("stored twice")
		}
	})
	t.Run("quoted post", func(t *testing.T) {
		r := e.run(Request{Member: member("bob"), Place: general, Command: "receive", Quoted: "alice said " + ptr})
		mustContain(t, r.text(), "the plan")
		if len(r.public) != 0 {
			t.Fatal("plaintext context answered publicly")
		}
	})
	t.Run("no pointer", func(t *testing.T) {
		mustContain(t, e.cmd("bob", dm, "receive", "nothing here").text(), "found no CLM pointer")
		mustContain(t, e.cmd("bob", dm, "receive", "").text(), "Usage: /clm receive")
	})
	e.assertNoPublicLeak("the plan", workSecret)
}

func TestReceivePromptsForTheSecretAndCreatesTheChat(t *testing.T) {
	e := newEnv(t, Options{})
	e.newChat("alice", "Project Athena", workSecret)
	ptr := e.send("alice", "Project Athena", "launch at dawn")

	r := e.cmd("bob", dm, "receive", ptr)
	mustContain(t, r.text(), "None of your unlocked chats opens this pointer", "send it as your next message")
	mustNotContain(t, r.text(), "launch at dawn")

	// The next private line is the secret: never echoed, deleted.
	r = e.post("bob", dm, workSecret)
	mustContain(t, r.text(), "📨 Project Athena · alice: launch at dawn", "unlocked now")
	mustNotContain(t, r.text(), workSecret)
	if r.deletes != 1 {
		t.Fatal("the secret's message was not deleted")
	}
	if names := e.chatNames("bob"); len(names) != 1 || names[0] != "Project Athena" {
		t.Fatalf("bob's chats %v", names)
	}
	if h := e.history("bob", "Project Athena"); len(h) != 1 || h[0].Text != "launch at dawn" {
		t.Fatalf("bob's history %+v", h)
	}
	// The chat really has that secret: lock, and unlock with it.
	e.cmd("bob", dm, "lock", "")
	e.unlock("bob", "Project Athena", workSecret)
	// The prompt is used up: the next line is not taken as a secret.
	r = e.post("bob", dm, "hello")
	mustContain(t, r.text(), "/clm help")
	e.assertNoPublicLeak("launch at dawn", workSecret)
}

func TestReceivePromptWithWrongSecretCreatesNothing(t *testing.T) {
	e := newEnv(t, Options{})
	e.newChat("alice", "Work", workSecret)
	ptr := e.send("alice", "Work", "for members only")

	e.cmd("carol", dm, "receive", ptr)
	r := e.post("carol", dm, wrongGuess)
	mustContain(t, r.text(), "opens none of the pointers", "Nothing was saved or created")
	mustNotContain(t, r.text(), "for members only", wrongGuess)
	if names := e.chatNames("carol"); len(names) != 0 {
		t.Fatalf("carol got chats %v", names)
	}
	// Wrong answers count toward the backoff like wrong unlocks.
	for i := 0; i < 4; i++ {
		e.cmd("carol", dm, "receive", ptr)
		r = e.post("carol", dm, wrongGuess)
	}
	mustContain(t, r.text(), "Too many wrong secrets")
	r = e.cmd("carol", dm, "receive", ptr)
	mustContain(t, r.text(), "Too many wrong secrets")
	r = e.post("carol", dm, workSecret)
	mustNotContain(t, r.text(), "for members only")
}

func TestReceivePromptExpires(t *testing.T) {
	e := newEnv(t, Options{})
	e.newChat("alice", "Work", workSecret)
	ptr := e.send("alice", "Work", "too slow")
	e.cmd("bob", dm, "receive", ptr)
	e.clock.Advance(DefaultConfirmWindow + time.Second)
	r := e.post("bob", dm, workSecret)
	mustNotContain(t, r.text(), "too slow", workSecret)
	mustContain(t, r.text(), "expired", "/clm receive")
	if len(e.chatNames("bob")) != 0 {
		t.Fatal("an expired prompt created a chat")
	}
}

// TestALateAnswerIsNeitherUsedNorRunAsACommand: bob answers the "which
// secret?" question after it expired, with a passphrase that reads like a
// command ("name of the rose"). The line must not become his nickname: it
// is removed, unused, and he is told how to try again.
func TestALateAnswerIsNeitherUsedNorRunAsACommand(t *testing.T) {
	const passphrase = "name of the rose"
	e := newEnv(t, Options{})
	e.newChat("alice", "Work", passphrase)
	ptr := e.send("alice", "Work", "in the library")
	ask := func(who string) {
		t.Helper()
		mustContain(t, e.cmd(who, dm, "receive", ptr).text(), "send it as your next message")
	}
	nickname := func(who string) string {
		t.Helper()
		return e.cmd(who, dm, "name", "").text()
	}

	ask("bob")
	e.clock.Advance(DefaultConfirmWindow + time.Minute)
	r := e.post("bob", dm, passphrase)
	if r.deletes != 1 {
		t.Fatalf("the late answer was not deleted (%d)", r.deletes)
	}
	mustContain(t, r.text(), "expired", "did not use it", "/clm receive")
	mustNotContain(t, r.text(), passphrase, "in the library")
	mustContain(t, nickname("bob"), "as bob.")
	if len(e.chatNames("bob")) != 0 {
		t.Fatal("the late answer created a chat")
	}
	// Only that one line: the next is a command again.
	mustContain(t, e.post("bob", dm, "name Bobby").text(), "as Bobby now")

	t.Run("an explicit command ends the wait for a late answer", func(t *testing.T) {
		ask("carol")
		e.clock.Advance(DefaultConfirmWindow + time.Minute)
		mustContain(t, e.post("carol", dm, "/clm chats").text(), "no chats yet")
		r := e.post("carol", dm, "hello there")
		mustContain(t, r.text(), "/clm help")
		if r.deletes != 0 {
			t.Fatal("deleted a line after an explicit command")
		}
	})
	t.Run("so does a command from the platform's menu", func(t *testing.T) {
		ask("dave")
		e.clock.Advance(DefaultConfirmWindow + time.Minute)
		mustContain(t, e.cmd("dave", dm, "chats", "").text(), "no chats yet")
		if r := e.post("dave", dm, "hello there"); r.deletes != 0 {
			t.Fatal("deleted a line after a command")
		}
	})
	t.Run("a day later a line is an ordinary line", func(t *testing.T) {
		ask("erin")
		e.clock.Advance(DefaultConfirmWindow + 25*time.Hour)
		r := e.post("erin", dm, "hello there")
		mustContain(t, r.text(), "/clm help")
		if r.deletes != 0 {
			t.Fatal("deleted a line a day later")
		}
	})
	t.Run("a pasted pointer is received, not taken as an answer", func(t *testing.T) {
		ask("frank")
		e.clock.Advance(DefaultConfirmWindow + time.Minute)
		r := e.post("frank", dm, ptr)
		mustContain(t, r.text(), "None of your unlocked chats opens this pointer", "send it as your next message")
		if r.deletes != 0 {
			t.Fatal("deleted a pointer")
		}
	})
	e.assertNoPublicLeak(passphrase, "in the library")
}

func TestReceiveInPublicWithNothingUnlockedGivesAPrivateHint(t *testing.T) {
	e := newEnv(t, Options{})
	e.newChat("alice", "Work", workSecret)
	ptr := e.send("alice", "Work", "psst")
	r := e.run(Request{Member: member("carol"), Place: general, Command: "receive", Quoted: ptr})
	if len(r.public) != 0 {
		t.Fatalf("public answer %v", r.public)
	}
	mustContain(t, r.text(), "None of your unlocked chats opens this pointer", "/clm unlock")
	mustNotContain(t, r.text(), "psst", "next message")
	// No prompt was set: carol's next private line is not a secret.
	mustContain(t, e.post("carol", dm, workSecret).text(), "/clm help")
	if len(e.chatNames("carol")) != 0 {
		t.Fatal("carol got a chat")
	}
}

func TestReceiveTamperedPointerIsRefusedAndNotStored(t *testing.T) {
	e := newEnv(t, Options{})
	e.newChat("alice", "Work", workSecret)
	ptr := e.send("alice", "Work", "pay 100 coins")
	e.newChat("bob", "Work", workSecret)

	bad := flipLastHex(t, ptr)
	r := e.cmd("bob", dm, "receive", bad)
	mustContain(t, r.text(), "tampered", "changed on the way and was not saved")
	mustNotContain(t, r.text(), "pay 10")
	if h := e.history("bob", "Work"); len(h) != 0 {
		t.Fatalf("stored a tampered message: %+v", h)
	}
	t.Run("through the prompt", func(t *testing.T) {
		e.cmd("dave", dm, "receive", bad)
		r := e.post("dave", dm, workSecret)
		mustContain(t, r.text(), "tampered")
		mustNotContain(t, r.text(), "pay 10")
		if len(e.chatNames("dave")) != 0 {
			t.Fatal("a tampered pointer created a chat")
		}
	})
}

func TestReceiveLegacyPointerIsMarkedUnauthenticated(t *testing.T) {
	e := newEnv(t, Options{})
	e.newChat("bob", "Work", workSecret)
	p, err := clm.NewLegacyPointer([]byte(workSecret), clm.Message{Chat: "Work", Username: "old-client", Text: "from 2.0.2"}, 1700000000)
	if err != nil {
		t.Fatal(err)
	}
	r := e.cmd("bob", dm, "receive", p.String())
	mustContain(t, r.text(), "📨 Work · old-client: from 2.0.2", "Unauthenticated", "no tamper check", "guess its text", "PINs")
	h := e.history("bob", "Work")
	if len(h) != 1 || h[0].Authenticated {
		t.Fatalf("history %+v", h)
	}
	mustContain(t, e.cmd("bob", dm, "history", "Work").text(), "⚠️unauthenticated")
}

func TestPublicPointerPostOffersReceiveButton(t *testing.T) {
	e := newEnv(t, Options{})
	e.newChat("alice", "Work", workSecret)
	ptr := e.send("alice", "Work", "button text")
	e.newChat("bob", "Work", workSecret)

	r := e.post("alice", general, "here: "+ptr)
	if len(r.public) != 1 || r.public[0].ReceiveRef == "" {
		t.Fatalf("public %v", r.public)
	}
	if len(r.private) != 0 {
		t.Fatalf("private answer to a plain post: %v", r.private)
	}
	ref := r.public[0].ReceiveRef
	mustNotContain(t, r.public[0].Text, "button text", "Work")

	t.Run("bob presses Receive", func(t *testing.T) {
		r := e.run(Request{Member: member("bob"), Place: general, Command: "receive", ReceiveRef: ref})
		mustContain(t, r.text(), "button text")
		if len(r.public) != 0 {
			t.Fatal("answered publicly")
		}
		h := e.history("bob", "Work")
		if len(h) != 1 || h[0].Source.Channel != general.ID {
			t.Fatalf("history %+v", h)
		}
	})
	t.Run("carol presses Receive", func(t *testing.T) {
		r := e.run(Request{Member: member("carol"), Place: general, ReceiveRef: ref})
		mustContain(t, r.text(), "None of your unlocked chats")
		mustNotContain(t, r.text(), "button text")
	})
	t.Run("unknown button", func(t *testing.T) {
		r := e.run(Request{Member: member("bob"), Place: general, Command: "receive", ReceiveRef: "rzzz-1"})
		mustContain(t, r.text(), "no longer remember")
	})
	t.Run("chatter gets no answer", func(t *testing.T) {
		r := e.post("alice", general, "lunch anyone?")
		if len(r.public)+len(r.private) != 0 {
			t.Fatalf("answered chatter: %v %v", r.public, r.private)
		}
	})
	t.Run("no buttons, no offer", func(t *testing.T) {
		r := e.run(Request{Member: member("alice"), Place: general, Post: ptr, Caps: Capabilities{MaxPointerChars: 2000}})
		if len(r.public) != 0 {
			t.Fatalf("offered without buttons: %v", r.public)
		}
	})
	e.assertNoPublicLeak("button text", workSecret)
}

func TestJoinedChatNameIsCheckedByTheFirstPointer(t *testing.T) {
	e := newEnv(t, Options{})
	e.newChat("alice", "Work", workSecret)
	ptr := e.send("alice", "Work", "first")

	t.Run("right name confirms", func(t *testing.T) {
		r := e.cmd("bob", dm, "unlock", "Work "+workSecret)
		mustContain(t, r.text(), "joined")
		r = e.cmd("bob", dm, "receive", ptr)
		mustContain(t, r.text(), "📨 Work · alice: first")
		mustNotContain(t, r.text(), "renamed")
	})
	t.Run("wrong name is corrected", func(t *testing.T) {
		e.cmd("carol", dm, "unlock", "work "+workSecret)
		r := e.cmd("carol", dm, "receive", ptr)
		mustContain(t, r.text(), "📨 Work · alice: first", "renamed your chat to Work")
		if names := e.chatNames("carol"); len(names) != 1 || names[0] != "Work" {
			t.Fatalf("carol's chats %v", names)
		}
		if h := e.history("carol", "Work"); len(h) != 1 {
			t.Fatalf("history %+v", h)
		}
	})
	t.Run("a chat sharing the secret is not made from the name inside", func(t *testing.T) {
		e.newChat("dave", "Home", workSecret)
		e.send("dave", "Home", "mine")
		r := e.cmd("dave", dm, "receive", ptr)
		mustContain(t, r.text(), "first", "opens with the secret of your chat Home but names the chat Work", "/clm unlock Work <secret>", "Nothing was saved or changed")
		if names := e.chatNames("dave"); len(names) != 1 {
			t.Fatalf("dave's chats %v", names)
		}
	})
}

func TestReceivePromptWithAnExistingChatOfAnotherSecret(t *testing.T) {
	e := newEnv(t, Options{})
	e.newChat("alice", "Work", workSecret)
	ptr := e.send("alice", "Work", "hello")

	t.Run("an empty chat is not replaced", func(t *testing.T) {
		e.newChat("bob", "Work", "typo-secret-1234")
		e.cmd("bob", dm, "lock", "")
		e.cmd("bob", dm, "receive", ptr)
		r := e.post("bob", dm, workSecret)
		mustContain(t, r.text(), "hello", "another secret", "saved nothing and changed nothing")
		if !e.secretOpens("bob", "Work", "typo-secret-1234") {
			t.Fatal("bob's Work was given the answer's secret")
		}
	})
	t.Run("chat with messages is kept", func(t *testing.T) {
		e.newChat("carol", "Work", "other-secret-1234")
		e.send("carol", "Work", "carol's own")
		e.cmd("carol", dm, "receive", ptr)
		r := e.post("carol", dm, workSecret)
		mustContain(t, r.text(), "hello", "another secret", "saved nothing")
		if h := e.history("carol", "Work"); len(h) != 1 || h[0].Text != "carol's own" {
			t.Fatalf("carol's history changed: %+v", h)
		}
	})
}

func TestWatchOpensChannelPointersForWatchersSeenThere(t *testing.T) {
	e := newEnv(t, Options{})
	n := &notifier{}
	e.b.RegisterNotifier("test", n)
	e.newChat("alice", "Work", workSecret)
	e.newChat("bob", "Work", workSecret)
	e.newChat("dave", "Work", workSecret)
	e.newChat("erin", "Work", workSecret)
	// Their secrets are their own guesses until a pointer of someone else
	// opens with them: watch skips unverified secrets. (erin in another
	// channel: she must not be seen in #general.)
	e.confirmSecret("bob", "Work", "alice", general)
	e.confirmSecret("dave", "Work", "alice", general)
	e.confirmSecret("erin", "Work", "alice", random)
	e.cmd("bob", dm, "watch", "on")
	e.cmd("carol", dm, "watch", "on")
	e.cmd("erin", dm, "watch", "on")
	// bob, carol and dave are seen in #general; erin is not.
	for _, who := range []string{"bob", "carol", "dave"} {
		e.post(who, general, "hi all")
	}
	ptr := e.send("alice", "Work", "watched words")
	e.post("alice", general, ptr)

	mustContain(t, n.to("id-bob"), "📨 Work · alice: watched words", "#general")
	if h := e.history("bob", "Work"); len(h) != 2 || h[0].Text != "watched words" {
		t.Fatalf("bob's history %+v", h)
	}
	for _, who := range []string{"carol", "dave", "erin", "alice"} {
		if got := n.to("id-" + who); got != "" {
			t.Errorf("%s was notified: %q", who, got)
		}
	}
	// Posting it again does not deliver twice.
	e.post("alice", general, ptr)
	if got := strings.Count(n.to("id-bob"), "watched words"); got != 1 {
		t.Fatalf("bob notified %d times", got)
	}
	e.assertNoPublicLeak("watched words", workSecret)
}

func TestAnExplicitCommandIsNotTakenAsTheSecret(t *testing.T) {
	e := newEnv(t, Options{})
	e.newChat("alice", "Work", workSecret)
	ptr := e.send("alice", "Work", "still waiting")
	e.cmd("bob", dm, "receive", ptr)
	r := e.post("bob", dm, "/clm chats")
	mustContain(t, r.text(), "no chats yet")
	r = e.post("bob", dm, "/cancel")
	mustContain(t, r.text(), "Cancelled")
	r = e.post("bob", dm, workSecret)
	mustNotContain(t, r.text(), "still waiting")
	if len(e.chatNames("bob")) != 0 {
		t.Fatal("the line after cancel was taken as a secret")
	}
	// The question survives other explicit commands, and the secret then
	// answers it.
	e.cmd("bob", dm, "receive", ptr)
	e.post("bob", dm, "/clm help")
	mustContain(t, e.post("bob", dm, workSecret).text(), "still waiting")
}

// TestRekeyRacingWatchDeliveriesKeepsEveryDeliveredMessage runs bob's
// rekeys of Work (to carol's secret and back to alice's) against a stream of
// posts that are watch-delivered to him, for the race detector. Each post
// holds a pointer of alice's Work and one of carol's, so one of them opens
// with whichever secret bob has; every message bob is told about must be
// in his history (a save that met a rekey uses the chat's current key).
func TestRekeyRacingWatchDeliveriesKeepsEveryDeliveredMessage(t *testing.T) {
	const rotated = "rotated-secret-5150"
	e := newEnv(t, Options{WatchPerMinute: 100}) // every post delivered, none held back
	n := &notifier{}
	e.b.RegisterNotifier("test", n)
	e.newChat("alice", "Work", workSecret)
	e.newChat("carol", "Work", rotated)
	e.newChat("bob", "Work", workSecret)
	// A rekey makes bob's secret unverified, and watch skips it, until he
	// opens a pointer someone else posted with it: after each rekey he
	// presses the Receive button of such a post.
	refOf := func(who string, secret string) string {
		t.Helper()
		r := e.post(who, general, e.send(who, "Work", "verifies "+secret))
		return r.public[0].ReceiveRef
	}
	verifyWork, verifyRotated := refOf("alice", workSecret), refOf("carol", rotated)
	e.run(Request{Member: member("bob"), Place: general, Command: "receive", ReceiveRef: verifyWork})
	e.cmd("bob", dm, "watch", "on")
	e.post("bob", general, "hi all")
	const rounds = 24
	posts := make([]string, rounds)
	for i := range posts {
		posts[i] = e.send("alice", "Work", "from alice "+itoa(i)) + " " + e.send("carol", "Work", "from carol "+itoa(i))
	}
	handle := func(who string, req Request) {
		req.Member, req.Reply, req.Caps = member(who), &recorder{}, e.caps
		if err := e.b.Handle(context.Background(), req); err != nil {
			t.Error(err)
		}
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		for _, p := range posts {
			handle("dave", Request{Place: general, Post: p})
		}
	})
	wg.Go(func() {
		for range rounds / 2 {
			handle("bob", Request{Place: dm, Command: "rekey", Args: "Work " + rotated})
			handle("bob", Request{Place: general, Command: "receive", ReceiveRef: verifyRotated})
			handle("bob", Request{Place: dm, Command: "rekey", Args: "Work " + workSecret})
			handle("bob", Request{Place: general, Command: "receive", ReceiveRef: verifyWork})
		}
	})
	wg.Wait()
	e.b.watch.waitIdle()
	saved := make(map[string]bool)
	for _, m := range e.history("bob", "Work") {
		saved[m.Username+": "+m.Text] = true
	}
	told := n.to("id-bob")
	delivered := 0
	for i := range rounds {
		for _, who := range []string{"alice", "carol"} {
			msg := who + ": from " + who + " " + itoa(i)
			if strings.Contains(told, msg+" ") {
				delivered++
				if !saved[msg] {
					t.Errorf("bob was told %q but it is not in his history", msg)
				}
			}
		}
	}
	// Between a rekey and the press that verifies it, watch skips bob.
	if delivered == 0 {
		t.Errorf("no message delivered to bob during %d posts", rounds)
	}
	mustNotContain(t, e.logs.String(), "saving a watched message failed")
}

func TestWatchStopsForAMemberWhoLeftTheChannel(t *testing.T) {
	e := newEnv(t, Options{})
	n := &notifier{}
	e.b.RegisterNotifier("test", n)
	e.newChat("alice", "Work", workSecret)
	e.newChat("bob", "Work", workSecret)
	e.confirmSecret("bob", "Work", "alice", general)
	e.cmd("bob", dm, "watch", "on")
	e.post("bob", general, "hi all")
	e.b.MemberLeft(Member{Platform: "test", ID: "id-bob"}, general.ID, false)

	e.post("alice", general, e.send("alice", "Work", "after bob left"))
	if got := n.to("id-bob"); got != "" {
		t.Fatalf("bob, who left #general, was notified: %q", got)
	}

	// Seen again, he is delivered to again; leaving every place stops it.
	e.post("bob", general, "back")
	e.post("alice", general, e.send("alice", "Work", "bob is back"))
	mustContain(t, n.to("id-bob"), "bob is back")
	e.b.MemberLeft(Member{Platform: "test", ID: "id-bob"}, "", true)
	e.post("alice", general, e.send("alice", "Work", "left the server"))
	mustNotContain(t, n.to("id-bob"), "left the server")
}

func TestWatchDeliveriesDoNotKeepAChatUnlocked(t *testing.T) {
	e := newEnv(t, Options{SessionIdle: 30 * time.Minute})
	n := &notifier{}
	e.b.RegisterNotifier("test", n)
	e.newChat("alice", "Work", workSecret)
	ptr := e.send("alice", "Work", "old news")
	e.newChat("bob", "Work", workSecret)
	e.confirmSecret("bob", "Work", "alice", general)
	e.cmd("bob", dm, "watch", "on")
	e.post("alice", general, ptr)
	mustContain(t, n.to("id-bob"), "old news")
	// Someone re-posts the old pointer every 20 minutes; bob asks nothing.
	for range 3 {
		e.clock.Advance(20 * time.Minute)
		e.post("mallory", general, ptr)
	}
	if got := e.b.UnlockedChats(member("bob")); len(got) != 0 {
		t.Fatalf("bob's chats stay unlocked an hour after his last request: %v", got)
	}
	t.Run("the member's own requests keep it unlocked", func(t *testing.T) {
		e.unlock("bob", "Work", workSecret)
		for range 3 {
			e.clock.Advance(20 * time.Minute)
			e.cmd("bob", dm, "receive", ptr)
		}
		if got := e.b.UnlockedChats(member("bob")); len(got) != 1 {
			t.Fatalf("bob's own receives did not keep Work unlocked: %v", got)
		}
	})
}

func TestAReceiveButtonWorksOnlyWhereItWasShown(t *testing.T) {
	e := newEnv(t, Options{})
	e.newChat("alice", "Work", workSecret)
	ptr := e.send("alice", "Work", "group only")
	e.newChat("mallory", "Work", workSecret) // removed from the group, still knows the secret
	ref := e.post("alice", general, ptr).public[0].ReceiveRef
	tests := []struct {
		name  string
		place Place
		who   Member
	}{
		{"in her own private chat", Place{Kind: Private, ID: "dm-mallory", Name: "private chat"}, member("mallory")},
		{"in another channel", random, member("mallory")},
		{"in a channel of the same id on another platform", general, Member{Platform: "other", ID: "id-mallory", DisplayName: "mallory"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.run(Request{Member: tt.who, Place: tt.place, Command: "receive", ReceiveRef: ref})
			mustContain(t, r.text(), "I no longer remember the pointer behind that button")
			mustNotContain(t, r.text(), "group only")
		})
	}
	t.Run("where it was shown", func(t *testing.T) {
		r := e.run(Request{Member: member("mallory"), Place: general, Command: "receive", ReceiveRef: ref})
		mustContain(t, r.text(), "📨 Work · alice: group only")
	})
}

func TestReceiveRefsAreRandomAndFitAButton(t *testing.T) {
	e := newEnv(t, Options{})
	e.newChat("alice", "Work", workSecret)
	ptr := e.send("alice", "Work", "x")
	seen := map[string]bool{}
	prev := ""
	for range 20 {
		ref := e.post("alice", general, ptr).public[0].ReceiveRef
		// 96 bits or more in base32 (5 bits a letter), and room for a
		// platform's framing (Telegram: 64 bytes of callback data).
		if len(ref) < 20 || len(ref) > MaxReceiveRefBytes {
			t.Fatalf("ref %q: %d bytes, want 20 to %d", ref, len(ref), MaxReceiveRefBytes)
		}
		if seen[ref] {
			t.Fatalf("ref %q made twice", ref)
		}
		seen[ref] = true
		// Sequential refs share all but their last letters: one button's
		// ref would give away the next.
		if prev != "" {
			common := 0
			for common < len(ref) && common < len(prev) && ref[common] == prev[common] {
				common++
			}
			if common > 6 {
				t.Fatalf("refs %q and %q share their first %d bytes", prev, ref, common)
			}
		}
		prev = ref
	}
}
