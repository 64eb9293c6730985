package telegram

import (
	"context"
	"net"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/clmbridge/clmbridge/adapters/telegram/telegramtest"
)

func startWebhook(t *testing.T, secret string) *harness {
	t.Helper()
	h := startHarness(t, telegramtest.Options{}, func(c *Config) {
		c.WebhookURL = "https://bridge.example.org/telegram"
		c.WebhookListen = "127.0.0.1:0"
		c.WebhookSecret = secret
	})
	h.awaitCalls("setWebhook", 1)
	return h
}

func TestWebhookChecksTheSecretToken(t *testing.T) {
	h := startWebhook(t, "s3cr3t_hook-token")
	url, secret := h.tg.Webhook()
	if url != "https://bridge.example.org/telegram" || secret != "s3cr3t_hook-token" {
		t.Fatalf("setWebhook registered %q with secret %q", url, secret)
	}
	if len(h.tg.Calls("getUpdates")) != 0 || len(h.tg.Calls("deleteWebhook")) != 0 {
		t.Errorf("webhook mode polled or removed its webhook")
	}
	if st := h.a.Status(); !st.Webhook || !st.Connected {
		t.Errorf("status = %+v", st)
	}
	addr := "http://" + h.a.WebhookAddr() + "/telegram"
	ctx := context.Background()
	upd := func(text string) telegramtest.Update {
		m := telegramtest.Message{MessageID: 5, From: &alice, Chat: alice.PrivateChat(), Date: 1, Text: text}
		return telegramtest.Update{UpdateID: 1, Message: &m}
	}

	tests := []struct {
		name   string
		secret string
		status int
	}{
		{"no secret", "", http.StatusUnauthorized},
		{"wrong secret", "s3cr3t_hook-tokeN", http.StatusUnauthorized},
		{"prefix of the secret", "s3cr3t", http.StatusUnauthorized},
		{"right secret", "s3cr3t_hook-token", http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, err := telegramtest.PostUpdate(ctx, addr, tt.secret, upd("/clm "+strings.ReplaceAll(tt.name, " ", "_")))
			if err != nil || status != tt.status {
				t.Fatalf("status %d, %v; want %d", status, err, tt.status)
			}
		})
	}
	reqs := h.core.awaitRequests(t, 1)
	if len(reqs) != 1 || reqs[0].Command != "right_secret" {
		t.Errorf("the core got %+v", reqs)
	}
	resp, err := http.Get(addr)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET answered %d", resp.StatusCode)
	}
}

func TestWebhookMakesASecretWhenNoneIsSet(t *testing.T) {
	h := startWebhook(t, "")
	_, secret := h.tg.Webhook()
	if !regexp.MustCompile(`^[A-Za-z0-9_-]{40,256}$`).MatchString(secret) {
		t.Fatalf("generated secret %q is not a strong Telegram secret token", secret)
	}
	// Post as Telegram would, with the secret it was given, to the local
	// listener (the registered URL is a public name, never contacted).
	status, err := telegramtest.PostUpdate(context.Background(), "http://"+h.a.WebhookAddr()+"/", secret, telegramtest.Update{UpdateID: 1})
	if err != nil {
		t.Fatal(err)
	}
	if status != http.StatusOK {
		t.Errorf("Telegram's own post was refused: %d", status)
	}
	if strings.Contains(h.logs.String(), secret) {
		t.Errorf("the webhook secret is in the log")
	}
}

func TestWebhookListenErrorStopsRun(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	tg := telegramtest.New(t, telegramtest.Options{})
	cfg := fastConfig(tg)
	cfg.WebhookURL, cfg.WebhookListen = "https://x.example/hook", ln.Addr().String()
	a, err := New(cfg, newFakeCore(), nil)
	if err != nil {
		t.Fatal(err)
	}
	err = a.Run(context.Background())
	if err == nil || !strings.Contains(err.Error(), "CLM_TELEGRAM_WEBHOOK_LISTEN") {
		t.Errorf("Run = %v, want an error naming CLM_TELEGRAM_WEBHOOK_LISTEN", err)
	}
}

// Without CLM_TELEGRAM_WEBHOOK_SECRET every instance of one bot (and every
// restart) registers the same secret token, derived from the bot token, so
// instances behind one load balancer all accept what Telegram sends; it
// shows nothing of the token, and another bot gets another one.
func TestWebhookSecretIsDerivedAlikeOnEveryInstance(t *testing.T) {
	first, second := startWebhook(t, ""), startWebhook(t, "")
	_, s1 := first.tg.Webhook()
	_, s2 := second.tg.Webhook()
	if s1 == "" || s1 != s2 {
		t.Fatalf("two instances registered secrets %q and %q, want one shared secret", s1, s2)
	}
	if strings.Contains(s1, first.tg.Token) || strings.Contains(first.tg.Token, s1) {
		t.Errorf("the derived secret %q shows the bot token", s1)
	}
	if other := derivedWebhookSecret(first.tg.Token + "x"); other == s1 {
		t.Errorf("another bot token derives the same secret")
	}
	status, err := telegramtest.PostUpdate(context.Background(), "http://"+second.a.WebhookAddr()+"/", s1, telegramtest.Update{UpdateID: 1})
	if err != nil || status != http.StatusOK {
		t.Errorf("the second instance answered %d, %v to the first one's secret", status, err)
	}
}
