package discord

import (
	"encoding/hex"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

// No fmt verb and no slog handler prints the bot token held by the
// adapter, its configuration, its redactor or its REST caller.
func TestNothingPrintsTheBotToken(t *testing.T) {
	const token = "MTAw.bot-token-for-format-test"
	a, err := New(Config{Token: token, GuildID: "77"}, newFakeCore(), nil)
	if err != nil {
		t.Fatal(err)
	}
	leaks := []string{token, hex.EncodeToString([]byte(token)), strings.ToUpper(hex.EncodeToString([]byte(token)))}
	values := []struct {
		name string
		v    any
	}{
		{"*Adapter", a},
		{"Config", a.cfg},
		{"*Config", &a.cfg},
		{"redactor", a.red},
		{"*redactor", &a.red},
		{"restCaller", a.rest},
		{"Adapter inside a struct", struct{ A *Adapter }{a}},
		{"Config inside a struct", struct{ C Config }{a.cfg}},
		{"in a slice", []any{a, a.cfg, a.red}},
	}
	verbs := []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%10.3v", "%-40s"}
	for _, tc := range values {
		t.Run(tc.name, func(t *testing.T) {
			for _, verb := range verbs {
				out := fmt.Sprintf(verb, tc.v)
				for _, leak := range leaks {
					if strings.Contains(out, leak) {
						t.Errorf("%s prints the token: %s", verb, out)
					}
				}
			}
			for _, h := range []struct {
				name string
				new  func(*strings.Builder) slog.Handler
			}{
				{"text", func(b *strings.Builder) slog.Handler { return slog.NewTextHandler(b, nil) }},
				{"json", func(b *strings.Builder) slog.Handler { return slog.NewJSONHandler(b, nil) }},
			} {
				var b strings.Builder
				slog.New(h.new(&b)).Info("value", "v", tc.v, slog.Group("g", "v", tc.v))
				if strings.Contains(b.String(), token) {
					t.Errorf("slog %s handler prints the token: %s", h.name, b.String())
				}
			}
		})
	}
	// The descriptions still say something useful.
	if s := fmt.Sprint(a); !strings.Contains(s, `GuildID:"77"`) || !strings.Contains(s, "[redacted]") {
		t.Errorf("%%v of the adapter says %q", s)
	}
	if s := fmt.Sprintf("%q", a.cfg); !strings.HasPrefix(s, `"discord.Config{`) {
		t.Errorf("%%q of the config is %s, want it quoted", s)
	}
	var none *Adapter
	if s := fmt.Sprint(none); s != "discord.Adapter(nil)" {
		t.Errorf("nil adapter prints %q", s)
	}
}
