package app

import (
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"
)

// clearEnv unsets every CLM_ variable (and the bare names envconfig might
// fall back to) for the test.
func clearEnv(t *testing.T) {
	t.Helper()
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "CLM_") || k == "TOKEN" || k == "TOKEN_FILE" {
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
	if cfg.Telegram.Token != "" || cfg.Discord.Token != "" {
		t.Fatal("a token without configuration")
	}
}

func TestLoadConfigReadsEveryVariable(t *testing.T) {
	clearEnv(t)
	for k, v := range map[string]string{
		"CLM_DATA_DIR": "/tmp/x", "CLM_SESSION_IDLE": "5m", "CLM_SESSION_MAX_AGE": "1h",
		"CLM_LOG_LEVEL": "debug", "CLM_LOG_FORMAT": "json", "CLM_RATE_BURST": "5", "CLM_RATE_PER_MINUTE": "0",
		"CLM_TELEGRAM_TOKEN": "123:abc", "CLM_DISCORD_TOKEN_FILE": "/run/secrets/discord",
	} {
		t.Setenv(k, v)
	}
	cfg, err := LoadConfig()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.DataDir != "/tmp/x" || cfg.SessionIdle != 5*time.Minute || cfg.SessionMaxAge != time.Hour ||
		cfg.LogLevel != "debug" || cfg.LogFormat != "json" || cfg.RateBurst != 5 || cfg.RatePerMinute != 0 ||
		cfg.Telegram.Token != "123:abc" || cfg.Discord.TokenFile != "/run/secrets/discord" {
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
		{"bare TOKEN", map[string]string{"TOKEN": "123:leaked"}, "rename it to CLM_TELEGRAM_TOKEN"},
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

// envKeys lists every variable envconfig reads for a struct type.
func envKeys(prefix string, t reflect.Type) []string {
	var keys []string
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() || f.Tag.Get("ignored") == "true" {
			continue
		}
		key := strings.ToUpper(f.Name)
		if tag := f.Tag.Get("envconfig"); tag != "" {
			key = strings.ToUpper(tag)
		} else if f.Tag.Get("split_words") == "true" {
			key = splitWords(f.Name)
		}
		if f.Type.Kind() == reflect.Struct && f.Type != reflect.TypeOf(time.Duration(0)) {
			keys = append(keys, envKeys(prefix+"_"+key, f.Type)...)
			continue
		}
		keys = append(keys, prefix+"_"+key)
	}
	return keys
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
	keys := envKeys(EnvPrefix, reflect.TypeOf(Config{}))
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
