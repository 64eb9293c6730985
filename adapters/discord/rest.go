package discord

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/bwmarrin/discordgo"
)

// Discord JSON error codes the adapter reacts to.
const (
	codeUnknownMessage     = 10008
	codeMissingAccess      = 50001
	codeCannotSendToUser   = 50007
	codeMissingPermissions = 50013
	codeCannotActOnDM      = 50003
	codeAlreadyAcked       = 40060
	codeUnknownInteraction = 10062
)

// Bounds on REST calls, so that a Discord (or a fake) that keeps answering
// 429 or never answers cannot hang the adapter.
const (
	defaultCallTimeout  = 15 * time.Second
	defaultMaxAttempts  = 8
	defaultMaxRetryWait = 30 * time.Second
)

// ErrRateLimited is returned when Discord keeps answering 429 (too many
// requests) beyond the adapter's bound on retries.
var ErrRateLimited = errors.New("discord: rate limited by Discord; try again in a minute")

// redactor removes the bot token and interaction tokens from text that may
// be logged or returned as an error.
type redactor struct {
	token string
}

// interactionTokenRE matches the token part of interaction callback and
// webhook URLs: /interactions/{id}/{token}, /webhooks/{app}/{token}.
var interactionTokenRE = regexp.MustCompile(`((?:interactions|webhooks)/[0-9A-Za-z_-]+/)[^/?\s"]+`)

// Redact returns s without the bot token or interaction tokens.
func (r redactor) Redact(s string) string {
	if r.token != "" {
		s = strings.ReplaceAll(s, r.token, "[redacted]")
	}
	return interactionTokenRE.ReplaceAllString(s, "${1}[redacted]")
}

// redactedError is an error whose message has been redacted. It unwraps to
// the original so that errors.Is keeps working (context.Canceled, …), but
// every message printed from it is the redacted one.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// Err returns err with its message redacted (nil stays nil).
func (r redactor) Err(err error) error {
	if err == nil {
		return nil
	}
	var re *redactedError
	if errors.As(err, &re) && re == err {
		return err
	}
	return &redactedError{msg: r.Redact(err.Error()), err: err}
}

// rewriteTransport sends every request to base (scheme and host), keeping
// the path: it points discordgo's hard-coded https://discord.com URLs at a
// test server without touching the package's Endpoint variables.
type rewriteTransport struct {
	base *url.URL
	next http.RoundTripper
}

// RoundTrip sends req to the base host.
func (t rewriteTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	r := req.Clone(req.Context())
	r.URL.Scheme = t.base.Scheme
	r.URL.Host = t.base.Host
	r.Host = t.base.Host
	return t.next.RoundTrip(r)
}

// clampTransport caps the rate-limit reset Discord announces in response
// headers. discordgo's bucket locks sleep for that long without a context;
// the cap keeps one absurd header from stalling every later call.
type clampTransport struct {
	max  time.Duration
	next http.RoundTripper
}

// RoundTrip passes req on and caps the reset headers of the response.
func (t clampTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(req)
	if err != nil || resp == nil {
		return resp, err
	}
	if v := resp.Header.Get("X-RateLimit-Reset-After"); v != "" {
		if f, perr := strconv.ParseFloat(v, 64); perr != nil || time.Duration(f*float64(time.Second)) > t.max {
			resp.Header.Set("X-RateLimit-Reset-After", strconv.FormatFloat(t.max.Seconds(), 'f', 3, 64))
		}
		// Reset-After wins over the absolute reset time; drop the latter so
		// that a skewed clock cannot stretch the wait either.
		resp.Header.Del("X-RateLimit-Reset")
	} else {
		resp.Header.Del("X-RateLimit-Reset")
	}
	return resp, nil
}

// restCaller runs discordgo REST calls with a context, a timeout per
// attempt, and a bounded number of attempts on 429.
type restCaller struct {
	red          redactor
	callTimeout  time.Duration
	maxAttempts  int
	maxRetryWait time.Duration
	onRateLimit  func(wait time.Duration) // for logging; may be nil
}

// do runs call until it succeeds, fails with anything but a 429, or the
// bounds are reached. call must pass the given options to discordgo.
func (rc restCaller) do(ctx context.Context, call func(opts ...discordgo.RequestOption) error) error {
	for attempt := 1; ; attempt++ {
		actx, cancel := context.WithTimeout(ctx, rc.callTimeout)
		err := call(discordgo.WithContext(actx), discordgo.WithRetryOnRatelimit(false), discordgo.WithRestRetries(1))
		cancel()
		var rl *discordgo.RateLimitError
		if !errors.As(err, &rl) {
			return rc.red.Err(err)
		}
		wait := rl.RetryAfter
		if attempt >= rc.maxAttempts || wait > rc.maxRetryWait {
			return fmt.Errorf("%w (Discord asked to wait %s; gave up after %d attempts)", ErrRateLimited, wait.Round(time.Millisecond), attempt)
		}
		if rc.onRateLimit != nil {
			rc.onRateLimit(wait)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

// apiCode returns Discord's JSON error code of a REST error (0 if none),
// and the HTTP status (0 if not a REST error).
func apiCode(err error) (code, status int) {
	var re *discordgo.RESTError
	if errors.As(err, &re) {
		if re.Response != nil {
			status = re.Response.StatusCode
		}
		if re.Message != nil {
			code = re.Message.Code
		}
	}
	return code, status
}
