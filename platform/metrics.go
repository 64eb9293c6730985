package platform

import (
	"context"
	"errors"
	"net/http"
	"time"
)

// APIClass is the kind of a platform API call, the only thing metrics
// record about a call: each adapter classifies its own calls (method
// names, REST paths), so the metrics know no platform's API.
type APIClass string

// The classes of API calls.
const (
	ClassSend     APIClass = "send"     // a message posted or a DM opened
	ClassEdit     APIClass = "edit"     // a message or its buttons changed
	ClassDelete   APIClass = "delete"   // a message removed
	ClassAnswer   APIClass = "answer"   // a button press, query or interaction answered
	ClassPoll     APIClass = "poll"     // updates taken, webhook or gateway set up
	ClassRegister APIClass = "register" // commands registered
	ClassMeta     APIClass = "meta"     // the bot, a chat or a member looked up
	ClassOther    APIClass = "other"    // anything else
)

// Metrics is what an adapter reports to the host's metrics. The host's
// implementation allow-lists every value it records.
type Metrics interface {
	// APIError counts a failed call to the platform's API: status is the
	// HTTP status, 0 when there was none (a network error); 429 also
	// counts as rate limited.
	APIError(platform string, class APIClass, status int)
	// SetOutboxDepthFunc makes the outbox-depth gauge of platform read f
	// at each scrape.
	SetOutboxDepthFunc(platform string, f func() int)
	// Delivered records how long a message waited in platform's outbox
	// before the platform took it.
	Delivered(platform string, took time.Duration)
}

// NoMetrics counts nothing: what an adapter uses when [Host.Metrics] is
// nil.
type NoMetrics struct{}

// APIError does nothing.
func (NoMetrics) APIError(string, APIClass, int) {}

// SetOutboxDepthFunc does nothing.
func (NoMetrics) SetOutboxDepthFunc(string, func() int) {}

// Delivered does nothing.
func (NoMetrics) Delivered(string, time.Duration) {}

// MetricsOf returns h.Metrics, or NoMetrics when it is nil.
func (h Host) MetricsOf() Metrics {
	if h.Metrics == nil {
		return NoMetrics{}
	}
	return h.Metrics
}

// CountCalls wraps next (http.DefaultTransport when nil) so that every
// failed call is counted in m for platform: network errors (but not a
// cancelled call), and answers with a status of 400 or more. classify
// sees the request only.
func CountCalls(next http.RoundTripper, m Metrics, platform string, classify func(*http.Request) APIClass) http.RoundTripper {
	if next == nil {
		next = http.DefaultTransport
	}
	if m == nil {
		return next
	}
	return countingTransport{next: next, m: m, platform: platform, classify: classify}
}

type countingTransport struct {
	next     http.RoundTripper
	m        Metrics
	platform string
	classify func(*http.Request) APIClass
}

// RoundTrip implements http.RoundTripper.
func (t countingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(req)
	switch {
	case err != nil:
		if !errors.Is(err, context.Canceled) {
			t.m.APIError(t.platform, t.class(req), 0)
		}
	case resp.StatusCode >= 400:
		t.m.APIError(t.platform, t.class(req), resp.StatusCode)
	}
	return resp, err
}

func (t countingTransport) class(req *http.Request) APIClass {
	if t.classify == nil {
		return ClassOther
	}
	return t.classify(req)
}
