package telegram

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kelseyhightower/envconfig"
)

const testToken = "123456:AAE-example_token"

func TestConfigResolve(t *testing.T) {
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "token")
	if err := os.WriteFile(tokenFile, []byte(testToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big")
	if err := os.WriteFile(big, make([]byte, 5000), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		cfg     Config
		wantErr string // a part of the error; "" for success
	}{
		{"token", Config{Token: testToken}, ""},
		{"token file", Config{TokenFile: tokenFile}, ""},
		{"both", Config{Token: testToken, TokenFile: tokenFile}, "not both"},
		{"missing file", Config{TokenFile: filepath.Join(dir, "nope")}, "CLM_TELEGRAM_TOKEN_FILE"},
		{"huge file", Config{TokenFile: big}, "larger than"},
		{"no token", Config{}, "CLM_TELEGRAM_TOKEN"},
		{"malformed token", Config{Token: "not a token at all"}, "@BotFather"},
		{"bad api url", Config{Token: testToken, APIURL: "ftp://x"}, "CLM_TELEGRAM_API_URL"},
		{"bad webhook url", Config{Token: testToken, WebhookURL: "not a url"}, "CLM_TELEGRAM_WEBHOOK_URL"},
		{"bad webhook secret", Config{Token: testToken, WebhookURL: "https://x.example/h", WebhookSecret: "has space"}, "CLM_TELEGRAM_WEBHOOK_SECRET"},
		{"poll timeout too long", Config{Token: testToken, PollTimeout: time.Hour}, "CLM_TELEGRAM_POLL_TIMEOUT"},
		{"negative pacing", Config{Token: testToken, GroupPerMinute: -1}, "pacing"},
		{"retry max below base", Config{Token: testToken, RetryBase: time.Minute, RetryMax: time.Second}, "CLM_TELEGRAM_RETRY_MAX"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rc, err := tt.cfg.resolve()
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("resolve: %v", err)
				}
				if rc.Token != testToken || rc.APIURL != DefaultAPIURL || rc.PerChatInterval != time.Second ||
					rc.GroupPerMinute != 20 || rc.GlobalPerSecond != 30 || rc.PollTimeout != 30*time.Second {
					t.Errorf("defaults not applied: %+v", rc.Config)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("resolve = %v, want an error about %q", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), "AAE-example_token") || strings.Contains(err.Error(), "not a token at all") {
				t.Errorf("the error repeats the token: %v", err)
			}
		})
	}
}

func TestConfigFromEnvironment(t *testing.T) {
	t.Setenv("CLM_TELEGRAM_TOKEN", testToken)
	t.Setenv("CLM_TELEGRAM_API_URL", "http://127.0.0.1:9/")
	t.Setenv("CLM_TELEGRAM_WEBHOOK_URL", "https://bot.example.org/tg")
	t.Setenv("CLM_TELEGRAM_WEBHOOK_SECRET", "abc_DEF-123")
	t.Setenv("CLM_TELEGRAM_PER_CHAT_INTERVAL", "2s")
	// Unprefixed names belong to other programs: never read.
	t.Setenv("WEBHOOK_LISTEN", ":1")
	t.Setenv("MAX_ATTEMPTS", "1")
	var cfg Config
	if err := envconfig.Process("", &cfg); err != nil {
		t.Fatal(err)
	}
	if !cfg.Enabled() || cfg.WebhookListen != ":8443" || cfg.MaxAttempts != 6 {
		t.Errorf("env config = %+v", cfg)
	}
	rc, err := cfg.resolve()
	if err != nil {
		t.Fatal(err)
	}
	if rc.APIURL != "http://127.0.0.1:9" || rc.WebhookSecret != "abc_DEF-123" || rc.PerChatInterval != 2*time.Second {
		t.Errorf("resolved = %+v", rc.Config)
	}
	if (Config{}).Enabled() {
		t.Errorf("an empty config is enabled")
	}
}
