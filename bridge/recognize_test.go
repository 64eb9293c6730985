package bridge

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestParseCommandTextRecognisesEveryWayOfWritingClm(t *testing.T) {
	tests := []struct {
		in, name, args, bot string
		ok                  bool
	}{
		{"/clm unlock Work s3cret", "unlock", "Work s3cret", "", true},
		{"/CLM unlock Work s3cret", "unlock", "Work s3cret", "", true},
		{"/Clm UNLOCK Work s3cret", "unlock", "Work s3cret", "", true},
		{"/clm\nunlock Work s3cret", "unlock", "Work s3cret", "", true},
		{"/clm\tunlock Work s3cret", "unlock", "Work s3cret", "", true},
		{"/clm\u00a0unlock Work s3cret", "unlock", "Work s3cret", "", true},
		{"/clm\u3000unlock\u3000Work s3cret", "unlock", "Work s3cret", "", true},
		{"/clm\u200bunlock Work s3cret", "unlock", "Work s3cret", "", true},
		{"  \t/clm unlock Work s3cret", "unlock", "Work s3cret", "", true},
		{"\uff0fclm unlock Work s3cret", "unlock", "Work s3cret", "", true},
		{"\uff0f\uff43\uff4c\uff4d\u3000\uff55\uff4e\uff4c\uff4f\uff43\uff4b Work", "unlock", "Work", "", true},
		{"/clm@clmbot unlock Work s3cret", "unlock", "Work s3cret", "clmbot", true},
		{"/clm@clmbot", "help", "", "clmbot", true},
		{"/clm", "help", "", "", true},
		{"/clm   ", "help", "", "", true},
		{"/clm s3cret", "s3cret", "", "", true},
		{"/clm send Work line one\nline two", "send", "Work line one\nline two", "", true},
		{"/clmx unlock Work s3cret", "", "", "", false},
		{"/clm:unlock", "", "", "", false},
		{"clm unlock Work s3cret", "", "", "", false},
		{"unlock Work s3cret", "", "", "", false},
		{"", "", "", "", false},
		{"/", "", "", "", false},
		{"/cl", "", "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			ct, ok := ParseCommandText(tt.in)
			if ok != tt.ok || ct.Name != tt.name || ct.Args != tt.args || ct.Bot != tt.bot {
				t.Fatalf("ParseCommandText(%q) = %+v %v, want {%q %q %q} %v", tt.in, ct, ok, tt.name, tt.args, tt.bot, tt.ok)
			}
		})
	}
}

func TestCommandTextForAnotherBotIsNotOurs(t *testing.T) {
	ct, _ := ParseCommandText("/clm@other_bot unlock Work s3cret")
	if ct.ForBot("clmbot") || !ct.ForBot("other_bot") || !ct.ForBot("@Other_Bot") {
		t.Fatalf("ForBot wrong for %+v", ct)
	}
	if ct, _ := ParseCommandText("/clm chats"); !ct.ForBot("clmbot") {
		t.Fatal("a command naming no bot is not for every bot")
	}
}

// clmVariantSecret is the secret the variants below carry; it is no
// command's name and close to none.
const clmVariantSecret = "quartz-velvet-orchid-4411"

// clmVariants are ways members wrote a /clm command that held a secret,
// which must never stay readable in a public place.
func clmVariants() []string {
	s := clmVariantSecret
	return []string{
		"/CLM unlock Work " + s,
		"/Clm unlock Work " + s,
		"/clm\nunlock Work " + s,
		"/clm\tunlock Work " + s,
		"/clm\u00a0unlock Work " + s,
		"/clm\u3000unlock Work " + s,
		"/clm@clmbot unlock Work " + s,
		"   /clm unlock Work " + s,
		"\uff0fclm unlock Work " + s,
		"/clm unlock " + s,
		"/clm rekey " + s,
		`/clm unlock "Work ` + s + `"`,
		`/clm unlock "Work ` + s,
		"/clm " + s,
		"/clm profile " + s,
		"/clm new Work " + s,
		"/clm unlcok Work " + s,
		"/clm help " + s,
		"/clm chats " + s,
	}
}

func TestClmVariantsInPublicAreDeletedAndWarnedPrivatelyWithoutEcho(t *testing.T) {
	for _, text := range clmVariants() {
		t.Run(text, func(t *testing.T) {
			e := newEnv(t, Options{})
			e.newChat("alice", "Work", workSecret)
			e.cmd("alice", dm, "lock", "")
			r := e.post("alice", general, text)
			if r.deletes != 1 {
				t.Fatalf("DeleteRequest called %d times; answer:\n%s", r.deletes, r.text())
			}
			if !strings.Contains(r.text(), "🔥") && !strings.Contains(r.text(), "⚠️") {
				t.Fatalf("no warning:\n%s", r.text())
			}
			mustContain(t, r.text(), "#general")
			mustNotContain(t, r.text(), clmVariantSecret)
			if len(r.public) != 0 {
				t.Fatalf("posted publicly: %v", r.public)
			}
			if len(e.b.UnlockedChats(member("alice"))) != 0 {
				t.Fatal("a secret typed in public unlocked a chat")
			}
			e.assertNoPublicLeak(clmVariantSecret)
		})
	}
}

func TestClmFollowedBySecretInPrivateIsNotShownBack(t *testing.T) {
	for _, text := range []string{"/clm " + clmVariantSecret, "/CLM\u00a0" + clmVariantSecret, "/clm help " + clmVariantSecret} {
		t.Run(text, func(t *testing.T) {
			e := newEnv(t, Options{})
			r := e.post("alice", dm, text)
			mustContain(t, r.text(), "Commands:")
			mustNotContain(t, r.text(), clmVariantSecret, "quartz")
		})
	}
}

func FuzzParseCommandText(f *testing.F) {
	for _, s := range []string{"/clm unlock Work s3cret", "\uff0fCLM\u00a0x", "/clm@bot", "/clm@", " /clm\n\n", "/clmx", "/\uff43lm a"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		ct, ok := ParseCommandText(text)
		if !ok {
			if ct != (CommandText{}) {
				t.Fatalf("not a command, yet %+v", ct)
			}
			return
		}
		if ct.Name == "" || strings.IndexFunc(ct.Name, isCommandSpace) >= 0 || ct.Name != foldCommandName(ct.Name) {
			t.Fatalf("name %q", ct.Name)
		}
		if !strings.HasSuffix(text, ct.Args) {
			t.Fatalf("args %q are not the end of %q", ct.Args, text)
		}
		if r, _ := utf8.DecodeRuneInString(ct.Args); ct.Args != "" && isCommandSpace(r) {
			t.Fatalf("args %q start with white space", ct.Args)
		}
		ct.MayHoldSecret() // must not panic
	})
}

// TestMayHoldSecretFlagsACommandForTheBotThatMayHoldASecret: the check an
// adapter makes to delete such a message in a group at once (Telegram's
// priority lane).
func TestMayHoldSecretFlagsACommandForTheBotThatMayHoldASecret(t *testing.T) {
	tests := []struct {
		text string
		want bool
	}{
		{"/clm unlock Work s3cret", true},
		{"/clm@clm_bot new Work s3cret", true},
		{"/clm rekey Work n3w", true},
		{"/clm profile my master phrase", true},
		{"/CLM Unlock\nWork\ns3cret", true},
		{"/clm\u00a0unlock Work s3cret", true},
		{"\uff0fclm unlock Work s3cret", true},
		{"/clm unlock s3cret", true},
		{"/clm s3cret", true},
		{"/clm chats s3cret", true},
		{"/clm unlock", false},
		{"/clm profile", false},
		{"/clm send Work hello", false},
		{"/clm@other_bot unlock Work s3cret", false},
		{"unlock Work s3cret", false},
		{`{"e": 1, "n": "x", "d": "00"}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			ct, ok := ParseCommandText(tt.text)
			if got := ok && ct.ForBot("clm_bot") && ct.MayHoldSecret(); got != tt.want {
				t.Errorf("may hold a secret = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestSecretCommandsWithoutClmInPublicAreBurned: a member who forgets the
// /clm prefix ("/unlock Work s3cret") has still typed a secret where others
// read it; other slash words, and other bots' commands, stay posts.
func TestSecretCommandsWithoutClmInPublicAreBurned(t *testing.T) {
	burned := []string{
		"/unlock Work " + clmVariantSecret,
		"/UNLOCK " + clmVariantSecret,
		"  /rekey Work " + clmVariantSecret,
		"\uff0funlock Work " + clmVariantSecret,
		"/new Work " + clmVariantSecret,
		"/profile " + clmVariantSecret,
	}
	for _, text := range burned {
		t.Run(text, func(t *testing.T) {
			e := newEnv(t, Options{})
			r := e.post("alice", general, text)
			if r.deletes != 1 {
				t.Fatalf("DeleteRequest called %d times; answer:\n%s", r.deletes, r.text())
			}
			mustContain(t, r.text(), "#general")
			mustNotContain(t, r.text(), clmVariantSecret)
			e.assertNoPublicLeak(clmVariantSecret)
		})
	}
	kept := []string{"/new Work", "/unlock", "/unlock@otherbot Work x", "/poll new lunch?", "/chats", "/help unlock", "unlock Work " + clmVariantSecret}
	for _, text := range kept {
		t.Run(text, func(t *testing.T) {
			e := newEnv(t, Options{})
			r := e.post("alice", general, text)
			if r.deletes != 0 || r.text() != "" || len(r.public) != 0 {
				t.Fatalf("an ordinary post was acted on: %d deletes, %q, %v", r.deletes, r.text(), r.public)
			}
		})
	}
}
