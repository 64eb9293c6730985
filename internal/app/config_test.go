package app

import (
	"bytes"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kelseyhightower/envconfig"

	"github.com/clmbridge/clmbridge/adapters/discord"
	"github.com/clmbridge/clmbridge/adapters/telegram"
)

// clearEnv unsets every CLM_ variable for the test.
func clearEnv(t *testing.T) {
	t.Helper()
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "CLM_") {
			t.Setenv(k, "") // restored after the test
			os.Unsetenv(k)
		}
	}
}

func TestLoadConfigDefaults(t *testing.T) {
	clearEnv(t)
	cfg, err := LoadConfig()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.DataDir != "./data" || cfg.SessionIdle != 30*time.Minute || cfg.SessionMaxAge != 12*time.Hour ||
		cfg.LogLevel != "info" || cfg.LogFormat != "text" || cfg.RateBurst != 20 || cfg.RatePerMinute != 30 {
		t.Fatalf("defaults %+v", cfg)
	}
	if tg, dc := cfg.Platforms[telegram.Name].(*telegram.Config), cfg.Platforms[discord.Name].(*discord.Config); tg.Token != "" || dc.Token != "" || !cfg.ConsoleMode() {
		t.Fatal("a token without configuration")
	}
}

func TestLoadConfigReadsEveryVariable(t *testing.T) {
	clearEnv(t)
	tokenFile := filepath.Join(t.TempDir(), "discord")
	if err := os.WriteFile(tokenFile, []byte("discord-token\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]string{
		"CLM_DATA_DIR": "/tmp/x", "CLM_SESSION_IDLE": "5m", "CLM_SESSION_MAX_AGE": "1h",
		"CLM_LOG_LEVEL": "debug", "CLM_LOG_FORMAT": "json", "CLM_RATE_BURST": "5", "CLM_RATE_PER_MINUTE": "0",
		"CLM_TELEGRAM_TOKEN": "123:abc", "CLM_DISCORD_TOKEN_FILE": tokenFile,
		"CLM_TELEGRAM_API_URL": "http://127.0.0.1:8081", "CLM_TELEGRAM_WEBHOOK_URL": "https://bot.example.org/tg",
		"CLM_DISCORD_GUILD_ID": "77", "CLM_DISCORD_MESSAGE_CONTENT": "true",
	} {
		t.Setenv(k, v)
	}
	cfg, err := LoadConfig()
	if err != nil {
		t.Fatal(err)
	}
	tg, dc := cfg.Platforms[telegram.Name].(*telegram.Config), cfg.Platforms[discord.Name].(*discord.Config)
	if cfg.DataDir != "/tmp/x" || cfg.SessionIdle != 5*time.Minute || cfg.SessionMaxAge != time.Hour ||
		cfg.LogLevel != "debug" || cfg.LogFormat != "json" || cfg.RateBurst != 5 || cfg.RatePerMinute != 0 ||
		tg.Token != "123:abc" || dc.TokenFile != tokenFile ||
		tg.APIURL != "http://127.0.0.1:8081" || tg.WebhookURL != "https://bot.example.org/tg" ||
		tg.PollTimeout != 30*time.Second || dc.GuildID != "77" || !dc.MessageContent {
		t.Fatalf("read %+v", cfg)
	}
}

func TestLoadConfigRefusesBadValues(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"bad duration", map[string]string{"CLM_SESSION_IDLE": "soon"}, "CLM_SESSION_IDLE"},
		{"negative idle", map[string]string{"CLM_SESSION_IDLE": "-1m"}, "CLM_SESSION_IDLE"},
		{"idle over max age", map[string]string{"CLM_SESSION_IDLE": "2h", "CLM_SESSION_MAX_AGE": "1h"}, "must not be longer"},
		{"log level", map[string]string{"CLM_LOG_LEVEL": "loud"}, "CLM_LOG_LEVEL"},
		{"log format", map[string]string{"CLM_LOG_FORMAT": "xml"}, "CLM_LOG_FORMAT"},
		{"empty data dir", map[string]string{"CLM_DATA_DIR": " "}, "CLM_DATA_DIR"},
		{"burst", map[string]string{"CLM_RATE_BURST": "0"}, "CLM_RATE_BURST"},
		{"rate", map[string]string{"CLM_RATE_PER_MINUTE": "-3"}, "CLM_RATE_PER_MINUTE"},
		{"http address without a port", map[string]string{"CLM_HTTP_ADDR": "localhost"}, "CLM_HTTP_ADDR"},
		{"http address that is a URL", map[string]string{"CLM_HTTP_ADDR": "http://0.0.0.0:9464/"}, "CLM_HTTP_ADDR"},
		{"webhook over plain http", map[string]string{"CLM_TELEGRAM_TOKEN": "123:abc", "CLM_TELEGRAM_WEBHOOK_URL": "http://bot.example.org/tg"}, "https://"},
		{"unreadable telegram token file", map[string]string{"CLM_TELEGRAM_TOKEN_FILE": "/nonexistent/telegram"}, "CLM_TELEGRAM_TOKEN"},
		{"malformed telegram token", map[string]string{"CLM_TELEGRAM_TOKEN": "not a token"}, "@BotFather"},
		{"discord api url", map[string]string{"CLM_DISCORD_TOKEN": "t", "CLM_DISCORD_API_URL": "ftp://x"}, "CLM_DISCORD_API_URL"},
		{"database not postgres", map[string]string{"CLM_DATABASE_URL": "mysql://bridge:leaked@db/clm"}, "CLM_DATABASE_URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clearEnv(t)
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			_, err := LoadConfig()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to mention %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "leaked") {
				t.Fatal("the error repeats a token")
			}
		})
	}
}

// envKeys lists every variable LoadConfig reads, as envconfig itself
// names them.
func envKeys(t *testing.T) []string {
	t.Helper()
	var cfg Config
	var keys []string
	for _, src := range cfg.envSources() {
		var b strings.Builder
		if err := envconfig.Usagef(src.prefix, src.spec, &b, "{{range .}}{{usage_key .}}\n{{end}}"); err != nil {
			t.Fatal(err)
		}
		keys = append(keys, strings.Fields(b.String())...)
	}
	return keys
}

// TestEveryNameIsWhole: envconfig falls back to a field's bare tag (TOKEN)
// when the prefixed name is unset, so a tag is allowed only where it is the
// whole CLM_ name and read with no prefix.
func TestEveryNameIsWhole(t *testing.T) {
	var cfg Config
	for _, src := range cfg.envSources() {
		st := reflect.TypeOf(src.spec).Elem()
		for i := 0; i < st.NumField(); i++ {
			f := st.Field(i)
			if !f.IsExported() || f.Tag.Get("ignored") == "true" {
				continue
			}
			tag := f.Tag.Get("envconfig")
			switch {
			case src.prefix != "" && tag != "":
				t.Errorf("%s.%s has the tag %q: under the prefix %s, envconfig would also read the bare %s; use split_words", st, f.Name, tag, src.prefix, tag)
			case src.prefix == "" && !strings.HasPrefix(tag, EnvPrefix+"_"):
				t.Errorf("%s.%s is read with no prefix, so its tag must be its whole %s_ name, not %q", st, f.Name, EnvPrefix, tag)
			}
		}
	}
}

func TestEveryVariableIsDocumentedInConfigExample(t *testing.T) {
	data, err := os.ReadFile("../../config.example.env")
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^#?(CLM_[A-Z0-9_]+)=`).FindAllStringSubmatch(string(data), -1) {
		documented[m[1]] = true
	}
	keys := envKeys(t)
	if len(keys) < 10 {
		t.Fatalf("only %d keys found: %v", len(keys), keys)
	}
	for _, k := range keys {
		if !documented[k] {
			t.Errorf("%s is read but not documented in config.example.env", k)
		}
		delete(documented, k)
	}
	for k := range documented {
		t.Errorf("config.example.env documents %s, which nothing reads", k)
	}
}

func TestNewLoggerHonoursLevelAndFormat(t *testing.T) {
	var b strings.Builder
	l := NewLogger(Config{LogLevel: "warn", LogFormat: "json"}, &b)
	l.Info("hidden")
	l.Warn("shown")
	if strings.Contains(b.String(), "hidden") || !strings.Contains(b.String(), `"msg":"shown"`) {
		t.Fatalf("log %q", b.String())
	}
}

// TestBareVariablesAreIgnored: only CLM_ variables configure the bridge. A
// TOKEN (or API_URL, GUILD_ID…) that some other program set in the same
// environment must neither become a setting nor stop the bridge.
func TestBareVariablesAreIgnored(t *testing.T) {
	clearEnv(t)
	want, err := LoadConfig()
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile("../../config.example.env")
	if err != nil {
		t.Fatal(err)
	}
	var bare []string
	for _, m := range regexp.MustCompile(`(?m)^#?(CLM_[A-Z0-9_]+)=`).FindAllStringSubmatch(string(data), -1) {
		name := strings.TrimPrefix(m[1], "CLM_")
		bare = append(bare, name) // TELEGRAM_TOKEN, DATA_DIR…
		for _, section := range []string{"TELEGRAM_", "DISCORD_"} {
			if s, ok := strings.CutPrefix(name, section); ok {
				bare = append(bare, s) // TOKEN, API_URL…
			}
		}
	}
	if len(bare) < 20 {
		t.Fatalf("only %d bare names: %v", len(bare), bare)
	}
	for _, k := range bare {
		// "1" would parse as a number or a bool, and makes an invalid
		// duration or token: read, it changes the configuration or fails.
		t.Setenv(k, "1")
	}
	t.Setenv("TOKEN", "123:leaked")
	got, err := LoadConfig()
	if err != nil {
		t.Fatalf("LoadConfig with bare variables set: %v", err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("bare variables changed the configuration:\n got %+v\nwant %+v", got, want)
	}
}

func TestJSONLogsGiveDurationsInSeconds(t *testing.T) {
	var b strings.Builder
	NewLogger(Config{LogFormat: "json", LogLevel: "info"}, &b).Info("waited", "retry_in", 250*time.Millisecond)
	if !strings.Contains(b.String(), `"retry_in":0.25`) {
		t.Fatalf("log line %s; want retry_in in seconds (0.25)", b.String())
	}
}

// CLM_DATABASE_URL selects PostgreSQL; its password never shows when the
// configuration is printed or logged.
func TestDatabaseURLPrintsAndLogsWithoutItsPassword(t *testing.T) {
	clearEnv(t)
	t.Setenv("CLM_DATABASE_URL", "postgres://bridge:Hunter2-Sekret@db.example:5432/clm?sslmode=verify-full")
	cfg, err := LoadConfig()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.DatabaseURL == "" {
		t.Fatal("CLM_DATABASE_URL was not read")
	}
	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("config", slog.Any("database", cfg.DatabaseURL))
	for where, out := range map[string]string{
		"%v": fmt.Sprintf("%v", cfg), "%+v": fmt.Sprintf("%+v", cfg), "String": cfg.DatabaseURL.String(), "slog": logs.String(),
	} {
		if strings.Contains(out, "Hunter2-Sekret") {
			t.Errorf("%s shows the database password: %s", where, out)
		}
		if !strings.Contains(out, "db.example") {
			t.Errorf("%s does not show the database host: %s", where, out)
		}
	}
}
