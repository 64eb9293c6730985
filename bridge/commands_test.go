package bridge

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/clmbridge/clmbridge/clm"
)

const (
	workSecret = "tulip-harbor-quartz-77"
	wrongGuess = "nope-not-this-one-11"
)

func TestHelpListsEveryCommandAndExplainsOne(t *testing.T) {
	e := newEnv(t, Options{})
	r := e.cmd("alice", dm, "help", "")
	for _, c := range commandTable() {
		mustContain(t, r.text(), "  "+c.Name)
	}
	t.Run("one command", func(t *testing.T) {
		r := e.cmd("alice", dm, "help", "unlock")
		mustContain(t, r.text(), "/clm unlock <chat> <secret>", "private chat")
	})
	t.Run("unknown topic, not shown back (it may be a secret)", func(t *testing.T) {
		r := e.cmd("alice", dm, "help", "frobnicate")
		mustContain(t, r.text(), "no such command", "unlock")
		mustNotContain(t, r.text(), "frobnicate")
	})
	t.Run("every command has help text", func(t *testing.T) {
		for _, c := range commandTable() {
			if text := e.b.HelpText(c.Name); !strings.Contains(text, c.Summary) {
				t.Errorf("help %s = %q", c.Name, text)
			}
		}
	})
}

func TestUnknownCommandGetsFriendlyHelp(t *testing.T) {
	e := newEnv(t, Options{})
	r := e.cmd("alice", dm, "sned", "Work hi")
	mustContain(t, r.text(), "I don't know that command", "Did you mean /clm send?", "/clm help")
	mustNotContain(t, r.text(), "sned")
	if len(r.public) != 0 {
		t.Fatal("unknown command answered publicly")
	}
}

func TestNewGeneratesAStrongSecretShownOncePrivately(t *testing.T) {
	e := newEnv(t, Options{})
	r := e.cmd("alice", general, "new", "Work")
	if len(r.public) != 0 || r.deletes != 0 {
		t.Fatalf("new without a secret in public: public %v deletes %d", r.public, r.deletes)
	}
	lines := strings.Split(r.text(), "\n")
	if len(lines) < 2 {
		t.Fatalf("answer %q", r.text())
	}
	secret := lines[1]
	if len(secret) < 30 || strings.ContainsAny(secret, " ") {
		t.Fatalf("generated secret %q does not look strong", secret)
	}
	// The generated secret is the chat's: lock, and it unlocks again.
	e.cmd("alice", dm, "lock", "Work")
	e.unlock("alice", "Work", secret)
	if got := e.b.UnlockedChats(member("alice")); len(got) != 1 || got[0] != "Work" {
		t.Fatalf("unlocked = %v", got)
	}
}

func TestNew(t *testing.T) {
	tests := []struct {
		name, args string
		place      Place
		want       string
		created    bool
	}{
		{"with a secret", "Work " + workSecret, dm, "Created Work with your secret", true},
		{"quoted name", `"Project Athena" ` + workSecret, dm, "Created Project Athena", true},
		{"short secret", "Work abc", dm, "too short", false},
		{"no name", "", dm, "Usage: /clm new", false},
		{"bad name", "\"a|¶|b\" " + workSecret, dm, "must not contain", false},
		{"unclosed quote", `"Project ` + workSecret, dm, "quote is not closed", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, Options{})
			r := e.cmd("alice", tt.place, "new", tt.args)
			mustContain(t, r.text(), tt.want)
			mustNotContain(t, r.text(), workSecret)
			if got := len(e.chatNames("alice")) == 1; got != tt.created {
				t.Fatalf("created = %v, want %v", got, tt.created)
			}
		})
	}
	t.Run("exists", func(t *testing.T) {
		e := newEnv(t, Options{})
		e.newChat("alice", "Work", workSecret)
		r := e.cmd("alice", dm, "new", "Work another-secret-99")
		mustContain(t, r.text(), "already have a chat named Work")
	})
}

func TestUnlock(t *testing.T) {
	e := newEnv(t, Options{})
	e.newChat("alice", "Work", workSecret)
	e.cmd("alice", dm, "lock", "")

	t.Run("wrong secret unlocks nothing", func(t *testing.T) {
		r := e.cmd("alice", dm, "unlock", "Work "+wrongGuess)
		mustContain(t, r.text(), "does not open Work", "4 times more")
		mustNotContain(t, r.text(), wrongGuess)
		if len(e.b.UnlockedChats(member("alice"))) != 0 {
			t.Fatal("wrong secret unlocked the chat")
		}
	})
	t.Run("right secret", func(t *testing.T) {
		r := e.cmd("alice", dm, "unlock", "Work "+workSecret)
		mustContain(t, r.text(), "Work is unlocked", "30 minutes", "12 hours")
		mustNotContain(t, r.text(), workSecret)
		if r.deletes != 1 {
			t.Fatalf("the private message holding the secret was not deleted (%d)", r.deletes)
		}
	})
	t.Run("missing secret", func(t *testing.T) {
		r := e.cmd("alice", dm, "unlock", "Work")
		mustContain(t, r.text(), "Usage: /clm unlock <chat> <secret>")
	})
	t.Run("join a chat one was told about", func(t *testing.T) {
		r := e.cmd("bob", dm, "unlock", "Work "+workSecret)
		mustContain(t, r.text(), "no chat named Work", "joined", "first pointer")
		if got := e.b.UnlockedChats(member("bob")); len(got) != 1 {
			t.Fatalf("bob unlocked %v", got)
		}
	})
}

func TestUnlockBackoffAfterFiveWrongSecrets(t *testing.T) {
	e := newEnv(t, Options{})
	e.newChat("alice", "Work", workSecret)
	e.newChat("bob", "Work", workSecret)
	e.confirmSecret("alice", "Work", "bob", general) // a verified secret
	e.cmd("alice", dm, "lock", "")
	for i := 1; i <= 4; i++ {
		r := e.cmd("alice", dm, "unlock", "Work "+wrongGuess)
		mustContain(t, r.text(), "does not open Work")
	}
	r := e.cmd("alice", dm, "unlock", "Work "+wrongGuess)
	mustContain(t, r.text(), "Too many wrong secrets", "30 seconds")

	// Even the right secret waits now, and nothing is unlocked.
	r = e.cmd("alice", dm, "unlock", "Work "+workSecret)
	mustContain(t, r.text(), "Too many wrong secrets", "Nothing was unlocked")

	// After the wait: one more wrong secret doubles it.
	e.clock.Advance(31 * time.Second)
	r = e.cmd("alice", dm, "unlock", "Work "+wrongGuess)
	mustContain(t, r.text(), "try again in 1 minute")
	e.clock.Advance(61 * time.Second)
	r = e.cmd("alice", dm, "unlock", "Work "+workSecret)
	mustContain(t, r.text(), "Work is unlocked")

	// Success resets the count.
	r = e.cmd("alice", dm, "unlock", "Work "+wrongGuess)
	mustContain(t, r.text(), "4 times more")

	// Another member is not affected by alice's guesses.
	e.newChat("bob", "Home", workSecret)
	e.unlock("bob", "Home", workSecret)
}

func TestLock(t *testing.T) {
	e := newEnv(t, Options{})
	e.newChat("alice", "Work", workSecret)
	e.newChat("alice", "Home", "home-secret-12345")

	r := e.cmd("alice", dm, "lock", "Work")
	mustContain(t, r.text(), "Locked Work")
	if got := e.b.UnlockedChats(member("alice")); len(got) != 1 || got[0] != "Home" {
		t.Fatalf("after lock Work: %v", got)
	}
	r = e.cmd("alice", dm, "send", "Work hello")
	mustContain(t, r.text(), "Work is locked", "/clm unlock Work <secret>")

	r = e.cmd("alice", dm, "lock", "")
	mustContain(t, r.text(), "Locked 1 chat: Home")
	r = e.cmd("alice", dm, "lock", "")
	mustContain(t, r.text(), "Nothing was unlocked")
	r = e.cmd("alice", dm, "lock", "Work")
	mustContain(t, r.text(), "Work was not unlocked")
}

func TestChatsListsCountsAndLockState(t *testing.T) {
	e := newEnv(t, Options{})
	r := e.cmd("alice", dm, "chats", "")
	mustContain(t, r.text(), "no chats yet", "/clm new")

	e.newChat("alice", "Work", workSecret)
	e.newChat("alice", "Project Athena", "athena-secret-123")
	e.send("alice", "Work", "one")
	e.send("alice", "Work", "two")
	e.cmd("alice", dm, "lock", "Project Athena")

	r = e.cmd("alice", dm, "chats", "")
	mustContain(t, r.text(), "Work — 2 messages, 🔓 unlocked", "Project Athena — 0 messages, 🔒 locked")
	mustNotContain(t, r.text(), "one", "two", workSecret)
}

func TestNameChangesTheSignature(t *testing.T) {
	e := newEnv(t, Options{})
	e.newChat("alice", "Work", workSecret)
	r := e.cmd("alice", dm, "name", "")
	mustContain(t, r.text(), "You sign your messages as alice")

	r = e.cmd("alice", dm, "name", "Alice Liddell")
	mustContain(t, r.text(), "as Alice Liddell now")
	ptr := e.send("alice", "Work", "hi")
	p, _ := clm.ParsePointer(ptr)
	o, err := p.Open([]byte(workSecret))
	if err != nil || o.Username != "Alice Liddell" {
		t.Fatalf("pointer signed %q (%v)", o.Username, err)
	}
	for _, bad := range []string{"x|¶|y", strings.Repeat("n", MaxNicknameRunes+1), "two\nlines"} {
		r = e.cmd("alice", dm, "name", bad)
		mustContain(t, r.text(), "Nothing was changed")
	}
}

func TestProfileShowsPublicKeyOnlyWithMasterPhrasePrivately(t *testing.T) {
	e := newEnv(t, Options{})
	e.newChat("alice", "Work", workSecret)
	r := e.cmd("alice", dm, "profile", "")
	mustContain(t, r.text(), "Nickname: alice", "Work — 0 messages, 🔓 unlocked", "Watch: off")
	mustNotContain(t, r.text(), "Public key")

	const master = "my master phrase is long"
	r = e.cmd("alice", dm, "profile", master)
	mustContain(t, r.text(), "Public key", clm.PublicKey("alice", []byte(master)), "not stored")
	mustNotContain(t, r.text(), master)

	r = e.cmd("alice", general, "profile", master)
	mustContain(t, r.text(), "🔥", "did not use it")
	mustNotContain(t, r.text(), clm.PublicKey("alice", []byte(master)))
	if r.deletes != 1 {
		t.Fatal("public master phrase not deleted")
	}
	e.assertNoPublicLeak(master, workSecret)
}

func TestWatchTogglesAndReports(t *testing.T) {
	e := newEnv(t, Options{})
	mustContain(t, e.cmd("bob", dm, "watch", "").text(), "Watch is off")
	mustContain(t, e.cmd("bob", dm, "watch", "on").text(), "Watch is on")
	mustContain(t, e.cmd("bob", dm, "profile", "").text(), "Watch: on")
	mustContain(t, e.cmd("bob", dm, "watch", "off").text(), "Watch is off")
	mustContain(t, e.cmd("bob", dm, "watch", "maybe").text(), "Usage: /clm watch")
}

func TestCancelDropsAnOpenQuestion(t *testing.T) {
	e := newEnv(t, Options{})
	mustContain(t, e.cmd("alice", dm, "cancel", "").text(), "no open question")
	e.newChat("alice", "Work", workSecret)
	e.cmd("alice", dm, "clear", "Work")
	mustContain(t, e.cmd("alice", dm, "cancel", "").text(), "Cancelled")
	r := e.post("alice", dm, "yes")
	mustNotContain(t, r.text(), "Cleared")
}

func TestPrivateLinesWorkWithoutTheClmPrefix(t *testing.T) {
	e := newEnv(t, Options{})
	r := e.post("alice", dm, "new Work "+workSecret)
	mustContain(t, r.text(), "Created Work")
	r = e.post("alice", dm, "/clm chats")
	mustContain(t, r.text(), "Work — 0 messages")
	r = e.post("alice", dm, "just chatting, my secret is hunter2")
	mustContain(t, r.text(), "/clm help")
	mustNotContain(t, r.text(), "hunter2")
}

func TestCoreMethodsForAdapters(t *testing.T) {
	e := newEnv(t, Options{})
	alice := member("alice")
	if _, err := e.b.MakePointer(context.Background(), alice, "Work", "hi", 0); err == nil || !strings.Contains(err.Error(), "unlock Work") {
		t.Fatalf("MakePointer on a locked chat: %v", err)
	}
	e.newChat("alice", "Work", workSecret)
	ptr, err := e.b.MakePointer(context.Background(), alice, "Work", "inline hello", 0)
	if err != nil {
		t.Fatal(err)
	}
	p, err := clm.ParsePointer(ptr)
	if err != nil {
		t.Fatal(err)
	}
	o, err := p.Open([]byte(workSecret))
	if err != nil || o.Text != "inline hello" || o.Username != "alice" || o.Chat != "Work" || !o.Authenticated {
		t.Fatalf("opened %+v, %v", o, err)
	}
	names, err := e.b.ChatNames(context.Background(), alice)
	if err != nil || len(names) != 1 || names[0] != "Work" {
		t.Fatalf("ChatNames = %v, %v", names, err)
	}
	if cmds := e.b.Commands(); len(cmds) != len(commandTable()) || cmds[0] != "help" {
		t.Fatalf("Commands = %v", cmds)
	}
}

func TestWhileASecretIsAskedCommandsAndSecretsThatLookLikeThemAreTold(t *testing.T) {
	const passphrase = "name of the rose" // starts with the command "name"
	e := newEnv(t, Options{})
	e.newChat("alice", "Work", passphrase)
	ptr := e.send("alice", "Work", "in the library")
	ask := func(who string) {
		t.Helper()
		mustContain(t, e.cmd(who, dm, "receive", ptr).text(), "send it as your next message", "secret: <your secret>")
	}

	t.Run("a line starting with a command's name is neither used nor run, and the question stays open", func(t *testing.T) {
		ask("bob")
		r := e.post("bob", dm, passphrase)
		if r.deletes != 1 {
			t.Fatalf("the line was not removed (%d deletes)", r.deletes)
		}
		mustContain(t, r.text(), "still open", "secret: <your secret>", "/clm chats")
		mustNotContain(t, r.text(), "opens none", "of the rose")
		mustContain(t, e.cmd("bob", dm, "name", "").text(), "as bob.")
		r = e.post("bob", dm, "secret: "+passphrase)
		mustContain(t, r.text(), "in the library")
		if got := e.chatNames("bob"); len(got) != 1 || got[0] != "Work" {
			t.Fatalf("chats %v", got)
		}
	})
	t.Run("a command with /clm runs and the question stays open", func(t *testing.T) {
		ask("carol")
		mustContain(t, e.post("carol", dm, "/clm chats").text(), "no chats yet")
		mustContain(t, e.post("carol", dm, "/CLM\u00a0chats").text(), "no chats yet")
		mustContain(t, e.post("carol", dm, passphrase[len("name "):]).text(), "opens none")
	})
	t.Run("secret: with no question open is removed, not shown back", func(t *testing.T) {
		r := e.post("dave", dm, "secret: "+passphrase)
		if r.deletes != 1 {
			t.Fatalf("not removed (%d)", r.deletes)
		}
		mustContain(t, r.text(), "no secret")
		mustNotContain(t, r.text(), "rose")
	})
}

func TestAChatTheMemberDoesNotHaveIsSaidNotToExistNotLocked(t *testing.T) {
	e := newEnv(t, Options{})
	e.newChat("alice", "Work", workSecret)
	e.newChat("alice", "Project Athena", workSecret+"-2")
	tests := []struct{ cmd, args string }{
		{"send", "Nope hi"},
		{"history", "Nope"},
		{"search", "Nope words"},
		{"export", "Nope"},
		{"trash", "Nope"},
	}
	for _, tt := range tests {
		t.Run(tt.cmd, func(t *testing.T) {
			r := e.cmd("alice", dm, tt.cmd, tt.args)
			mustContain(t, r.text(), "no chat named Nope", "Work", `"Project Athena"`)
			mustNotContain(t, r.text(), "is locked")
		})
	}
	t.Run("a chat that exists but is locked is still said to be locked", func(t *testing.T) {
		e.cmd("alice", dm, "lock", "Work")
		mustContain(t, e.cmd("alice", dm, "history", "Work").text(), "Work is locked")
	})
	t.Run("a member with no chats is told so", func(t *testing.T) {
		mustContain(t, e.cmd("bob", dm, "history", "Nope").text(), "no chat named Nope", "no chats yet")
	})
}
