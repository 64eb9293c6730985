// Package telegram is the Telegram adapter: it translates between the Bot API
// (through gopkg.in/telebot.v3) and the bridge core, and decides nothing about CLM.
//
// Besides translation it owns delivery to Telegram: an outbox with per-chat
// pacing and retries (telebot has neither), a long poller with backoff, an
// optional webhook receiver, and redaction of the bot token from every error
// and log line.
package telegram

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/clmbridge/clmbridge/platform"
)

// DefaultAPIURL is the official Bot API server.
const DefaultAPIURL = "https://api.telegram.org"

// Config is the adapter's configuration. Each field's envconfig tag is its
// whole variable name, so envconfig.Process("", &cfg) reads exactly the
// documented CLM_TELEGRAM_* variables: with a short tag (`envconfig:"TOKEN"`)
// under a prefix, envconfig would also read a bare TOKEN when
// CLM_TELEGRAM_TOKEN is unset, and split_words would name APIURL
// CLM_TELEGRAM_APIURL. An empty token disables the adapter.
// Zero values mean the documented defaults, so a Config built in code needs
// only a token.
type Config struct {
	// Token is the bot token from @BotFather. Prefer TokenFile: the
	// environment of a process can be read by its operator's tools.
	Token     string `envconfig:"CLM_TELEGRAM_TOKEN"`
	TokenFile string `envconfig:"CLM_TELEGRAM_TOKEN_FILE"`

	// APIURL is the Bot API server (a local telegram-bot-api server, or a
	// fake in tests).
	APIURL string `envconfig:"CLM_TELEGRAM_API_URL" default:"https://api.telegram.org"`

	// WebhookURL, when set, switches from long polling to a webhook:
	// Telegram posts updates to this public HTTPS URL, which must reach
	// WebhookListen (through a reverse proxy that terminates TLS).
	WebhookURL    string `envconfig:"CLM_TELEGRAM_WEBHOOK_URL"`
	WebhookListen string `envconfig:"CLM_TELEGRAM_WEBHOOK_LISTEN" default:":8443"`
	// WebhookSecret is checked against the X-Telegram-Bot-Api-Secret-Token
	// header of every webhook request (1-256 of A-Z a-z 0-9 _ -). When it
	// is empty one is derived from the bot token (an HMAC), the same on
	// every instance and every start, so several instances behind one
	// webhook URL agree with nothing to set.
	WebhookSecret     string `envconfig:"CLM_TELEGRAM_WEBHOOK_SECRET"`
	WebhookSecretFile string `envconfig:"CLM_TELEGRAM_WEBHOOK_SECRET_FILE"`

	// PollTimeout is how long one getUpdates waits for updates.
	PollTimeout time.Duration `envconfig:"CLM_TELEGRAM_POLL_TIMEOUT" default:"30s"`

	// Delivery pacing. Telegram's published limits are about one message a
	// second per chat, 20 a minute per group and 30 a second in all; change
	// these only for a local Bot API server (or tests).
	PerChatInterval time.Duration `envconfig:"CLM_TELEGRAM_PER_CHAT_INTERVAL" default:"1s"`
	GroupPerMinute  int           `envconfig:"CLM_TELEGRAM_GROUP_PER_MINUTE" default:"20"`
	GlobalPerSecond int           `envconfig:"CLM_TELEGRAM_GLOBAL_PER_SECOND" default:"30"`

	// Retries of a failed call: up to MaxAttempts tries, waiting Telegram's
	// retry_after on a 429 and an exponential backoff from RetryBase up to
	// RetryMax on 5xx and network errors.
	MaxAttempts int           `envconfig:"CLM_TELEGRAM_MAX_ATTEMPTS" default:"6"`
	RetryBase   time.Duration `envconfig:"CLM_TELEGRAM_RETRY_BASE" default:"500ms"`
	RetryMax    time.Duration `envconfig:"CLM_TELEGRAM_RETRY_MAX" default:"30s"`
}

// Enabled reports whether a token (or a token file) is configured.
func (c Config) Enabled() bool {
	return c.Token != "" || c.TokenFile != ""
}

// Check reports, before anything starts, what New would refuse in c: a
// missing or malformed token, an unreadable token file, a bad URL or
// limit. Errors name the variable and never hold the token.
func (c Config) Check() error {
	_, err := c.resolve()
	return err
}

// Limits on configuration values.
const (
	minPollTimeout = time.Second
	maxPollTimeout = 50 * time.Second // Telegram caps long polling at 50 s
)

var (
	tokenRx  = regexp.MustCompile(`^[0-9]{1,20}:[A-Za-z0-9_-]{1,200}$`)
	secretRx = regexp.MustCompile(`^[A-Za-z0-9_-]{1,256}$`)
)

// resolved is a Config with files read, defaults applied and values checked.
type resolved struct {
	Config
}

// resolve reads the token and secret files, applies defaults and checks
// every value. Errors name the variable to fix and never contain a token
// or secret.
func (c Config) resolve() (resolved, error) {
	var err error
	if c.Token, err = fromFile("CLM_TELEGRAM_TOKEN", c.Token, c.TokenFile); err != nil {
		return resolved{}, err
	}
	if c.Token == "" {
		return resolved{}, errors.New("telegram: no bot token: set CLM_TELEGRAM_TOKEN or CLM_TELEGRAM_TOKEN_FILE (from @BotFather)")
	}
	if !tokenRx.MatchString(c.Token) {
		return resolved{}, errors.New("telegram: the bot token does not look like one from @BotFather (digits, a colon, then letters, digits, _ or -): copy it again")
	}
	if c.WebhookSecret, err = fromFile("CLM_TELEGRAM_WEBHOOK_SECRET", c.WebhookSecret, c.WebhookSecretFile); err != nil {
		return resolved{}, err
	}
	if c.WebhookSecret != "" && !secretRx.MatchString(c.WebhookSecret) {
		return resolved{}, errors.New("telegram: CLM_TELEGRAM_WEBHOOK_SECRET must be 1-256 characters of A-Z, a-z, 0-9, _ and -")
	}
	if c.APIURL == "" {
		c.APIURL = DefaultAPIURL
	}
	c.APIURL = strings.TrimRight(c.APIURL, "/")
	if u, err := url.Parse(c.APIURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return resolved{}, errors.New("telegram: CLM_TELEGRAM_API_URL must be an http(s) URL such as " + DefaultAPIURL)
	}
	if c.WebhookURL != "" {
		// Telegram delivers webhooks over HTTPS only: setWebhook refuses
		// any other URL, so an http:// one could never receive an update.
		if u, err := url.Parse(c.WebhookURL); err != nil || u.Scheme != "https" || u.Host == "" {
			return resolved{}, errors.New("telegram: CLM_TELEGRAM_WEBHOOK_URL must be the public https:// URL Telegram posts updates to")
		}
		if c.WebhookListen == "" {
			c.WebhookListen = ":8443"
		}
	}
	switch {
	case c.PollTimeout == 0:
		c.PollTimeout = 30 * time.Second
	case c.PollTimeout < minPollTimeout || c.PollTimeout > maxPollTimeout:
		return resolved{}, fmt.Errorf("telegram: CLM_TELEGRAM_POLL_TIMEOUT must be between %v and %v", minPollTimeout, maxPollTimeout)
	}
	if c.PerChatInterval == 0 {
		c.PerChatInterval = time.Second
	}
	if c.GroupPerMinute == 0 {
		c.GroupPerMinute = 20
	}
	if c.GlobalPerSecond == 0 {
		c.GlobalPerSecond = 30
	}
	if c.PerChatInterval < 0 || c.GroupPerMinute < 0 || c.GlobalPerSecond < 0 {
		return resolved{}, errors.New("telegram: the pacing settings (CLM_TELEGRAM_PER_CHAT_INTERVAL, _GROUP_PER_MINUTE, _GLOBAL_PER_SECOND) must be positive")
	}
	if c.MaxAttempts == 0 {
		c.MaxAttempts = 6
	}
	if c.RetryBase == 0 {
		c.RetryBase = 500 * time.Millisecond
	}
	if c.RetryMax == 0 {
		c.RetryMax = 30 * time.Second
	}
	if c.MaxAttempts < 1 || c.MaxAttempts > 100 || c.RetryBase < 0 || c.RetryMax < c.RetryBase {
		return resolved{}, errors.New("telegram: CLM_TELEGRAM_MAX_ATTEMPTS must be 1-100 and CLM_TELEGRAM_RETRY_MAX at least CLM_TELEGRAM_RETRY_BASE")
	}
	return resolved{Config: c}, nil
}

// fromFile returns value or the content of file, by the rule every platform
// shares (platform.ReadSecret): one or the other, never both.
func fromFile(name, value, file string) (string, error) {
	v, err := platform.ReadSecret(name, value, file)
	if err != nil {
		return "", fmt.Errorf("telegram: %w", err)
	}
	return v, nil
}
