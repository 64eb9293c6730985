package platform

import (
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Fetch sends req with client (nil: one with a 10 s timeout) and reads at
// most limit bytes of the answer, for a doctor's read-only calls. A
// transport error comes with a nil response; a failed read with the
// response (its body closed). Errors leave out the request's URL and have
// secret removed (the Bot API puts the token in the URL, and so net/http
// in its errors).
func Fetch(client *http.Client, req *http.Request, secret string, limit int64) (*http.Response, []byte, error) {
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	resp, err := client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, nil, errors.New(Redact(err.Error(), secret))
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit))
	if err != nil {
		return resp, nil, errors.New(Redact(err.Error(), secret))
	}
	return resp, body, nil
}

// Redact replaces every occurrence of each non-empty secret in s with
// "[redacted]".
func Redact(s string, secrets ...string) string {
	for _, sec := range secrets {
		if sec != "" {
			s = strings.ReplaceAll(s, sec, "[redacted]")
		}
	}
	return s
}
