package telegram

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"

	"github.com/clmbridge/clmbridge/platform"
)

// redactedMark stands for a secret value that is set.
const redactedMark = "[redacted]"

// secretMark returns "" for an unset secret and redactedMark otherwise, so
// a printed configuration still says whether a secret is set.
func secretMark(s string) string {
	if s == "" {
		return ""
	}
	return redactedMark
}

// safeURL returns u without a user's password and without anything that
// looks like a bot token (operators sometimes put the token in the webhook
// path). token is the configured token, if any.
func safeURL(u, token string) string {
	if u == "" {
		return ""
	}
	if p, err := url.Parse(u); err == nil {
		u = p.Redacted()
	}
	return newRedactor(token).redact(u)
}

// fields returns the configuration's fields as they may be printed: the
// token and the webhook secret redacted, the URLs without a token or a
// password. File paths are printed (the files' contents are not in Config).
func (c Config) fields() [][2]string {
	return [][2]string{
		{"Token", secretMark(c.Token)},
		{"TokenFile", c.TokenFile},
		{"APIURL", safeURL(c.APIURL, c.Token)},
		{"WebhookURL", safeURL(c.WebhookURL, c.Token)},
		{"WebhookListen", c.WebhookListen},
		{"WebhookSecret", secretMark(c.WebhookSecret)},
		{"WebhookSecretFile", c.WebhookSecretFile},
		{"PollTimeout", c.PollTimeout.String()},
		{"PerChatInterval", c.PerChatInterval.String()},
		{"GroupPerMinute", strconv.Itoa(c.GroupPerMinute)},
		{"GlobalPerSecond", strconv.Itoa(c.GlobalPerSecond)},
		{"MaxAttempts", strconv.Itoa(c.MaxAttempts)},
		{"RetryBase", c.RetryBase.String()},
		{"RetryMax", c.RetryMax.String()},
	}
}

// String prints the configuration with the token and the webhook secret
// redacted.
func (c Config) String() string {
	return c.render("{", " ", func(v string) string { return v })
}

// GoString is String in Go syntax (for %#v), still redacted.
func (c Config) GoString() string {
	return c.render("telegram.Config{", ", ", strconv.Quote)
}

// render prints the redacted fields as name:value, after open and between
// sep, each value printed by value, and a closing brace.
func (c Config) render(open, sep string, value func(string) string) string {
	var b strings.Builder
	b.WriteString(open)
	for i, f := range c.fields() {
		if i > 0 {
			b.WriteString(sep)
		}
		b.WriteString(f[0] + ":" + value(f[1]))
	}
	b.WriteString("}")
	return b.String()
}

// Format prints c as [Config.String] does under every verb, keeping the
// verb's flags (GoString under %#v), as every redacted type does (see
// platform.FormatRedacted). Without it, %d or %x would print the fields
// one by one, the token among them.
func (c Config) Format(f fmt.State, verb rune) {
	platform.FormatRedacted(f, verb, c.String(), c.GoString())
}

// LogValue logs the configuration with the token and the webhook secret
// redacted.
func (c Config) LogValue() slog.Value {
	fs := c.fields()
	attrs := make([]slog.Attr, len(fs))
	for i, f := range fs {
		attrs[i] = slog.String(f[0], f[1])
	}
	return slog.GroupValue(attrs...)
}

// MarshalJSON writes the redacted fields, so a Config inside a value a
// JSON log handler marshals does not leak the token either.
func (c Config) MarshalJSON() ([]byte, error) {
	fs := c.fields()
	m := make(map[string]string, len(fs))
	for _, f := range fs {
		m[f[0]] = f[1]
	}
	return json.Marshal(m)
}

// adapterName is how an Adapter prints.
const adapterName = "telegram adapter"

// String returns "telegram adapter": an Adapter holds the bot token, which
// printing its fields would show.
func (a *Adapter) String() string { return adapterName }

// GoString returns a constant, like String.
func (a *Adapter) GoString() string { return "&telegram.Adapter{" + redactedMark + "}" }

// Format prints a as [Adapter.String] does under every verb, keeping the
// verb's flags (GoString under %#v).
func (a *Adapter) Format(f fmt.State, verb rune) {
	platform.FormatRedacted(f, verb, a.String(), a.GoString())
}

// LogValue logs the adapter as its name.
func (a *Adapter) LogValue() slog.Value { return slog.StringValue(adapterName) }
