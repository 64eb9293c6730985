package discord

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/clmbridge/clmbridge/platform"
)

// summary renders findings and checks that no secret is in them.
// summary renders findings as the doctor prints them and checks that no
// secret is in them.
func summary(t *testing.T, fs []platform.Finding, secrets ...string) string {
	t.Helper()
	var b strings.Builder
	for _, f := range fs {
		fmt.Fprintf(&b, "[%s] %s\n", f.Level, f.What)
		if f.Fix != "" {
			fmt.Fprintf(&b, "  fix: %s\n", f.Fix)
		}
	}
	for _, s := range secrets {
		if strings.Contains(b.String(), s) {
			t.Errorf("doctor output contains a secret:\n%s", b.String())
		}
	}
	return b.String()
}

func worst(fs []platform.Finding) platform.Level {
	w := platform.OK
	for _, f := range fs {
		w = max(w, f.Level)
	}
	return w
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
		cfg   doctorCheck
		token string
		want  platform.Level
		says  []string
	}{
		{name: "healthy, no message content", st: healthy, cfg: doctorCheck{GuildID: "300"}, want: platform.Info,
			says: []string{"token accepted: bot clmbot", "registered in guild 300", "can view channels, send messages"}},
		{name: "token refused", st: healthy, token: "wrong", want: platform.Fail, says: []string{"token is refused", "Reset Token"}},
		{name: "message content asked but not enabled", st: healthy, cfg: doctorCheck{MessageContent: true}, want: platform.Fail,
			says: []string{"Message Content intent is not enabled", "4014", "Privileged Gateway Intents"}},
		{name: "message content enabled", st: fakeDiscordState{appFlags: flagGatewayMessageContentLimited, commands: registered},
			cfg: doctorCheck{MessageContent: true}, want: platform.OK, says: []string{"Message Content intent is enabled"}},
		{name: "wrong app id", st: healthy, cfg: doctorCheck{AppID: "999"}, want: platform.Fail, says: []string{"CLM_DISCORD_APP_ID is 999", "application 200"}},
		{name: "public bot", st: fakeDiscordState{botPublic: true, commands: registered}, want: platform.Warn, says: []string{"the bot is public", "Public Bot"}},
		{name: "commands not registered globally", st: fakeDiscordState{commands: `[]`}, want: platform.Warn,
			says: []string{"not registered globally", "up to an hour", "CLM_DISCORD_GUILD_ID"}},
		{name: "bot not in the guild", st: fakeDiscordState{commands: registered, memberErr: 404}, cfg: doctorCheck{GuildID: "300"},
			want: platform.Fail, says: []string{"not a member of guild 300", "applications.commands"}},
		{name: "missing send permission", st: fakeDiscordState{commands: registered,
			roles: fmt.Sprintf(`[{"id":"300","permissions":"%d"}]`, permViewChannel)}, cfg: doctorCheck{GuildID: "300"},
			want: platform.Fail, says: []string{"lacks Send Messages, Read Message History"}},
		{name: "administrator", st: fakeDiscordState{commands: registered,
			roles: fmt.Sprintf(`[{"id":"400","permissions":"%d"}]`, permAdministrator)}, cfg: doctorCheck{GuildID: "300"},
			want: platform.Warn, says: []string{"has Administrator"}},
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
