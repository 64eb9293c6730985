package app

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/clmbridge/clmbridge/adapters/discord"
	"github.com/clmbridge/clmbridge/adapters/discord/discordtest"
	"github.com/clmbridge/clmbridge/adapters/telegram"
	"github.com/clmbridge/clmbridge/adapters/telegram/telegramtest"
	"github.com/clmbridge/clmbridge/bridge"
	"github.com/clmbridge/clmbridge/platform"
)

func TestParseAdmins(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []admin
		errSays string // empty: valid
		notSays string // the error must not repeat it
	}{
		{name: "empty", in: "", want: nil},
		{name: "only spaces and commas", in: " , ,", want: nil},
		{name: "one of each", in: "telegram:123456789,discord:80351110224678912,console:alice",
			want: []admin{{"telegram", "123456789"}, {"discord", "80351110224678912"}, {"console", "alice"}}},
		{name: "spaces, case and a trailing comma", in: " Telegram : 42 ,  console:bob_2 ,",
			want: []admin{{"telegram", "42"}, {"console", "bob_2"}}},
		{name: "no colon", in: "telegram:1,alice", errSays: "entry 2 is not platform:id"},
		{name: "no id", in: "discord:", errSays: "entry 1 is not platform:id"},
		{name: "unknown platform", in: "slack:U123", errSays: `platform "slack" is not telegram, discord or console`},
		{name: "telegram username", in: "telegram:@alice", errSays: "not a @username", notSays: "@alice"},
		{name: "telegram negative (a group, not a user)", in: "telegram:-100123", errSays: "Telegram user id is a number"},
		{name: "discord name", in: "discord:alice#1234", errSays: "Discord user id is a number", notSays: "alice#1234"},
		{name: "console name with a space", in: "console:al ice", errSays: "console member is a name"},
		{name: "a token pasted by mistake", in: "telegram:123456:AAHsomeBotTokenPasted", errSays: "entry 1", notSays: "AAHsomeBotTokenPasted"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseAdmins(tt.in)
			if tt.errSays == "" {
				if err != nil {
					t.Fatalf("error %v", err)
				}
				if fmt.Sprint(got) != fmt.Sprint(tt.want) {
					t.Fatalf("got %v, want %v", got, tt.want)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.errSays) || !strings.Contains(err.Error(), "CLM_ADMINS") {
				t.Fatalf("error %v, want one naming CLM_ADMINS and saying %q", err, tt.errSays)
			}
			if tt.notSays != "" && strings.Contains(err.Error(), tt.notSays) {
				t.Fatalf("the error repeats %q: %v", tt.notSays, err)
			}
		})
	}
}

func FuzzParseAdmins(f *testing.F) {
	for _, s := range []string{"", "telegram:1", "console:alice, discord:2", "x:y:z", ",,", "telegram:@a"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		list, err := parseAdmins(s)
		if err != nil {
			return
		}
		for _, a := range list {
			if checkAdminID(a.platform, a.id) != nil || strings.ContainsAny(a.id, ", ") {
				t.Fatalf("accepted %+v from %q", a, s)
			}
		}
		is, err := isAdminFunc(s)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range list {
			if !is(bridge.Member{Platform: a.platform, ID: a.id}) {
				t.Fatalf("%+v is listed but not an admin", a)
			}
		}
	})
}

func TestLoadConfigReadsAdmins(t *testing.T) {
	t.Run("valid", func(t *testing.T) {
		clearEnv(t)
		t.Setenv("CLM_ADMINS", "telegram:1001, console:alice")
		cfg, err := LoadConfig()
		if err != nil {
			t.Fatal(err)
		}
		is, err := isAdminFunc(cfg.Admins)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range []struct {
			m    bridge.Member
			want bool
		}{
			{bridge.Member{Platform: "telegram", ID: "1001"}, true},
			{bridge.Member{Platform: "console", ID: "alice"}, true},
			{bridge.Member{Platform: "discord", ID: "1001"}, false},
			{bridge.Member{Platform: "console", ID: "bob"}, false},
		} {
			if got := is(m.m); got != m.want {
				t.Errorf("IsAdmin(%+v) = %v", m.m, got)
			}
		}
	})
	t.Run("invalid refuses to start", func(t *testing.T) {
		clearEnv(t)
		t.Setenv("CLM_ADMINS", "telegram:@alice")
		_, err := LoadConfig()
		if err == nil || !strings.Contains(err.Error(), "CLM_ADMINS") {
			t.Fatalf("err = %v", err)
		}
		cfg := storyCfg(t.TempDir())
		cfg.Admins = "telegram:@alice"
		err = RunWith(context.Background(), cfg, Options{Storage: cheapStore}, strings.NewReader(""), io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), "CLM_ADMINS") {
			t.Fatalf("RunWith with bad CLM_ADMINS: %v", err)
		}
		if _, statErr := os.Stat(filepath.Join(cfg.DataDir, DBFileName)); statErr == nil {
			t.Error("a store was created despite the invalid configuration")
		}
	})
	t.Run("doctor says who may run it in chat", func(t *testing.T) {
		var b strings.Builder
		for _, f := range configFindings(Config{Admins: "telegram:1,console:alice", HTTPAddr: "off"}) {
			b.WriteString(f.What + "\n")
		}
		for _, f := range configFindings(Config{HTTPAddr: "off"}) {
			b.WriteString(f.What + "\n")
		}
		for _, want := range []string{"2 operator(s) named in CLM_ADMINS", "no operator is named in CLM_ADMINS"} {
			if !strings.Contains(b.String(), want) {
				t.Errorf("findings lack %q:\n%s", want, b.String())
			}
		}
	})
	t.Run("empty: nobody", func(t *testing.T) {
		is, err := isAdminFunc(" ")
		if err != nil || is != nil {
			t.Fatalf("IsAdmin %v, err %v", is != nil, err)
		}
	})
}

func storyCfg(dir string) Config {
	return Config{DataDir: dir, SessionIdle: 30 * time.Minute, SessionMaxAge: 12 * time.Hour,
		RateBurst: 20, RatePerMinute: 30, LogLevel: "debug", LogFormat: "text", HTTPAddr: "off"}
}

// TestConsoleDoctorForAdmins runs the bridge in console mode with
// CLM_ADMINS=console:alice: alice gets the doctor's report (the store
// check included) privately, in her DM and when she asks in #general, where
// nothing is posted; bob is refused.
func TestConsoleDoctorForAdmins(t *testing.T) {
	cfg := storyCfg(t.TempDir())
	cfg.Admins = "console:alice"
	in := strings.Join([]string{
		"alice@dm: new Work tulip-harbor-quartz-77", // the store exists and holds a chat
		"alice@dm: /clm doctor",
		"alice@#general: /clm doctor",
		"bob@dm: /clm doctor",
		"bob@#general: /clm doctor",
		"bob@dm: /clm whoami",
	}, "\n") + "\n"
	stdout, stderr := newWatchWriter(), newWatchWriter()
	if err := RunWith(context.Background(), cfg, Options{Storage: cheapStore}, strings.NewReader(in), stdout, stderr); err != nil {
		t.Fatalf("RunWith: %v\n%s", err, stderr.String())
	}
	out := stdout.String()
	var alice, bob, public []string
	for _, l := range strings.Split(out, "\n") {
		switch {
		case strings.HasPrefix(l, "-> alice (private): "):
			alice = append(alice, l)
		case strings.HasPrefix(l, "-> bob (private): "):
			bob = append(bob, l)
		case strings.Contains(l, "(public)"):
			public = append(public, l)
		}
	}
	a := strings.Join(alice, "\n")
	if n := strings.Count(a, "Bridge doctor (only you see this)"); n != 2 {
		t.Errorf("alice got %d doctor reports, want 2 (DM and #general):\n%s", n, out)
	}
	for _, want := range []string{"store: the store is intact", "config: the configuration is valid", "console mode", "a bridge is running on this data directory"} {
		if !strings.Contains(a, want) {
			t.Errorf("alice's report lacks %q:\n%s", want, a)
		}
	}
	b := strings.Join(bob, "\n")
	if strings.Count(b, "for the bot's operators") != 2 || strings.Contains(b, "store:") || strings.Contains(b, "alice") {
		t.Errorf("bob was not refused kindly, or learnt something:\n%s", b)
	}
	if !strings.Contains(b, "console:bob") {
		t.Errorf("whoami did not show bob his id:\n%s", b)
	}
	if len(public) != 0 {
		t.Errorf("posted publicly: %q", public)
	}
}

// TestTelegramDoctorForAdmins runs the bridge with the Telegram adapter on
// a fake Bot API and CLM_ADMINS naming alice by her Telegram id: her
// /clm doctor, in her DM or in a group, answers in her DM with the
// platform's findings, and the group sees nothing; bob is refused; the bot
// token is in no message and no log line.
func TestTelegramDoctorForAdmins(t *testing.T) {
	const token = "4343:DoctorChatTokenQwertyZXC"
	fake := telegramtest.New(t, telegramtest.Options{Token: token})
	cfg := storyCfg(t.TempDir())
	cfg.RatePerMinute = 0
	cfg.Admins = "telegram:1001"
	cfg.Platforms = map[string]platform.Config{telegram.Name: telegram.Config{
		Token: fake.Token, APIURL: fake.URL, PollTimeout: time.Second,
		PerChatInterval: time.Millisecond, GroupPerMinute: 60_000, GlobalPerSecond: 10_000,
		MaxAttempts: 3, RetryBase: time.Millisecond, RetryMax: 10 * time.Millisecond,
	}}
	stderr, stop := runInBackground(t, cfg)

	alice := telegramtest.User{ID: 1001, FirstName: "Alice", Username: "alice"}
	bob := telegramtest.User{ID: 1002, FirstName: "Bob", Username: "bob"}
	team := telegramtest.Group(-1009, "Team")
	texts := func(chat int64) string {
		var b strings.Builder
		for _, m := range fake.BotMessages(chat) {
			b.WriteString(m.Text + "\n")
		}
		return b.String()
	}
	await := func(chat int64, n int) {
		t.Helper()
		fake.Await(t, time.Minute, fmt.Sprintf("%d bot messages in %d", n, chat), func() bool { return len(fake.BotMessages(chat)) >= n })
	}

	fake.SendText(alice, alice.PrivateChat(), "/clm doctor")
	await(alice.ID, 1)
	fake.SendText(alice, team, "/clm doctor")
	fake.SendText(bob, team, "/clm doctor")
	fake.SendText(bob, bob.PrivateChat(), "/clm doctor")
	await(alice.ID, 2)
	await(bob.ID, 2)
	// A marker after the group requests: once it is answered, they were too.
	fake.SendText(bob, bob.PrivateChat(), "/clm whoami")
	await(bob.ID, 3)
	stop()

	a, b, group := texts(alice.ID), texts(bob.ID), texts(team.ID)
	if strings.Count(a, "Bridge doctor (only you see this)") != 2 {
		t.Errorf("alice's DM:\n%s", a)
	}
	for _, want := range []string{"telegram: token accepted: bot @", "telegram: privacy mode is on", "fix: @BotFather", "store: "} {
		if !strings.Contains(a, want) {
			t.Errorf("alice's report lacks %q:\n%s", want, a)
		}
	}
	if strings.Count(b, "for the bot's operators") != 2 || strings.Contains(b, "privacy mode") || !strings.Contains(b, "telegram:1002") {
		t.Errorf("bob's DM:\n%s", b)
	}
	if group != "" {
		t.Errorf("the group saw:\n%s", group)
	}
	for where, s := range map[string]string{"alice's DM": a, "bob's DM": b, "the logs": stderr.String()} {
		for _, bad := range []string{token, "DoctorChatTokenQwertyZXC"} {
			if strings.Contains(s, bad) {
				t.Errorf("%s hold the token", where)
			}
		}
	}
}

// TestDoctorInChatIsBoundedAndRedacted: a platform that never answers
// cannot hang /clm doctor (the checks stop at the timeout and say so), and
// a token of the configuration never reaches the report, even when it was
// read from a file.
func TestDoctorInChatIsBoundedAndRedacted(t *testing.T) {
	hung := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }))
	t.Cleanup(hung.Close)
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "discord_token")
	const discordToken = "MTAxDiscordTokenFromAFile.Gx1234.abcdefghijklmnop"
	if err := os.WriteFile(tokenFile, []byte(discordToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := storyCfg(filepath.Join(dir, "data"))
	cfg.Platforms = map[string]platform.Config{
		telegram.Name: telegram.Config{Token: "5151:HungTelegramTokenQwerty", APIURL: hung.URL},
		discord.Name:  discord.Config{TokenFile: tokenFile, APIURL: hung.URL},
	}

	got := make(chan string, 1)
	go func() { got <- doctorFunc(cfg, 200*time.Millisecond)(context.Background()) }()
	var report string
	select {
	case report = <-got:
	case <-time.After(time.Minute): // a bound on a hang, not a timing goal
		t.Fatal("the doctor did not return although its checks were bounded")
	}
	for _, want := range []string{"telegram: cannot reach the Bot API", "discord:", "stopped after 200ms"} {
		if !strings.Contains(report, want) {
			t.Errorf("report lacks %q:\n%s", want, report)
		}
	}
	for _, bad := range []string{"HungTelegramTokenQwerty", discordToken} {
		if strings.Contains(report, bad) {
			t.Errorf("the report holds a token:\n%s", report)
		}
	}

	// The second guard: whatever a check says, a configured token is cut.
	secrets := configSecrets(cfg)
	if r := redactAll("a "+discordToken+" b 5151:HungTelegramTokenQwerty c", secrets...); r != "a [redacted] b [redacted] c" {
		t.Errorf("redactAll = %q", r)
	}
}

// TestDiscordDoctorForAdmins runs the bridge with the Discord adapter on a
// fake Discord and CLM_ADMINS naming alice by her Discord id: /clm doctor in
// a server channel answers her ephemerally with the Discord check's
// findings, posts nothing in the channel, refuses bob, and never shows the
// token.
func TestDiscordDoctorForAdmins(t *testing.T) {
	fake := discordtest.New(t)
	cfg := storyCfg(t.TempDir())
	cfg.RatePerMinute = 0
	cfg.Admins = "discord:301"
	cfg.Platforms = map[string]platform.Config{discord.Name: discord.Config{Token: fake.Token(), APIURL: fake.URL(), GuildID: "77"}}
	logs := newWatchWriter()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- RunWith(ctx, cfg, Options{Storage: cheapStore}, strings.NewReader(""), io.Discard, logs)
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("RunWith: %v", err)
		}
	})
	fake.WaitReady(t)
	fake.WaitCall(t, "command registration", func(c discordtest.Call) bool { return c.Method == "PUT" && c.Status == 200 })

	alice := discordtest.User{ID: "301", Name: "alice"}
	bob := discordtest.User{ID: "302", Name: "bob"}
	general := discordtest.Channel("77", "500")
	answer := func(u discordtest.User, sub string) string {
		t.Helper()
		in := fake.Interact(t, discordtest.Slash(u, general, sub))
		rep := fake.WaitText(t, in.ID)
		if !rep.Ephemeral {
			t.Errorf("the answer to %s's /clm %s is not ephemeral: %q", u.Name, sub, rep.Content)
		}
		return rep.Content
	}
	a := answer(alice, "doctor")
	for _, want := range []string{"Bridge doctor (only you see this)", "discord:", "store:"} {
		if !strings.Contains(a, want) {
			t.Errorf("alice's report lacks %q:\n%s", want, a)
		}
	}
	b := answer(bob, "doctor")
	if !strings.Contains(b, "for the bot's operators") || strings.Contains(b, "discord:") {
		t.Errorf("bob saw:\n%s", b)
	}
	if w := answer(bob, "whoami"); !strings.Contains(w, "discord:302") {
		t.Errorf("bob's whoami: %q", w)
	}
	if msgs := fake.ChannelMessages(general.ChannelID); len(msgs) != 0 {
		t.Errorf("posted in the channel: %+v", msgs)
	}
	for where, s := range map[string]string{"alice's report": a, "bob's answer": b, "the logs": logs.String()} {
		if strings.Contains(s, fake.Token()) {
			t.Errorf("%s hold the token", where)
		}
	}
}
