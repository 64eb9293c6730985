package telegram

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	tele "gopkg.in/telebot.v3"
)

// errKind says what to do about a failed Bot API call.
type errKind int

const (
	// kindPermanent: the request is wrong or not allowed; retrying cannot help.
	kindPermanent errKind = iota
	// kindForbidden: 403, the bot may not write there (the member never
	// started the bot, blocked it, or the bot left the group).
	kindForbidden
	// kindFlood: 429, wait RetryAfter and try again.
	kindFlood
	// kindTransient: 5xx, a network error or a garbled answer: back off
	// and try again.
	kindTransient
	// kindCanceled: the adapter is stopping or the caller gave up.
	kindCanceled
)

func (k errKind) String() string {
	switch k {
	case kindForbidden:
		return "forbidden"
	case kindFlood:
		return "rate limited"
	case kindTransient:
		return "transient"
	case kindCanceled:
		return "canceled"
	}
	return "rejected"
}

// apiError is a failed Bot API call as the adapter reports it: classified,
// and with the bot token redacted. It deliberately does not wrap the
// original error, whose text (a URL) may hold the token.
type apiError struct {
	Method     string
	Code       int           // Bot API error_code or HTTP status; 0 for network errors
	RetryAfter time.Duration // for kindFlood, from parameters.retry_after
	Kind       errKind
	msg        string // redacted description
	// chatNotFound is a 400 "chat not found": for a private chat, the
	// member never started the bot (see unreachablePrivately).
	chatNotFound bool
}

func (e *apiError) Error() string {
	return "telegram: " + e.Method + ": " + e.msg
}

// Is lets errors.Is match context cancellation.
func (e *apiError) Is(target error) bool {
	return e.Kind == kindCanceled && target == context.Canceled
}

// statusError is what the adapter's transport returns for a 5xx answer, so
// that telebot (which ignores the HTTP status and takes an HTML 502 for
// success on some methods) reports it as an error.
type statusError struct {
	Method string
	Status int
}

func (e *statusError) Error() string {
	return fmt.Sprintf("telegram: %s answered HTTP %d", e.Method, e.Status)
}

// telebotErrRx matches telebot's error for Bot API errors it has no
// sentinel for: "telegram: <description> (<code>)".
var telebotErrRx = regexp.MustCompile(`\((\d{3})\)$`)

// classify turns an error of a telebot call into an apiError. red removes
// the token from the text.
func classify(method string, err error, red *redactor) *apiError {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae
	}
	e := &apiError{Method: method, Kind: kindPermanent, msg: red.redact(err.Error())}
	var (
		flood tele.FloodError
		se    *statusError
		te    *tele.Error
		ue    *url.Error
		ne    net.Error
		syn   *json.SyntaxError
		typ   *json.UnmarshalTypeError
	)
	switch {
	case errors.Is(err, context.Canceled):
		e.Kind = kindCanceled
	case errors.As(err, &flood):
		e.Kind, e.Code = kindFlood, 429
		e.RetryAfter = time.Duration(flood.RetryAfter) * time.Second
	case errors.As(err, &se):
		e.Code, e.Kind = se.Status, kindTransient
		if se.Status == 429 {
			e.Kind = kindFlood
		}
	case errors.As(err, &te):
		e.Code = te.Code
		e.Kind = kindOfCode(te.Code)
	case errors.As(err, &ue), errors.As(err, &ne), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF),
		errors.Is(err, context.DeadlineExceeded), errors.As(err, &syn), errors.As(err, &typ):
		e.Kind = kindTransient
	default:
		if m := telebotErrRx.FindStringSubmatch(err.Error()); m != nil {
			e.Code, _ = strconv.Atoi(m[1])
			e.Kind = kindOfCode(e.Code)
		}
	}
	// telebot has a sentinel for Telegram's exact text; the text is the
	// fallback for a wording telebot does not know.
	e.chatNotFound = errors.Is(err, tele.ErrChatNotFound) ||
		e.Code == 400 && strings.Contains(strings.ToLower(e.msg), "chat not found")
	return e
}

func kindOfCode(code int) errKind {
	switch {
	case code == 429:
		return kindFlood
	case code == 403:
		return kindForbidden
	case code >= 500:
		return kindTransient
	}
	return kindPermanent
}

// isForbidden reports whether err says the bot may not write to that chat.
func isForbidden(err error) bool {
	var ae *apiError
	return errors.As(err, &ae) && ae.Kind == kindForbidden
}

// isNotFound reports whether err says the message is already gone.
func isNotFound(err error) bool {
	var ae *apiError
	return errors.As(err, &ae) && ae.Code == 400 && strings.Contains(ae.msg, "not found")
}

// redactor removes the bot token from text. telebot builds every request
// URL as {api}/bot{token}/{method}, and net/http puts that URL in its
// errors, so any error that came through telebot may hold the token.
type redactor struct {
	forms []string
}

// botPathRx also catches a token the redactor was not told about (say, a
// token from an old configuration in a URL).
var botPathRx = regexp.MustCompile(`bot[0-9]{1,20}:[A-Za-z0-9_-]{1,200}`)

func newRedactor(token string) *redactor {
	r := &redactor{}
	if token != "" {
		r.forms = []string{token, url.PathEscape(token), url.QueryEscape(token)}
	}
	return r
}

// redact returns s without the token.
func (r *redactor) redact(s string) string {
	for _, f := range r.forms {
		s = strings.ReplaceAll(s, f, "[token]")
	}
	return botPathRx.ReplaceAllString(s, "bot[token]")
}

// err returns err's text, redacted, for a log attribute.
func (r *redactor) err(err error) string {
	if err == nil {
		return ""
	}
	return r.redact(err.Error())
}

// unreachablePrivately reports whether err is a failed message to a
// member's private chat that says the bot cannot write to them: 403 (they
// never started the bot, or blocked it), or 400 "chat not found", which
// Telegram answers for some users who never started the bot. Only for a
// private chat: for a group, "chat not found" means the group is gone.
func unreachablePrivately(err error) bool {
	var ae *apiError
	return errors.As(err, &ae) && (ae.Kind == kindForbidden || ae.chatNotFound)
}
