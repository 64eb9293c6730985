package telegram

import (
	"context"
	"time"
)

// clock is the adapter's view of time, so tests can check pacing and
// retry waits without sleeping.
type clock interface {
	Now() time.Time
	// Sleep waits d, or until ctx is done (returning ctx.Err()).
	Sleep(ctx context.Context, d time.Duration) error
}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

func (realClock) Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// window is a sliding-window rate limiter: at most n events in any span
// of length per. It is what Telegram's limits mean ("20 messages a minute
// in a group"). It is not safe for concurrent use; the outbox guards it.
type window struct {
	n     int
	per   time.Duration
	times []time.Time // the last (at most n) event times, oldest first
}

func newWindow(n int, per time.Duration) *window {
	return &window{n: max(n, 1), per: per}
}

// next returns the earliest time at or after now when an event may happen.
func (w *window) next(now time.Time) time.Time {
	if w == nil || len(w.times) < w.n {
		return now
	}
	if t := w.times[0].Add(w.per); t.After(now) {
		return t
	}
	return now
}

// commit records an event at t (not before the last one).
func (w *window) commit(t time.Time) {
	if w == nil {
		return
	}
	if len(w.times) == w.n {
		copy(w.times, w.times[1:])
		w.times = w.times[:w.n-1]
	}
	w.times = append(w.times, t)
}

// idle reports whether no recorded event limits anything from now on, so
// the limiter can be forgotten.
func (w *window) idle(now time.Time) bool {
	return len(w.times) == 0 || !w.times[len(w.times)-1].Add(w.per).After(now)
}

// backoff returns the wait before retry number n (1-based): base doubling
// each time, capped at maxWait.
func backoff(n int, base, maxWait time.Duration) time.Duration {
	d := base
	for i := 1; i < n && d < maxWait; i++ {
		d *= 2
	}
	return min(d, maxWait)
}
