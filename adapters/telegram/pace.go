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

// gcra is a rate limiter (the generic cell rate algorithm): up to burst
// events at once, then one every interval. It is not safe for concurrent
// use; the outbox guards it.
type gcra struct {
	interval  time.Duration
	tolerance time.Duration // (burst-1) × interval
	tat       time.Time     // theoretical arrival time of the next event
}

func newGCRA(interval time.Duration, burst int) *gcra {
	if burst < 1 {
		burst = 1
	}
	return &gcra{interval: interval, tolerance: time.Duration(burst-1) * interval}
}

// reserve books the next event slot and returns how long to wait from now
// until it may happen.
func (g *gcra) reserve(now time.Time) time.Duration {
	if g == nil || g.interval <= 0 {
		return 0
	}
	if g.tat.Before(now) {
		g.tat = now
	}
	wait := g.tat.Sub(now) - g.tolerance
	g.tat = g.tat.Add(g.interval)
	return max(wait, 0)
}

// idle reports whether the limiter is back to its initial state at now, so
// it can be forgotten.
func (g *gcra) idle(now time.Time) bool {
	return !g.tat.After(now)
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
