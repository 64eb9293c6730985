package bridge

import (
	"sync"
	"time"
)

// rateLimiter is a token bucket per member: burst requests at once, then
// perMinute a minute. It tells the caller the first time a member is turned
// away in a row, so the bot warns once instead of answering a flood.
type rateLimiter struct {
	burst     float64
	perMinute float64 // <= 0: no limit
	mu        sync.Mutex
	buckets   map[memberKey]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
	warned bool
}

func newRateLimiter(burst, perMinute int) *rateLimiter {
	return &rateLimiter{burst: float64(burst), perMinute: float64(perMinute), buckets: make(map[memberKey]*bucket)}
}

// allow takes one token for mk at now. When there is none it returns
// ok=false, how long until the next token, and warn=true the first time in
// a row.
func (l *rateLimiter) allow(mk memberKey, now time.Time) (ok bool, wait time.Duration, warn bool) {
	if l.perMinute <= 0 {
		return true, 0, false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[mk]
	if b == nil {
		b = &bucket{tokens: l.burst, last: now}
		l.buckets[mk] = b
	}
	if el := now.Sub(b.last); el > 0 {
		b.tokens = min(l.burst, b.tokens+el.Minutes()*l.perMinute)
		b.last = now
	}
	if b.tokens >= 1 {
		b.tokens--
		b.warned = false
		return true, 0, false
	}
	wait = time.Duration((1 - b.tokens) / l.perMinute * float64(time.Minute))
	warn = !b.warned
	b.warned = true
	return false, wait, warn
}

// prune forgets members whose bucket is full again (they are as new).
func (l *rateLimiter) prune(now time.Time) {
	if l.perMinute <= 0 {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for mk, b := range l.buckets {
		if b.tokens+now.Sub(b.last).Minutes()*l.perMinute >= l.burst {
			delete(l.buckets, mk)
		}
	}
}

// unlockGuard slows down guessing: each member has free wrong secrets, then
// waits that double after every further wrong one, up to a maximum.
type unlockGuard struct {
	free      int
	base, max time.Duration
	mu        sync.Mutex
	members   map[memberKey]*attempts
}

type attempts struct {
	failures int
	last     time.Time // of the last wrong secret
	until    time.Time // no attempt before this
}

func newUnlockGuard(free int, base, max time.Duration) *unlockGuard {
	return &unlockGuard{free: free, base: base, max: max, members: make(map[memberKey]*attempts)}
}

// check reports whether mk may try a secret at now, and if not, when.
func (g *unlockGuard) check(mk memberKey, now time.Time) (ok bool, retryAt time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	a := g.members[mk]
	if a == nil || !now.Before(a.until) {
		return true, time.Time{}
	}
	return false, a.until
}

// failed records a wrong secret and returns how many free attempts are
// left, or when the member may try again once they are used up.
func (g *unlockGuard) failed(mk memberKey, now time.Time) (left int, retryAt time.Time) {
	return g.failedMany(mk, now, 1)
}

// failedMany records n wrong secrets at once (a receive that none of n
// unverified secrets opened tried n guesses), as failed does.
func (g *unlockGuard) failedMany(mk memberKey, now time.Time, n int) (left int, retryAt time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	a := g.members[mk]
	if a == nil {
		a = &attempts{}
		g.members[mk] = a
	}
	a.failures += max(n, 1)
	a.last = now
	if a.failures < g.free {
		return g.free - a.failures, time.Time{}
	}
	wait := g.base
	for i := g.free; i < a.failures && wait < g.max; i++ {
		wait *= 2
	}
	wait = min(wait, g.max)
	a.until = now.Add(wait)
	return 0, a.until
}

// succeeded forgets the member's wrong attempts.
func (g *unlockGuard) succeeded(mk memberKey) {
	g.mu.Lock()
	delete(g.members, mk)
	g.mu.Unlock()
}

// prune forgets members whose last wrong secret is a day old and who are
// not waiting.
func (g *unlockGuard) prune(now time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for mk, a := range g.members {
		if now.Sub(a.last) > 24*time.Hour && !now.Before(a.until) {
			delete(g.members, mk)
		}
	}
}
