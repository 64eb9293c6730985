package telegram

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"testing"
)

// TestPrintingRedactsSecrets: no fmt verb and no slog handler prints the
// token or the webhook secret of a Config, or anything of an Adapter's.
func TestPrintingRedactsSecrets(t *testing.T) {
	const (
		token  = "123456:AAE-print_me_never"
		secret = "hook-secret-print-me-never"
	)
	leaks := []string{"AAE-print_me_never", "hook-secret-print-me-never"}
	cfg := Config{
		Token: token, APIURL: "https://user:pa55word@api.example", WebhookURL: "https://hooks.example/bot" + token,
		WebhookSecret: secret, WebhookSecretFile: "/run/secrets/hook",
	}
	a, err := New(Config{Token: token, WebhookURL: "https://hooks.example/h", WebhookSecret: secret}, newFakeCore(), nil)
	if err != nil {
		t.Fatal(err)
	}
	wrapper := struct {
		Telegram Config
		P        *Config
	}{cfg, &cfg}
	values := map[string]any{"Config": cfg, "*Config": &cfg, "resolved": a.cfg, "wrapper": wrapper, "*Adapter": a}
	verbs := []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%10.3v", "%-8s"}

	check := func(t *testing.T, out string) {
		t.Helper()
		for _, bad := range append(leaks, "pa55word") {
			if strings.Contains(out, bad) {
				t.Fatalf("printed %q, which holds %q", out, bad)
			}
		}
	}
	for name, v := range values {
		for _, verb := range verbs {
			t.Run(name+" "+verb, func(t *testing.T) {
				check(t, fmt.Sprintf(verb, v))
			})
		}
		t.Run(name+" json", func(t *testing.T) {
			data, err := json.Marshal(v)
			if err != nil {
				t.Fatal(err)
			}
			check(t, string(data))
		})
		for hname, mk := range map[string]func(*bytes.Buffer) slog.Handler{
			"text": func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) },
			"json": func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) },
		} {
			t.Run(name+" slog "+hname, func(t *testing.T) {
				var buf bytes.Buffer
				slog.New(mk(&buf)).Info("config", "value", v)
				check(t, buf.String())
			})
		}
	}

	t.Run("every verb keeps its flags, as for every redacted type", func(t *testing.T) {
		if got, want := fmt.Sprintf("%-20s|%q", a, cfg), "telegram adapter    |"+strconv.Quote(cfg.String()); got != want {
			t.Errorf("printed %q, want %q", got, want)
		}
	})

	t.Run("the redacted form still says what is set", func(t *testing.T) {
		out := fmt.Sprint(cfg)
		for _, want := range []string{"Token:" + redactedMark, "WebhookSecret:" + redactedMark, "/run/secrets/hook", "hooks.example/bot[token]"} {
			if !strings.Contains(out, want) {
				t.Errorf("%q lacks %q", out, want)
			}
		}
		if got := fmt.Sprint(Config{}); !strings.Contains(got, "Token: ") {
			t.Errorf("an unset token prints as %q", got)
		}
		if got := fmt.Sprintf("%v|%s", a, a); got != "telegram adapter|telegram adapter" {
			t.Errorf("the adapter prints as %q", got)
		}
	})
}
