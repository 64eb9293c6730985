package doctor

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clmbridge/clmbridge/internal/instancelock"
	"github.com/clmbridge/clmbridge/storage"
)

const tgToken = "123456:AAFakeDoctorTokenZZ"

// fakeTelegram answers the Bot API methods the doctor calls, checking the
// token in the path like the real server.
func fakeTelegram(t *testing.T, answers map[string]string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		method, ok := strings.CutPrefix(r.URL.Path, "/bot"+tgToken+"/")
		if !ok {
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"ok":false,"error_code":401,"description":"Unauthorized"}`)
			return
		}
		a, ok := answers[method]
		if !ok {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprintf(w, `{"ok":false,"error_code":400,"description":"no %s here"}`, method)
			return
		}
		fmt.Fprintf(w, `{"ok":true,"result":%s}`, a)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func healthyTelegram() map[string]string {
	return map[string]string{
		"getMe":                           `{"id":42,"is_bot":true,"username":"clm_bot","can_join_groups":true,"can_read_all_group_messages":true,"supports_inline_queries":true}`,
		"getWebhookInfo":                  `{"url":"","pending_update_count":0}`,
		"getMyDefaultAdministratorRights": `{"can_delete_messages":true}`,
		"getMyCommands":                   `[{"command":"clm","description":"CLM"}]`,
	}
}

// summary renders findings and checks that no secret is in them.
func summary(t *testing.T, fs []Finding, secrets ...string) string {
	t.Helper()
	var b bytes.Buffer
	Report(&b, fs)
	for _, s := range secrets {
		if strings.Contains(b.String(), s) {
			t.Errorf("doctor output contains a secret:\n%s", b.String())
		}
	}
	return b.String()
}

func worst(fs []Finding) Level {
	w := OK
	for _, f := range fs {
		w = max(w, f.Level)
	}
	return w
}

func TestTelegramDoctor(t *testing.T) {
	tests := []struct {
		name    string
		change  func(a map[string]string)
		token   string
		webhook string
		want    Level
		says    []string
	}{
		{name: "healthy bot", want: OK,
			says: []string{"token accepted: bot @clm_bot", "privacy mode is off", "inline mode is on", "/setinlinefeedback", "long polling will work", "Delete messages right", "/clm command is in the bot's menu"}},
		{name: "token refused", token: "999:WrongTokenWrongToken", want: Fail,
			says: []string{"token is refused", "@BotFather"}},
		{name: "privacy mode on", change: func(a map[string]string) {
			a["getMe"] = `{"id":42,"username":"clm_bot","can_join_groups":true,"can_read_all_group_messages":false,"supports_inline_queries":true}`
		}, want: Warn, says: []string{"privacy mode is on", "/setprivacy"}},
		{name: "inline mode off", change: func(a map[string]string) {
			a["getMe"] = `{"id":42,"username":"clm_bot","can_join_groups":true,"can_read_all_group_messages":true,"supports_inline_queries":false}`
		}, want: Warn, says: []string{"inline mode is off", "/setinline"}},
		{name: "webhook set while polling", change: func(a map[string]string) {
			a["getWebhookInfo"] = `{"url":"https://other.example/hook/SECRETPATH","pending_update_count":3}`
		}, want: Warn, says: []string{"a webhook is set (to other.example)", "409", "deleteWebhook"}},
		{name: "webhook mode with delivery errors", webhook: "https://bridge.example/tg", change: func(a map[string]string) {
			a["getWebhookInfo"] = `{"url":"https://bridge.example/tg","pending_update_count":500,"last_error_message":"Connection refused"}`
		}, want: Warn, says: []string{"registered at bridge.example", "last webhook delivery failed: Connection refused", "500 updates are waiting"}},
		{name: "cannot delete messages in groups", change: func(a map[string]string) {
			a["getMyDefaultAdministratorRights"] = `{"can_delete_messages":false}`
		}, want: Warn, says: []string{"does not ask for the Delete messages right", "administrator"}},
		{name: "no command menu yet", change: func(a map[string]string) { a["getMyCommands"] = `[]` },
			want: Info, says: []string{"not in the bot's menu yet"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := healthyTelegram()
			if tt.change != nil {
				tt.change(a)
			}
			srv := fakeTelegram(t, a)
			tok := tgToken
			if tt.token != "" {
				tok = tt.token
			}
			fs := Telegram{APIURL: srv.URL, Token: tok, WebhookURL: tt.webhook}.Check(context.Background())
			out := summary(t, fs, tgToken, tok, "SECRETPATH")
			if got := worst(fs); got != tt.want {
				t.Errorf("worst level %v, want %v:\n%s", got, tt.want, out)
			}
			for _, s := range tt.says {
				if !strings.Contains(out, s) {
					t.Errorf("output lacks %q:\n%s", s, out)
				}
			}
		})
	}
}

func TestTelegramDoctorUnreachableHidesToken(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close() // nothing listens there any more
	fs := Telegram{APIURL: url, Token: tgToken}.Check(context.Background())
	out := summary(t, fs, tgToken, "AAFakeDoctor")
	if worst(fs) != Fail || !strings.Contains(out, "cannot reach the Bot API") {
		t.Errorf("unreachable API:\n%s", out)
	}
}

const dcToken = "MTA5.FakeDiscordDoctorToken.xyz"

type fakeDiscordState struct {
	appFlags  int64
	botPublic bool
	commands  string
	memberErr int
	roles     string
}

func fakeDiscord(t *testing.T, st fakeDiscordState) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bot "+dcToken {
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"message":"401: Unauthorized","code":0}`)
			return
		}
		switch r.URL.Path {
		case "/api/v9/users/@me":
			fmt.Fprint(w, `{"id":"100","username":"clmbot","bot":true}`)
		case "/api/v9/applications/@me":
			b, _ := json.Marshal(map[string]any{"id": "200", "name": "CLM", "flags": st.appFlags, "bot_public": st.botPublic})
			_, _ = w.Write(b)
		case "/api/v9/applications/200/guilds/300/commands", "/api/v9/applications/200/commands":
			fmt.Fprint(w, st.commands)
		case "/api/v9/guilds/300/members/100":
			if st.memberErr != 0 {
				w.WriteHeader(st.memberErr)
				fmt.Fprint(w, `{"message":"Unknown Member","code":10007}`)
				return
			}
			fmt.Fprint(w, `{"roles":["400"]}`)
		case "/api/v9/guilds/300/roles":
			fmt.Fprint(w, st.roles)
		default:
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, `{"message":"404: Not Found","code":0}`)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestDiscordDoctor(t *testing.T) {
	registered := `[{"name":"clm","type":1},{"name":"Receive CLM pointer","type":3}]`
	goodRoles := fmt.Sprintf(`[{"id":"300","permissions":"%d"},{"id":"400","permissions":"%d"}]`,
		permViewChannel, permSendMessages|permReadHistory)
	healthy := fakeDiscordState{commands: registered, roles: goodRoles}
	tests := []struct {
		name  string
		st    fakeDiscordState
		cfg   Discord
		token string
		want  Level
		says  []string
	}{
		{name: "healthy, no message content", st: healthy, cfg: Discord{GuildID: "300"}, want: Info,
			says: []string{"token accepted: bot clmbot", "registered in guild 300", "can view channels, send messages"}},
		{name: "token refused", st: healthy, token: "wrong", want: Fail, says: []string{"token is refused", "Reset Token"}},
		{name: "message content asked but not enabled", st: healthy, cfg: Discord{MessageContent: true}, want: Fail,
			says: []string{"Message Content intent is not enabled", "4014", "Privileged Gateway Intents"}},
		{name: "message content enabled", st: fakeDiscordState{appFlags: flagGatewayMessageContentLimited, commands: registered},
			cfg: Discord{MessageContent: true}, want: OK, says: []string{"Message Content intent is enabled"}},
		{name: "wrong app id", st: healthy, cfg: Discord{AppID: "999"}, want: Fail, says: []string{"CLM_DISCORD_APP_ID is 999", "application 200"}},
		{name: "public bot", st: fakeDiscordState{botPublic: true, commands: registered}, want: Warn, says: []string{"the bot is public", "Public Bot"}},
		{name: "commands not registered globally", st: fakeDiscordState{commands: `[]`}, want: Warn,
			says: []string{"not registered globally", "up to an hour", "CLM_DISCORD_GUILD_ID"}},
		{name: "bot not in the guild", st: fakeDiscordState{commands: registered, memberErr: 404}, cfg: Discord{GuildID: "300"},
			want: Fail, says: []string{"not a member of guild 300", "applications.commands"}},
		{name: "missing send permission", st: fakeDiscordState{commands: registered,
			roles: fmt.Sprintf(`[{"id":"300","permissions":"%d"}]`, permViewChannel)}, cfg: Discord{GuildID: "300"},
			want: Fail, says: []string{"lacks Send Messages, Read Message History"}},
		{name: "administrator", st: fakeDiscordState{commands: registered,
			roles: fmt.Sprintf(`[{"id":"400","permissions":"%d"}]`, permAdministrator)}, cfg: Discord{GuildID: "300"},
			want: Warn, says: []string{"has Administrator"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := fakeDiscord(t, tt.st)
			d := tt.cfg
			d.Base, d.Token = srv.URL, dcToken
			if tt.token != "" {
				d.Token = tt.token
			}
			d.CommandName, d.ContextMenuName = "clm", "Receive CLM pointer"
			fs := d.Check(context.Background())
			out := summary(t, fs, dcToken)
			if got := worst(fs); got != tt.want {
				t.Errorf("worst level %v, want %v:\n%s", got, tt.want, out)
			}
			for _, s := range tt.says {
				if !strings.Contains(out, s) {
					t.Errorf("output lacks %q:\n%s", s, out)
				}
			}
		})
	}
}

func TestStoreDoctor(t *testing.T) {
	ctx := context.Background()
	cheap := storage.Options{Argon2: storage.Argon2Params{MemoryKiB: 64, Time: 1, Threads: 1}}
	tests := []struct {
		name  string
		setup func(t *testing.T, dir string) // dir is the data directory
		want  Level
		says  []string
	}{
		{name: "nothing yet", setup: func(t *testing.T, dir string) { _ = os.Remove(dir) },
			want: Info, says: []string{"does not exist yet"}},
		{name: "directory but no store", setup: func(t *testing.T, dir string) {},
			want: Info, says: []string{"private to its owner", "no bridge is running", "no store yet"}},
		{name: "a real store", setup: func(t *testing.T, dir string) {
			s, err := storage.Open(ctx, filepath.Join(dir, "bridge.db"), cheap)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
		}, want: Info, says: []string{"the store is intact (schema version"}},
		{name: "not a database", setup: func(t *testing.T, dir string) {
			if err := os.WriteFile(filepath.Join(dir, "bridge.db"), bytes.Repeat([]byte("garbage!"), 1024), 0o600); err != nil {
				t.Fatal(err)
			}
		}, want: Fail, says: []string{"restore"}},
		{name: "world-readable directory", setup: func(t *testing.T, dir string) {
			if err := os.Chmod(dir, 0o755); err != nil {
				t.Fatal(err)
			}
		}, want: Warn, says: []string{"readable by other users (mode 0755)", "chmod 700"}},
		{name: "a bridge holds the directory", setup: func(t *testing.T, dir string) {
			l, err := instancelock.Acquire(dir)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = l.Release() })
		}, want: Info, says: []string{fmt.Sprintf("a bridge is running on this data directory (PID %d)", os.Getpid())}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "data")
			if err := os.Mkdir(dir, 0o700); err != nil {
				t.Fatal(err)
			}
			tt.setup(t, dir)
			fs := Store{DataDir: dir, Path: filepath.Join(dir, "bridge.db")}.Check(ctx)
			out := summary(t, fs)
			if got := worst(fs); got != tt.want {
				t.Errorf("worst level %v, want %v:\n%s", got, tt.want, out)
			}
			for _, s := range tt.says {
				if !strings.Contains(out, s) {
					t.Errorf("output lacks %q:\n%s", s, out)
				}
			}
			if _, err := os.Stat(filepath.Join(dir, "bridge.db")); tt.name == "directory but no store" && err == nil {
				t.Error("the doctor created a store")
			}
		})
	}
}

func TestReportVerdict(t *testing.T) {
	tests := []struct {
		name   string
		fs     []Finding
		wantOK bool
		says   string
	}{
		{"all fine", []Finding{{Area: "store", Level: OK, What: "fine"}}, true, "all checks passed"},
		{"a warning", []Finding{{Area: "telegram", Level: Warn, What: "privacy", Fix: "do X"}}, true, "1 warning(s)"},
		{"a failure", []Finding{{Area: "discord", Level: Fail, What: "token", Fix: "reset"}, {Level: Warn}}, false, "1 problem(s) to fix"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			if got := Report(&b, tt.fs); got != tt.wantOK {
				t.Errorf("Report = %v, want %v", got, tt.wantOK)
			}
			if !strings.Contains(b.String(), tt.says) {
				t.Errorf("output lacks %q:\n%s", tt.says, b.String())
			}
			for _, f := range tt.fs {
				if f.Fix != "" && !strings.Contains(b.String(), "fix: "+f.Fix) {
					t.Errorf("output lacks the fix %q", f.Fix)
				}
			}
		})
	}
}

func TestRunFillsArea(t *testing.T) {
	fs := Run(context.Background(), []Check{
		{Area: "config", Run: func(context.Context) []Finding { return []Finding{{Level: OK, What: "x"}} }},
	})
	if len(fs) != 1 || fs[0].Area != "config" {
		t.Errorf("Run = %+v", fs)
	}
}

func TestStoreDoctorCountsTheWALOfARunningStore(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "bridge.db")
	s, err := storage.Open(ctx, path, storage.Options{Argon2: storage.Argon2Params{MemoryKiB: 64, Time: 1, Threads: 1}})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = s.Close() }()
	if _, err := s.EnsureMember(ctx, storage.MemberRef{Platform: "console", UserID: "alice"}, "alice"); err != nil {
		t.Fatal(err)
	}
	var total int64
	for _, suffix := range []string{"", "-wal", "-shm"} {
		st, err := os.Stat(path + suffix)
		if err != nil {
			t.Fatalf("no %s%s while the store is open: %v", path, suffix, err)
		}
		total += st.Size()
	}
	out := summary(t, Store{DataDir: dir, Path: path}.Check(ctx))
	if want := fmt.Sprintf("%d bytes on disk", total); !strings.Contains(out, want) {
		t.Errorf("output lacks %q (the database, its WAL and shm):\n%s", want, out)
	}
}
