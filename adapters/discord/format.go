package discord

import (
	"encoding/json"
	"fmt"
	"log/slog"

	"github.com/clmbridge/clmbridge/platform"
)

// The types below hold the bot token (directly or through a redactor or
// the discordgo session). fmt prints a struct's fields, unexported ones
// included, under any verb it finds no method for (%d prints a string
// field as "%!d(string=…)"), so each of them formats itself under every
// verb, and logs itself through slog.LogValuer, never showing the token.

// MarshalJSON encodes c with the token redacted, so a Config inside a
// value logged by slog's JSON handler (which marshals what it cannot
// print otherwise) does not show it.
func (c Config) MarshalJSON() ([]byte, error) {
	type plain Config // without Config's methods
	p := plain(c)
	if p.Token != "" {
		p.Token = "[redacted]"
	}
	return json.Marshal(p)
}

// Format prints c as [Config.String] does, under every verb.
func (c Config) Format(f fmt.State, verb rune) {
	platform.FormatRedacted(f, verb, c.String(), c.GoString())
}

// String describes the redactor without the token it removes.
func (r redactor) String() string {
	if r.token == "" {
		return "discord.redactor{token:none}"
	}
	return "discord.redactor{token:[redacted]}"
}

// GoString is String, so that %#v does not print the token either.
func (r redactor) GoString() string { return r.String() }

// Format prints r as String does, under every verb.
func (r redactor) Format(f fmt.State, verb rune) {
	platform.FormatRedacted(f, verb, r.String(), r.GoString())
}

// LogValue logs the redactor without the token.
func (r redactor) LogValue() slog.Value { return slog.StringValue(r.String()) }

// String describes the REST bounds, not the redactor's token.
func (rc restCaller) String() string {
	return fmt.Sprintf("discord.restCaller{callTimeout:%s maxAttempts:%d maxRetryWait:%s}", rc.callTimeout, rc.maxAttempts, rc.maxRetryWait)
}

// GoString is String, so that %#v does not print the token either.
func (rc restCaller) GoString() string { return rc.String() }

// Format prints rc as String does, under every verb.
func (rc restCaller) Format(f fmt.State, verb rune) {
	platform.FormatRedacted(f, verb, rc.String(), rc.GoString())
}

// LogValue logs the REST bounds without the token.
func (rc restCaller) LogValue() slog.Value { return slog.StringValue(rc.String()) }

// String describes the adapter by its configuration (token redacted) and
// whether it is connected; it never prints the token, the discordgo
// session (which holds it) or the redactor.
func (a *Adapter) String() string {
	if a == nil {
		return "discord.Adapter(nil)"
	}
	return fmt.Sprintf("discord.Adapter{Config:%s Connected:%t}", a.cfg.String(), a.connected.Load())
}

// GoString is String, so that %#v does not print the token either.
func (a *Adapter) GoString() string { return a.String() }

// Format prints a as [Adapter.String] does, under every verb.
func (a *Adapter) Format(f fmt.State, verb rune) {
	platform.FormatRedacted(f, verb, a.String(), a.GoString())
}

// LogValue logs the adapter's configuration (without the token) and
// whether it is connected.
func (a *Adapter) LogValue() slog.Value {
	if a == nil {
		return slog.StringValue("discord.Adapter(nil)")
	}
	return slog.GroupValue(slog.Any("config", a.cfg), slog.Bool("connected", a.connected.Load()))
}
