package bridge

import (
	"strings"
	"testing"
)

// argsWithSecret writes spec's arguments up to and including its secret,
// as a member would type them: "Work <secret>", "<secret>".
func argsWithSecret(spec CommandSpec, secret string) string {
	var words []string
	for _, a := range spec.Args {
		switch a.Kind {
		case ArgSecret:
			return strings.Join(append(words, secret), " ")
		case ArgChat:
			words = append(words, "Work")
		case ArgFlag:
			// left out
		default:
			words = append(words, "x")
		}
	}
	return strings.Join(words, " ")
}

func TestEveryCommandWithASecretArgumentIsRefusedInPublic(t *testing.T) {
	n := 0
	for _, spec := range Schema() {
		if !spec.HasSecret() {
			continue
		}
		n++
		args := argsWithSecret(spec, workSecret)
		t.Run(spec.Name, func(t *testing.T) {
			if ct, ok := ParseCommandText("/clm " + spec.Name + " " + args); !ok || !ct.MayHoldSecret() {
				t.Errorf("the recognizer does not flag /clm %s <secret> as holding a secret", spec.Name)
			}
			e := newEnv(t, Options{})
			r := e.cmd("alice", general, spec.Name, args)
			if r.deletes != 1 {
				t.Fatalf("DeleteRequest called %d times", r.deletes)
			}
			mustContain(t, r.text(), "🔥 You typed a secret in #general", "did not use it")
			mustNotContain(t, r.text(), workSecret)
			e.assertNoPublicLeak(workSecret)
			if len(e.b.UnlockedChats(member("alice"))) != 0 || len(e.chatNames("alice")) != 0 {
				t.Fatal("a public secret unlocked or created something")
			}
		})
	}
	if n == 0 {
		t.Fatal("the schema has no command with a secret argument")
	}
}

func TestACommandWhoseSecretIsRequiredRefusesAnyArgumentsInPublic(t *testing.T) {
	for _, spec := range Schema() {
		if !spec.PrivateOnly() {
			continue
		}
		t.Run(spec.Name, func(t *testing.T) {
			// The chat name forgotten: the one word may be the secret.
			e := newEnv(t, Options{})
			r := e.cmd("alice", general, spec.Name, workSecret)
			if r.deletes != 1 {
				t.Fatalf("DeleteRequest called %d times", r.deletes)
			}
			mustContain(t, r.text(), "works only in a private chat with me")
			mustNotContain(t, r.text(), workSecret)
		})
	}
}

func TestHelpListsEveryCommandOfTheSchemaWithItsUsage(t *testing.T) {
	e := newEnv(t, Options{})
	list := e.b.HelpText("")
	for _, spec := range Schema() {
		line := "  " + strings.TrimSpace(spec.Name+" "+spec.Usage()) + " — " + spec.Summary
		if !strings.Contains(list, line) {
			t.Errorf("help misses %q", line)
		}
		if one := e.b.HelpText(spec.Name); !strings.HasPrefix(one, "/clm "+strings.TrimSpace(spec.Name+" "+spec.Usage())) || !strings.Contains(one, spec.Help) {
			t.Errorf("help %s = %q", spec.Name, one)
		}
	}
}

func TestTheUsageOfACommandIsWrittenFromItsArguments(t *testing.T) {
	tests := []struct{ name, want string }{
		{"send", "[--split] <chat> <message>"},
		{"unlock", "<chat> <secret>"},
		{"new", "<chat> [secret]"},
		{"watch", "[on|off]"},
		{"clear", "<chat> [confirm]"},
		{"chats", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec, ok := LookupCommand(tt.name)
			if !ok {
				t.Fatalf("no command %s", tt.name)
			}
			if got := spec.Usage(); got != tt.want {
				t.Errorf("usage %q, want %q", got, tt.want)
			}
		})
	}
}

func TestLogNameShowsOnlyTheSchemasNames(t *testing.T) {
	tests := []struct{ in, want string }{
		{"unlock", "unlock"},
		{"UNLOCK", "unlock"},
		{"correct horse", "unknown"},
		{"", "unknown"},
	}
	for _, tt := range tests {
		if got := LogName(tt.in); got != tt.want {
			t.Errorf("LogName(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestEveryCommandOfTheSchemaHasAHandlerAndNoHandlerIsLeftOver(t *testing.T) {
	run := handlers()
	for _, spec := range Schema() {
		if run[spec.Name] == nil {
			t.Errorf("command %s has no handler", spec.Name)
		}
		delete(run, spec.Name)
	}
	for name := range run {
		t.Errorf("handler %s is for no command of the schema", name)
	}
}

// BenchmarkMayHoldSecret is the check adapters make on every /clm text in
// a group before queueing it.
func BenchmarkMayHoldSecret(b *testing.B) {
	ct, _ := ParseCommandText("/clm unlock Work correct horse")
	b.ReportAllocs()
	for b.Loop() {
		if !ct.MayHoldSecret() {
			b.Fatal("not flagged")
		}
	}
}

// FuzzSchemaSecretRule: whatever follows a command, reading it never
// panics, and in public a command whose secret is required is never let
// through with arguments, nor one whose arguments reach its secret.
func FuzzSchemaSecretRule(f *testing.F) {
	for _, s := range []string{"Work s3cret", `"Project Athena" s3cret`, `"Work`, "", "--split Work hi", "Work 12", "#3", "on", "Work confirm"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, args string) {
		for _, spec := range Schema() {
			ct := CommandText{Name: spec.Name, Args: args}
			flagged := ct.MayHoldSecret()
			if spec.PrivateOnly() && strings.TrimSpace(args) != "" && !flagged {
				t.Fatalf("%s %q is let through in public", spec.Name, args)
			}
			if spec.carriesSecret(args) && !flagged {
				t.Fatalf("%s %q carries a secret but is not flagged", spec.Name, args)
			}
		}
	})
}

func TestEveryOutcomeHasItsOwnWord(t *testing.T) {
	seen := map[string]Outcome{}
	for _, o := range Outcomes() {
		w := o.String()
		if w == "" || w == "unknown-outcome" {
			t.Errorf("outcome %d has no word", int(o))
		}
		if prev, dup := seen[w]; dup {
			t.Errorf("outcomes %d and %d share the word %q", int(prev), int(o), w)
		}
		seen[w] = o
	}
	if got := Outcome(len(Outcomes())).String(); got != "unknown-outcome" {
		t.Errorf("an outcome past the list reads %q", got)
	}
}
