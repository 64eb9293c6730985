package telegram

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/clmbridge/clmbridge/platform"
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

func TestTelegramDoctor(t *testing.T) {
	tests := []struct {
		name    string
		change  func(a map[string]string)
		token   string
		webhook string
		want    platform.Level
		says    []string
	}{
		{name: "healthy bot", want: platform.OK,
			says: []string{"token accepted: bot @clm_bot", "privacy mode is off", "inline mode is on", "/setinlinefeedback", "long polling will work", "Delete messages right", "/clm command is in the bot's menu"}},
		{name: "token refused", token: "999:WrongTokenWrongToken", want: platform.Fail,
			says: []string{"token is refused", "@BotFather"}},
		{name: "privacy mode on", change: func(a map[string]string) {
			a["getMe"] = `{"id":42,"username":"clm_bot","can_join_groups":true,"can_read_all_group_messages":false,"supports_inline_queries":true}`
		}, want: platform.Warn, says: []string{"privacy mode is on", "/setprivacy"}},
		{name: "inline mode off", change: func(a map[string]string) {
			a["getMe"] = `{"id":42,"username":"clm_bot","can_join_groups":true,"can_read_all_group_messages":true,"supports_inline_queries":false}`
		}, want: platform.Warn, says: []string{"inline mode is off", "/setinline"}},
		{name: "webhook set while polling", change: func(a map[string]string) {
			a["getWebhookInfo"] = `{"url":"https://other.example/hook/SECRETPATH","pending_update_count":3}`
		}, want: platform.Warn, says: []string{"a webhook is set (to other.example)", "409", "deleteWebhook"}},
		{name: "webhook mode with delivery errors", webhook: "https://bridge.example/tg", change: func(a map[string]string) {
			a["getWebhookInfo"] = `{"url":"https://bridge.example/tg","pending_update_count":500,"last_error_message":"Connection refused"}`
		}, want: platform.Warn, says: []string{"registered at bridge.example", "last webhook delivery failed: Connection refused", "500 updates are waiting"}},
		{name: "cannot delete messages in groups", change: func(a map[string]string) {
			a["getMyDefaultAdministratorRights"] = `{"can_delete_messages":false}`
		}, want: platform.Warn, says: []string{"does not ask for the Delete messages right", "administrator"}},
		{name: "no command menu yet", change: func(a map[string]string) { a["getMyCommands"] = `[]` },
			want: platform.Info, says: []string{"not in the bot's menu yet"}},
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
			fs := doctorCheck{APIURL: srv.URL, Token: tok, WebhookURL: tt.webhook}.Check(context.Background())
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
	fs := doctorCheck{APIURL: url, Token: tgToken}.Check(context.Background())
	out := summary(t, fs, tgToken, "AAFakeDoctor")
	if worst(fs) != platform.Fail || !strings.Contains(out, "cannot reach the Bot API") {
		t.Errorf("unreachable API:\n%s", out)
	}
}
