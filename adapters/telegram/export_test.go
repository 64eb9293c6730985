package telegram

import "time"

// Test-only options, and views of the adapter's bounded memories.

// size returns how many members and groups are remembered.
func (g *memberGroups) size() (members, groups int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, l := range g.m {
		groups += len(l)
	}
	return len(g.m), groups
}

// size returns how many tokens are remembered.
func (p *postTokens) size() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.m)
}

// size returns how many members and offers are remembered.
func (o *inlineOffers) size() (members, offers int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, l := range o.m {
		offers += len(l)
	}
	return len(o.m), offers
}

// withClock replaces the clock.
func withClock(c clock) Option {
	return func(o *options) { o.clock = c }
}

// withInlineDebounce replaces inlineDebounce.
func withInlineDebounce(d time.Duration) Option {
	return func(o *options) { o.debounce = d }
}
