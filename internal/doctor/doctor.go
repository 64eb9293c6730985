// Package doctor checks a bridge's setup the way an operator would, and
// says what to fix: the data directory and store, and each platform's
// settings and permissions as the platform itself reports them (Telegram's
// privacy and inline modes and the bot's admin rights, Discord's intents,
// command registration and permissions).
//
// It only reads: it creates nothing, migrates nothing and changes no
// platform setting. It is what `bridge doctor` runs. Findings never hold a
// token, a secret or a member's text.
package doctor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Level is how serious a finding is.
type Level int

// The levels, from fine to broken.
const (
	// OK: checked and fine.
	OK Level = iota
	// Info: worth knowing, nothing to fix.
	Info
	// Warn: works, but something members will notice is off.
	Warn
	// Fail: the bridge cannot work like this.
	Fail
)

// String returns "ok", "info", "warn" or "FAIL".
func (l Level) String() string {
	switch l {
	case OK:
		return "ok"
	case Info:
		return "info"
	case Warn:
		return "warn"
	default:
		return "FAIL"
	}
}

// Finding is one result of a check.
type Finding struct {
	Area  string // "config", "store", "telegram", "discord"
	Level Level
	What  string // what was found
	Fix   string // what to do about it; empty when nothing is to be done
}

// Check is one area to examine; Run returns its findings.
type Check struct {
	Area string
	Run  func(ctx context.Context) []Finding
}

// Run runs every check in order and returns all findings.
func Run(ctx context.Context, checks []Check) []Finding {
	var all []Finding
	for _, c := range checks {
		fs := c.Run(ctx)
		for i := range fs {
			if fs[i].Area == "" {
				fs[i].Area = c.Area
			}
		}
		all = append(all, fs...)
	}
	return all
}

// Report writes findings as lines for a terminal, each problem followed by
// what to do, and a last line with the verdict. It returns true when no
// finding is a Fail.
func Report(w io.Writer, findings []Finding) bool {
	worst := OK
	warns, fails := 0, 0
	for _, f := range findings {
		fmt.Fprintf(w, "[%-4s] %s: %s\n", f.Level, f.Area, oneLine(f.What))
		if f.Fix != "" {
			fmt.Fprintf(w, "       fix: %s\n", oneLine(f.Fix))
		}
		worst = max(worst, f.Level)
		switch f.Level {
		case Warn:
			warns++
		case Fail:
			fails++
		}
	}
	switch worst {
	case Fail:
		fmt.Fprintf(w, "doctor: %d problem(s) to fix before the bridge can work, %d warning(s)\n", fails, warns)
	case Warn:
		fmt.Fprintf(w, "doctor: the bridge can run; %d warning(s) above\n", warns)
	default:
		fmt.Fprintln(w, "doctor: all checks passed")
	}
	return worst < Fail
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// fetch sends req with client (nil: one with a 10 s timeout) and reads at
// most limit bytes of the answer. A transport error comes with a nil
// response; a failed read with the response (its body closed). Errors leave
// out the request's URL and have token redacted: the Bot API puts the
// token in the URL.
func fetch(client *http.Client, req *http.Request, token string, limit int64) (*http.Response, []byte, error) {
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	resp, err := client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, nil, errors.New(redact(err.Error(), token))
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit))
	if err != nil {
		return resp, nil, errors.New(redact(err.Error(), token))
	}
	return resp, body, nil
}

// redact removes every occurrence of each secret from s (tokens end up in
// Bot API URLs, and so in net/http errors).
func redact(s string, secrets ...string) string {
	for _, sec := range secrets {
		if sec != "" {
			s = strings.ReplaceAll(s, sec, "[redacted]")
		}
	}
	return s
}
