package discord

import (
	"encoding/json"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/bwmarrin/discordgo"
	"github.com/kelseyhightower/envconfig"

	"github.com/clmbridge/clmbridge/adapters/discord/discordtest"
	"github.com/clmbridge/clmbridge/bridge"
)

var (
	alice   = discordtest.User{ID: "301", Name: "alice"}
	bob     = discordtest.User{ID: "302", Name: "bob"}
	carol   = discordtest.User{ID: "303", Name: "carol"}
	general = discordtest.Channel("77", "500")
)

// decode turns a fake interaction into discordgo's type, as the gateway would.
func decode(t *testing.T, in discordtest.Interaction) *discordgo.Interaction {
	t.Helper()
	raw, err := json.Marshal(in.Payload("1", "tok", discordtest.DefaultAppID))
	if err != nil {
		t.Fatal(err)
	}
	var i discordgo.Interaction
	if err := json.Unmarshal(raw, &i); err != nil {
		t.Fatalf("decoding the interaction: %v", err)
	}
	return &i
}

func TestTranslateInteractions(t *testing.T) {
	pointerPost := discordtest.Message{ID: "42", ChannelID: general.ChannelID, GuildID: general.GuildID, AuthorID: bob.ID,
		Content: "look: ```{\"e\": 1, \"n\": \"x\", \"d\": \"00\"}```"}
	botPost := discordtest.Message{ID: "43", ChannelID: general.ChannelID, GuildID: general.GuildID, AuthorID: "100", Bot: true}
	offer := discordtest.Message{ID: "44", ChannelID: general.ChannelID, GuildID: general.GuildID, AuthorID: "100", Bot: true,
		Content: "🔓 A CLM pointer", ReplyTo: pointerPost.ID, Referenced: &pointerPost}
	unlockModal := discordtest.Modal{CustomID: "clm:modal:unlock", Fields: []discordtest.ModalField{{CustomID: "chat", Value: "Project Athena"}, {CustomID: "secret"}}}
	newModal := discordtest.Modal{CustomID: "clm:modal:new", Fields: []discordtest.ModalField{{CustomID: "chat", Value: "Work"}, {CustomID: "secret"}}}
	sendModal := discordtest.Modal{CustomID: "clm:modal:send", Fields: []discordtest.ModalField{{CustomID: "chat", Value: "Work"}, {CustomID: "text"}}}

	tests := []struct {
		name string
		in   discordtest.Interaction
		want *bridge.Request // nil: no request
		// modal, when not empty, is the custom id of the modal expected.
		modal     string
		modalChat string // the chat field's prefilled value
		note      string // a substring of the ephemeral note expected
	}{
		{name: "send with text option", in: discordtest.Slash(alice, general, "send", discordtest.Opt("chat", "Work"), discordtest.Opt("text", "hello\nthere")),
			want: &bridge.Request{Command: "send", Args: "Work hello\nthere", Confidential: true}},
		{name: "chat name with a space is quoted", in: discordtest.Slash(alice, general, "history", discordtest.Opt("chat", "Project Athena"), discordtest.Opt("page", 2)),
			want: &bridge.Request{Command: "history", Args: `"Project Athena" 2`, Confidential: true}},
		{name: "chat name with a quote is escaped", in: discordtest.Slash(alice, general, "export", discordtest.Opt("chat", `say "hi"`)),
			want: &bridge.Request{Command: "export", Args: `"say \"hi\""`, Confidential: true}},
		{name: "options are ordered as the command defines", in: discordtest.Slash(alice, general, "delete", discordtest.Opt("id", 7), discordtest.Opt("chat", "Work")),
			want: &bridge.Request{Command: "delete", Args: "Work 7", Confidential: true}},
		{name: "lock without a chat", in: discordtest.Slash(alice, general, "lock"), want: &bridge.Request{Command: "lock", Confidential: true}},
		{name: "help about one command", in: discordtest.Slash(alice, general, "help", discordtest.Opt("command", "unlock")),
			want: &bridge.Request{Command: "help", Args: "unlock", Confidential: true}},
		{name: "clear with confirm puts the word last", in: discordtest.Slash(alice, general, "clear", discordtest.Opt("confirm", true), discordtest.Opt("chat", "Work")),
			want: &bridge.Request{Command: "clear", Args: "Work confirm", Confidential: true}},
		{name: "send without text opens a modal", in: discordtest.Slash(alice, general, "send", discordtest.Opt("chat", "Work")), modal: "clm:modal:send", modalChat: "Work"},
		{name: "unlock opens a modal", in: discordtest.Slash(alice, general, "unlock", discordtest.Opt("chat", "Work")), modal: "clm:modal:unlock", modalChat: "Work"},
		{name: "new opens a modal", in: discordtest.Slash(alice, general, "new", discordtest.Opt("chat", "Work")), modal: "clm:modal:new", modalChat: "Work"},
		{name: "rekey opens a modal", in: discordtest.Slash(alice, general, "rekey", discordtest.Opt("chat", "Work")), modal: "clm:modal:rekey", modalChat: "Work"},
		{name: "profile with public key opens a modal", in: discordtest.Slash(alice, general, "profile", discordtest.Opt("master_phrase", true)), modal: "clm:modal:profile"},
		{name: "profile alone goes to the core", in: discordtest.Slash(alice, general, "profile"), want: &bridge.Request{Command: "profile", Confidential: true}},
		{name: "unlock modal submit is confidential", in: discordtest.SubmitModal(alice, general, unlockModal, map[string]string{"secret": "  s3cret words "}),
			want: &bridge.Request{Command: "unlock", Args: `"Project Athena" s3cret words`, Confidential: true}},
		{name: "new without a secret lets the core generate one", in: discordtest.SubmitModal(alice, general, newModal, nil),
			want: &bridge.Request{Command: "new", Args: "Work", Confidential: true}},
		{name: "send modal keeps the text verbatim", in: discordtest.SubmitModal(alice, general, sendModal, map[string]string{"text": " two\nlines "}),
			want: &bridge.Request{Command: "send", Args: "Work  two\nlines ", Confidential: true}},
		{name: "unlock modal without a secret does nothing", in: discordtest.SubmitModal(alice, general, unlockModal, map[string]string{"secret": "  "}), note: "Secret"},
		{name: "profile modal without a master phrase does nothing", in: discordtest.SubmitModal(alice, general, discordtest.Modal{CustomID: "clm:modal:profile", Fields: []discordtest.ModalField{{CustomID: "secret"}}}, map[string]string{"secret": " "}),
			note: "Master phrase"},
		{name: "unknown modal", in: discordtest.SubmitModal(alice, general, discordtest.Modal{CustomID: "other"}, nil), note: "no longer in use"},
		{name: "receive button", in: discordtest.Button(bob, general, botPost, "clm:recv:r-17"),
			want: &bridge.Request{Command: "receive", ReceiveRef: "r-17", MessageID: "43"}},
		{name: "foreign button", in: discordtest.Button(bob, general, botPost, "something"), note: "no longer in use"},
		{name: "context menu quotes the target", in: discordtest.ContextMenu(bob, general, "Receive CLM pointer", pointerPost),
			want: &bridge.Request{Command: "receive", Quoted: pointerPost.Content, MessageID: "42"}},
		{name: "unknown subcommand", in: discordtest.Slash(alice, general, "dance"), note: "/clm help"},
		{name: "send --split goes first", in: discordtest.Slash(alice, general, "send", discordtest.Opt("chat", "Work"), discordtest.Opt("text", "long"), discordtest.Opt("split", true)),
			want: &bridge.Request{Command: "send", Args: "--split Work long", Confidential: true}},
		{name: "clear confirm goes last", in: discordtest.Slash(alice, general, "clear", discordtest.Opt("chat", "Work"), discordtest.Opt("confirm", true)),
			want: &bridge.Request{Command: "clear", Args: "Work confirm", Confidential: true}},
		{name: "a flag switched off adds nothing", in: discordtest.Slash(alice, general, "forget", discordtest.Opt("chat", "Work"), discordtest.Opt("confirm", false)),
			want: &bridge.Request{Command: "forget", Args: "Work", Confidential: true}},
		{name: "watch without a state shows it", in: discordtest.Slash(alice, general, "watch"), want: &bridge.Request{Command: "watch", Confidential: true}},
		{name: "send --split without text keeps the flag in the modal", in: discordtest.Slash(alice, general, "send", discordtest.Opt("chat", "Work"), discordtest.Opt("split", true)),
			modal: "clm:modal:send:--split", modalChat: "Work"},
		{name: "the modal's flag comes back", in: discordtest.SubmitModal(alice, general, discordtest.Modal{CustomID: "clm:modal:send:--split", Fields: sendModal.Fields}, map[string]string{"text": "long"}),
			want: &bridge.Request{Command: "send", Args: "--split Work long", Confidential: true}},
		{name: "a forged flag is refused", in: discordtest.SubmitModal(alice, general, discordtest.Modal{CustomID: "clm:modal:send:--evil", Fields: sendModal.Fields}, map[string]string{"text": "x"}),
			note: "no longer in use"},
		{name: "a Confirm button runs the command the core put on it", in: discordtest.Button(alice, general, botPost, `clm:cmd:forget "Project Athena" confirm`),
			want: &bridge.Request{Command: "forget", Args: `"Project Athena" confirm`}},
		{name: "a Cancel button runs cancel", in: discordtest.Button(alice, general, botPost, "clm:cmd:cancel"), want: &bridge.Request{Command: "cancel"}},
		{name: "a command button naming no command is refused", in: discordtest.Button(alice, general, botPost, "clm:cmd:dance now"), note: "no longer in use"},
		{name: "a button under a post holding a pointer quotes it", in: discordtest.Button(bob, general, pointerPost, "clm:recv:r-1"),
			want: &bridge.Request{Command: "receive", ReceiveRef: "r-1", Quoted: pointerPost.Content, MessageID: "42"}},
		{name: "a button replying to a post holding a pointer quotes that post", in: discordtest.Button(bob, general, offer, "clm:recv:r-2"),
			want: &bridge.Request{Command: "receive", ReceiveRef: "r-2", Quoted: pointerPost.Content, MessageID: "44"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			i := decode(t, tc.in)
			tr := translate(i)
			switch {
			case tc.modal != "":
				if tr.modal == nil || tr.modal.CustomID != tc.modal {
					t.Fatalf("want modal %q, got %+v", tc.modal, tr)
				}
				vals := modalValues(tr.modal.Components)
				if vals["chat"] != tc.modalChat {
					t.Errorf("chat field prefilled with %q, want %q", vals["chat"], tc.modalChat)
				}
				if vals["secret"] != "" {
					t.Errorf("a secret field is prefilled: %q", vals["secret"])
				}
			case tc.note != "":
				if tr.req != nil || !strings.Contains(tr.note, tc.note) {
					t.Fatalf("want a note containing %q, got %+v", tc.note, tr)
				}
			default:
				if tr.req == nil {
					t.Fatalf("want a request, got %+v", tr)
				}
				got := *tr.req
				if got.Command != tc.want.Command || got.Args != tc.want.Args || got.ReceiveRef != tc.want.ReceiveRef ||
					got.Quoted != tc.want.Quoted || got.Confidential != tc.want.Confidential || got.MessageID != tc.want.MessageID {
					t.Errorf("got %+v\nwant %+v", got, *tc.want)
				}
				if got.Member.Platform != "discord" || got.Member.ID == "" || got.Member.DisplayName == "" {
					t.Errorf("member %+v", got.Member)
				}
				if got.Place.Kind != bridge.Public || got.Place.ID != general.ChannelID {
					t.Errorf("place %+v, want the public channel %s", got.Place, general.ChannelID)
				}
			}
		})
	}
}

func TestTranslateDMInteractionIsPrivate(t *testing.T) {
	tr := translate(decode(t, discordtest.Slash(alice, discordtest.DM(alice), "chats")))
	if tr.req == nil || tr.req.Place.Kind != bridge.Private || tr.req.Member.ID != alice.ID {
		t.Fatalf("got %+v", tr.req)
	}
}

func TestNoCommandOptionCanCarryASecret(t *testing.T) {
	// Secrets are typed in modals only: no registered option may be meant
	// for one, and every modal's secret field is in a subcommand that opens it.
	for _, c := range applicationCommands() {
		for _, sub := range c.Options {
			for _, o := range sub.Options {
				if strings.Contains(strings.ToLower(o.Name+o.Description), "secret") ||
					strings.Contains(strings.ToLower(o.Description), "master") && o.Type != discordgo.ApplicationCommandOptionBoolean {
					t.Errorf("/clm %s has option %q (%q) that invites a secret", sub.Name, o.Name, o.Description)
				}
			}
		}
	}
	for _, c := range bridge.Schema() {
		if !c.HasSecret() {
			continue
		}
		s, _ := subByName(c.Name)
		hasSecret := false
		for _, f := range s.modal {
			hasSecret = hasSecret || f.secret
		}
		if !hasSecret {
			t.Errorf("/clm %s has no secret field in its modal", c.Name)
		}
	}
}

// TestTheSlashCommandIsWrittenFromTheCoresSchema: every command of the
// core is a subcommand with its summary, every argument an option or a
// modal field under its key, and a secret only ever a modal field.
func TestTheSlashCommandIsWrittenFromTheCoresSchema(t *testing.T) {
	subs := applicationCommands()[0].Options
	if len(subs) != len(bridge.Schema()) {
		t.Fatalf("%d subcommands for %d commands", len(subs), len(bridge.Schema()))
	}
	for i, c := range bridge.Schema() {
		sub := subs[i]
		if sub.Name != c.Name || !strings.EqualFold(sub.Description, c.Summary) {
			t.Errorf("subcommand %d is %s (%q), want %s (%q)", i, sub.Name, sub.Description, c.Name, c.Summary)
			continue
		}
		s, _ := subByName(c.Name)
		for _, a := range c.Args {
			var opt *discordgo.ApplicationCommandOption
			for _, o := range sub.Options {
				if o.Name == a.Key {
					opt = o
				}
			}
			var field *fieldSpec
			for k, f := range s.modal {
				if f.id == a.Key {
					field = &s.modal[k]
				}
			}
			switch {
			case a.Kind == bridge.ArgSecret:
				if opt != nil || field == nil || !field.secret {
					t.Errorf("/clm %s: the secret %q is not a secret modal field only (option %v, field %+v)", c.Name, a.Name, opt, field)
				}
			case opt == nil:
				t.Errorf("/clm %s: argument %q has no option", c.Name, a.Name)
			case opt.Required && a.Optional:
				t.Errorf("/clm %s: optional argument %q is a required option", c.Name, a.Name)
			}
		}
	}
}

// validName is Discord's rule for command and option names (lower case).
var validName = regexp.MustCompile(`^[-_\p{Ll}\p{N}]{1,32}$`)

func TestApplicationCommandsFitDiscordLimits(t *testing.T) {
	cmds := applicationCommands()
	if len(cmds) != 2 || cmds[0].Name != "clm" || cmds[1].Name != ContextMenuName || cmds[1].Type != discordgo.MessageApplicationCommand {
		t.Fatalf("commands %+v", cmds)
	}
	if n := len(cmds[0].Options); n > 25 {
		t.Errorf("%d subcommands, Discord allows 25", n)
	}
	for _, sub := range cmds[0].Options {
		if !validName.MatchString(sub.Name) {
			t.Errorf("subcommand name %q is not a valid Discord name", sub.Name)
		}
		if len(sub.Description) > 100 || len(sub.Description) == 0 {
			t.Errorf("/clm %s: description of %d characters", sub.Name, len(sub.Description))
		}
		optional := false
		for _, o := range sub.Options {
			if !validName.MatchString(o.Name) {
				t.Errorf("/clm %s: option name %q is not a valid Discord name", sub.Name, o.Name)
			}
			if o.Required && optional {
				t.Errorf("/clm %s: required option %q after an optional one (Discord refuses that)", sub.Name, o.Name)
			}
			optional = optional || !o.Required
			if len(o.Description) > 100 {
				t.Errorf("/clm %s %s: description too long", sub.Name, o.Name)
			}
			if o.Name == "chat" && !o.Autocomplete && sub.Name != "new" {
				t.Errorf("/clm %s: chat option without autocomplete", sub.Name)
			}
		}
		if s, _ := subByName(sub.Name); s.modal != nil {
			if len(s.modalTitle) > 45 {
				t.Errorf("/clm %s: modal title over 45 characters", sub.Name)
			}
			for _, f := range s.modal {
				if len(f.label) > 45 {
					t.Errorf("/clm %s: modal label %q over 45 characters", sub.Name, f.label)
				}
			}
		}
	}
}

func TestSplitText(t *testing.T) {
	long := strings.Repeat("line of text\n", 400) // 5200 characters
	tests := []struct {
		name  string
		text  string
		limit int
		parts int
	}{
		{"short", "hello", 2000, 1},
		{"exactly the limit", strings.Repeat("é", 2000), 2000, 1},
		{"at line breaks", long, 2000, 3},
		{"no line break", strings.Repeat("x", 4500), 2000, 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			parts := splitText(tc.text, tc.limit)
			if len(parts) != tc.parts {
				t.Errorf("%d parts, want %d", len(parts), tc.parts)
			}
			if strings.Join(parts, "") != tc.text {
				t.Error("the parts do not add up to the text: something was lost")
			}
			for _, p := range parts {
				if utf8.RuneCountInString(p) > tc.limit {
					t.Errorf("a part has %d characters", utf8.RuneCountInString(p))
				}
			}
		})
	}
}

func FuzzSplitText(f *testing.F) {
	f.Add("a\nb\nc", 2)
	f.Add(strings.Repeat("ü\n", 50), 7)
	f.Fuzz(func(t *testing.T, s string, limit int) {
		if limit < 1 || limit > 5000 || !utf8.ValidString(s) {
			t.Skip()
		}
		parts := splitText(s, limit)
		if strings.Join(parts, "") != s {
			t.Fatal("lost text")
		}
		for _, p := range parts {
			if utf8.RuneCountInString(p) > limit {
				t.Fatalf("part over the limit")
			}
		}
	})
}

func TestMatchChoices(t *testing.T) {
	names := []string{"Work", "Homework", "Project Athena", "work-old", "Family"}
	got := matchChoices(names, "wor")
	var vals []string
	for _, c := range got {
		vals = append(vals, c.Name)
	}
	if strings.Join(vals, ",") != "Work,work-old,Homework" {
		t.Errorf("got %v; want prefix matches first, then the others containing it", vals)
	}
	many := make([]string, 40)
	for k := range many {
		many[k] = "chat" + string(rune('A'+k))
	}
	if n := len(matchChoices(many, "")); n != 25 {
		t.Errorf("%d choices; Discord allows 25", n)
	}
}

func TestTranslateMessage(t *testing.T) {
	pointer := `{"e": 1700000000, "n": "abcdefghijklmnop", "d": "00ff"}`
	tests := []struct {
		name           string
		guild, content string
		ok             bool
		command, post  string
		kind           bridge.PlaceKind
	}{
		{"DM line: the core decides what it is", "", "unlock Work s3cret", true, "", "unlock Work s3cret", bridge.Private},
		{"DM command with the prefix", "", "/clm unlock Work s3cret", true, "unlock", "", bridge.Private},
		{"DM answer", "", "s3cret", true, "", "s3cret", bridge.Private},
		{"guild post with a pointer", "77", "here " + pointer, true, "", "here " + pointer, bridge.Public},
		{"guild chatter goes to the core (watch notes who is there)", "77", "lunch?", true, "", "lunch?", bridge.Public},
		{"guild without message content", "77", "", false, "", "", bridge.Public},
		{"command typed as text in a guild", "77", "/clm unlock Work s3cret", true, "unlock", "", bridge.Public},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := &discordgo.Message{ID: "9", ChannelID: "500", GuildID: tc.guild, Content: tc.content, Author: &discordgo.User{ID: "301", Username: "alice"}}
			req, ok := translateMessage(m)
			if ok != tc.ok {
				t.Fatalf("ok = %v", ok)
			}
			if !ok {
				return
			}
			if req.Command != tc.command || req.Post != tc.post || req.Place.Kind != tc.kind || req.MessageID != "9" {
				t.Errorf("got %+v", req)
			}
		})
	}
}

func TestRedactor(t *testing.T) {
	r := redactor{token: "tok.en.value"}
	in := `Post "https://discord.com/api/v9/interactions/123/aW50ZXJh-Y3Rpb24/callback": EOF; auth Bot tok.en.value; PATCH /api/v9/webhooks/200/abc.def/messages/@original`
	out := r.Redact(in)
	for _, leak := range []string{"tok.en.value", "aW50ZXJh-Y3Rpb24", "abc.def"} {
		if strings.Contains(out, leak) {
			t.Errorf("%q still in %q", leak, out)
		}
	}
	if !strings.Contains(out, "interactions/123/[redacted]/callback") {
		t.Errorf("the redacted text lost its shape: %q", out)
	}
}

func TestConfigNeverPrintsToken(t *testing.T) {
	c := Config{Token: "very-secret-token", GuildID: "77"}
	for _, s := range []string{c.String(), c.GoString(), c.LogValue().String()} {
		if strings.Contains(s, "very-secret-token") {
			t.Errorf("token printed: %s", s)
		}
	}
}

func TestConfigLoadToken(t *testing.T) {
	dir := t.TempDir()
	file := dir + "/token"
	if err := os.WriteFile(file, []byte("Bot file-token\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	spaced := dir + "/spaced"
	if err := os.WriteFile(spaced, []byte("two words"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		cfg     Config
		want    string
		wantErr string
	}{
		{"from the environment", Config{Token: "env-token"}, "env-token", ""},
		{"prefix removed", Config{Token: "Bot env-token"}, "env-token", ""},
		{"from a file", Config{TokenFile: file}, "file-token", ""},
		{"both refused, as for every platform", Config{Token: "env-token", TokenFile: file}, "", "not both"},
		{"missing file", Config{TokenFile: dir + "/nope"}, "", "CLM_DISCORD_TOKEN_FILE"},
		{"white space inside", Config{TokenFile: spaced}, "", "white space"},
		{"none", Config{}, "", "CLM_DISCORD_TOKEN"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.cfg.LoadToken()
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one mentioning %s", err, tc.wantErr)
				}
				if strings.Contains(err.Error(), "two words") {
					t.Errorf("the error shows the file's content: %v", err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("got %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

func TestConfigFromTheEnvironment(t *testing.T) {
	t.Setenv("CLM_DISCORD_TOKEN", "tok")
	t.Setenv("CLM_DISCORD_TOKEN_FILE", "/run/secrets/discord")
	t.Setenv("CLM_DISCORD_APP_ID", "200")
	t.Setenv("CLM_DISCORD_GUILD_ID", "77")
	t.Setenv("CLM_DISCORD_MESSAGE_CONTENT", "true")
	t.Setenv("CLM_DISCORD_API_URL", "http://127.0.0.1:9")
	var c Config
	if err := envconfig.Process("", &c); err != nil {
		t.Fatal(err)
	}
	want := Config{Token: "tok", TokenFile: "/run/secrets/discord", AppID: "200", GuildID: "77", MessageContent: true, APIURL: "http://127.0.0.1:9"}
	if c != want {
		t.Errorf("got %s, want %s", c, want)
	}
}

func TestNewRefusesBadSettings(t *testing.T) {
	core := newFakeCore()
	tests := []struct {
		name string
		cfg  Config
		core bridge.Core
		want string
	}{
		{"no token", Config{}, core, "CLM_DISCORD_TOKEN"},
		{"no core", Config{Token: "t"}, nil, "core"},
		{"API URL without a scheme", Config{Token: "t", APIURL: "discord.com"}, core, "CLM_DISCORD_API_URL"},
		{"API URL of another scheme", Config{Token: "t", APIURL: "ftp://x"}, core, "CLM_DISCORD_API_URL"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.cfg, tc.core, nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("New = %v, want an error mentioning %s", err, tc.want)
			}
		})
	}
}

func FuzzParseModalID(f *testing.F) {
	for _, s := range []string{"clm:modal:send", "clm:modal:send:--split", "clm:modal:clear:confirm", "clm:modal:", "x", "clm:modal:unlock:--split"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, id string) {
		s, lead, trail, ok := parseModalID(id)
		if !ok {
			return
		}
		if s.modal == nil {
			t.Fatalf("%q: accepted a subcommand without a modal", id)
		}
		for _, w := range append(lead, trail...) {
			declared := false
			for _, o := range s.opts {
				declared = declared || (o.kind == optFlag && o.flag == w)
			}
			if !declared {
				t.Fatalf("%q: accepted the undeclared flag %q", id, w)
			}
		}
	})
}

func FuzzRedactor(f *testing.F) {
	f.Add("tok.en.value-123", "error at /api/v9/interactions/1/abc/callback with tok.en.value-123")
	f.Add("aaaaaaaa", "aaaa")
	f.Fuzz(func(t *testing.T, token, text string) {
		// Real tokens are long and made of base64url characters and dots;
		// others could be rebuilt from the "[redacted]" marker itself.
		if len(token) < 8 || strings.Contains("[redacted]", token) || strings.Trim(token, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") != "" {
			t.Skip()
		}
		out := redactor{token: token}.Redact(text + token + text)
		if strings.Contains(out, token) {
			t.Fatalf("the token survived: %q", out)
		}
	})
}

type headerRT http.Header

func (h headerRT) RoundTrip(*http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: 429, Header: http.Header(h).Clone(), Body: http.NoBody}, nil
}

func TestClampTransportBoundsTheResetDiscordgoSleepsFor(t *testing.T) {
	tests := []struct {
		name, resetAfter, want string
	}{
		{"an hour is cut to the bound", "3600", "2.000"},
		{"garbage is cut to the bound", "soon", "2.000"},
		{"a short wait is kept", "0.5", "0.5"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rt := clampTransport{max: 2 * time.Second, next: headerRT{
				"X-Ratelimit-Reset-After": {tc.resetAfter}, "X-Ratelimit-Reset": {"99999999999"}}}
			req, _ := http.NewRequest("GET", "http://127.0.0.1/", nil)
			resp, err := rt.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			if got := resp.Header.Get("X-RateLimit-Reset-After"); got != tc.want {
				t.Errorf("Reset-After %q, want %q", got, tc.want)
			}
			if resp.Header.Get("X-RateLimit-Reset") != "" {
				t.Error("the absolute reset time was kept")
			}
		})
	}
}

func TestConfirmButtonsFitDiscordsCustomIDLimit(t *testing.T) {
	for _, tc := range []struct {
		yes  string
		fits bool
	}{
		{`forget "Project Athena" confirm`, true},
		{strings.Repeat("é", maxCustomID-len(commandPrefix)), true}, // characters, not bytes
		{strings.Repeat("x", maxCustomID-len(commandPrefix)+1), false},
	} {
		row, ok := confirmButtons(tc.yes, "cancel")
		if ok != tc.fits {
			t.Errorf("confirmButtons(%d characters) fits = %v, want %v", len([]rune(tc.yes)), ok, tc.fits)
			continue
		}
		if ok {
			b := row[0].(discordgo.ActionsRow).Components
			if len(b) != 2 || b[0].(discordgo.Button).CustomID != commandPrefix+tc.yes || b[1].(discordgo.Button).CustomID != commandPrefix+"cancel" {
				t.Errorf("buttons %+v", b)
			}
		}
	}
}
