package metrics

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
)

// Transport wraps next (http.DefaultTransport when nil) so that every
// failed call to platform's API is counted: network errors, and answers
// with a status of 400 or more (429s also as rate limited). class names
// the call's method class from the request (see [MethodClass]); it sees
// the request only, and its result is allow-listed like every label. On a
// nil *Metrics it returns next unchanged.
func (m *Metrics) Transport(platform string, next http.RoundTripper, class func(*http.Request) string) http.RoundTripper {
	if next == nil {
		next = http.DefaultTransport
	}
	if m == nil {
		return next
	}
	return &countingTransport{m: m, platform: platform, next: next, class: class}
}

type countingTransport struct {
	m        *Metrics
	platform string
	next     http.RoundTripper
	class    func(*http.Request) string
}

// RoundTrip implements http.RoundTripper.
func (t *countingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(req)
	switch {
	case err != nil:
		if !errors.Is(err, context.Canceled) {
			t.m.APIError(t.platform, t.methodOf(req), 0)
		}
	case resp.StatusCode >= 400:
		t.m.APIError(t.platform, t.methodOf(req), resp.StatusCode)
	}
	return resp, err
}

func (t *countingTransport) methodOf(req *http.Request) string {
	if t.class == nil {
		return "other"
	}
	return t.class(req)
}

// DiscordRESTClass classifies a Discord REST call (paths /api/v9/...) by
// its HTTP method and the shape of its path, never by ids or tokens.
func DiscordRESTClass(req *http.Request) string {
	p := req.URL.Path
	if i := strings.Index(p, "/api/"); i >= 0 {
		p = p[i+len("/api/"):]
		if j := strings.IndexByte(p, '/'); j >= 0 {
			p = p[j:] // drop the version
		}
	}
	seg := strings.Split(strings.Trim(p, "/"), "/")
	has := func(s string) bool { return slices.Contains(seg, s) }
	switch {
	case len(seg) > 0 && seg[0] == "gateway":
		return "poll"
	case has("interactions") && has("callback"):
		return "answer"
	case has("commands"):
		if req.Method == http.MethodGet {
			return "meta"
		}
		return "register"
	case has("messages"), seg[0] == "users" && has("channels"):
		// Channel messages, DM channels, and interaction follow-ups and
		// edits (webhooks/<app>/<token>/messages/...).
		switch req.Method {
		case http.MethodPost:
			return "send"
		case http.MethodPatch:
			return "edit"
		case http.MethodDelete:
			return "delete"
		}
		return "meta"
	case req.Method == http.MethodGet:
		return "meta"
	}
	return "other"
}
