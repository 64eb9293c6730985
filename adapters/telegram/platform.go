package telegram

import (
	"context"
	"errors"
	"strconv"

	"github.com/clmbridge/clmbridge/bridge"
	"github.com/clmbridge/clmbridge/platform"
)

// MessageLimit is the most characters one Telegram message may hold (in
// UTF-16 code units, as Telegram counts them).
const MessageLimit = maxMessageUnits

// Platform is Telegram as the host sees it: the value internal/app lists.
type Platform struct{}

var (
	_ platform.Platform  = Platform{}
	_ platform.Config    = (*Config)(nil)
	_ platform.Doctor    = Config{}
	_ platform.Connected = (*Adapter)(nil)
)

// Name returns "telegram".
func (Platform) Name() string { return Name }

// NewConfig returns an empty Config for the host to fill from the
// CLM_TELEGRAM_* variables.
func (Platform) NewConfig() platform.Config { return &Config{} }

// CheckUserID accepts a Telegram user id: a positive number (a group's id
// is negative, and a @username is not an id).
func (Platform) CheckUserID(id string) error {
	if n, err := strconv.ParseInt(id, 10, 64); err != nil || n <= 0 {
		return errors.New("a Telegram user id is a number such as 123456789, not a @username: the member sees theirs by sending /clm whoami to the bot")
	}
	return nil
}

// MessageLimit returns [MessageLimit].
func (Platform) MessageLimit() int { return MessageLimit }

// Secrets returns the bot token and the webhook secret, read from their
// files where set.
func (c Config) Secrets() []string {
	var out []string
	for _, s := range [][3]string{
		{"CLM_TELEGRAM_TOKEN", c.Token, c.TokenFile},
		{"CLM_TELEGRAM_WEBHOOK_SECRET", c.WebhookSecret, c.WebhookSecretFile},
	} {
		if v, err := platform.ReadSecret(s[0], s[1], s[2]); err == nil && v != "" {
			out = append(out, v)
		}
		if s[1] != "" { // also when both are set (an error above)
			out = append(out, s[1])
		}
	}
	return out
}

// NewAdapter builds the adapter (see [New]), with the host's logger,
// metrics and poll gate (see [WithPollGate]).
func (c Config) NewAdapter(core bridge.Core, host platform.Host) (platform.Adapter, error) {
	return New(c, core, host.Logger, WithMetrics(host.Metrics), WithPollGate(host.PollGate))
}

// Doctor examines the bot at the configured Bot API server: that the
// token works, privacy and inline modes, the webhook, the admin rights the
// bot asks for and its command menu.
func (c Config) Doctor(ctx context.Context) []platform.Finding {
	tok, err := fromFile("CLM_TELEGRAM_TOKEN", c.Token, c.TokenFile)
	if err == nil && tok == "" {
		err = errors.New("telegram: no bot token")
	}
	if err != nil {
		return []platform.Finding{{Level: platform.Fail, What: err.Error(),
			Fix: "set CLM_TELEGRAM_TOKEN or CLM_TELEGRAM_TOKEN_FILE (not both)"}}
	}
	var fs []platform.Finding
	if c.Token != "" {
		fs = append(fs, platform.Finding{Level: platform.Info, What: "the bot token is in the environment (CLM_TELEGRAM_TOKEN), where process tools can read it",
			Fix: "prefer CLM_TELEGRAM_TOKEN_FILE with a file only the bridge's user can read"})
	}
	api := c.APIURL
	if api == "" {
		api = DefaultAPIURL
	}
	return append(fs, doctorCheck{APIURL: api, Token: tok, WebhookURL: c.WebhookURL}.Check(ctx)...)
}

// Connection reports the adapter's connection to Telegram, for readiness
// and metrics (the last error with the token redacted).
func (a *Adapter) Connection() platform.Connection {
	st := a.Status()
	c := platform.Connection{Up: st.Connected, LastContact: st.LastContact}
	switch {
	case st.Connected:
	case st.LastError == "":
		c.Problem = "not connected to Telegram yet"
	default:
		c.Problem = "not connected to Telegram: " + st.LastError
	}
	return c
}
