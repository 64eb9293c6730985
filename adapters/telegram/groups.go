package telegram

import (
	"slices"
	"sync"
	"time"

	tele "gopkg.in/telebot.v3"
)

// Bounds of the groups remembered per member, for posting from the
// private chat.
const (
	// maxGroupsPerMember is how many of a member's groups are kept; the
	// one seen longest ago is forgotten first.
	maxGroupsPerMember = 8
	// maxGroupButtons is how many "Post in" buttons a pointer gets.
	maxGroupButtons = 5
	// maxGroupMembers is how many members' groups are kept at once.
	maxGroupMembers = 10_000
	// groupMemory is how long a group is offered after the member was
	// last seen there.
	groupMemory = 30 * 24 * time.Hour
)

// knownGroup is a group where the bot saw a member.
type knownGroup struct {
	id    int64
	title string
	seen  time.Time
}

// memberGroups remembers, per member, the groups where the bot saw them
// (they posted, used a command or pressed a button there: the bot and the
// member are both in the group). It lives in memory only and is bounded in
// members, groups per member and time.
type memberGroups struct {
	mu sync.Mutex
	m  map[int64][]knownGroup // member's user id → groups, least recently seen first
}

func newMemberGroups() *memberGroups {
	return &memberGroups{m: map[int64][]knownGroup{}}
}

// see records that user was seen in chat (a group) at now.
func (g *memberGroups) see(user int64, chat *tele.Chat, now time.Time) {
	if chat == nil || chat.ID >= 0 || (chat.Type != tele.ChatGroup && chat.Type != tele.ChatSuperGroup) {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	list, known := g.m[user]
	if !known && len(g.m) >= maxGroupMembers {
		g.makeRoomLocked()
	}
	list = slices.DeleteFunc(list, func(k knownGroup) bool { return k.id == chat.ID })
	if len(list) >= maxGroupsPerMember {
		list = list[len(list)-maxGroupsPerMember+1:]
	}
	g.m[user] = append(list, knownGroup{id: chat.ID, title: chat.Title, seen: now})
}

// list returns user's groups seen within groupMemory, most recently seen
// first, at most maxGroupButtons.
func (g *memberGroups) list(user int64, now time.Time) []knownGroup {
	g.mu.Lock()
	defer g.mu.Unlock()
	var out []knownGroup
	list := g.m[user]
	for i := len(list) - 1; i >= 0 && len(out) < maxGroupButtons; i-- {
		if now.Sub(list[i].seen) < groupMemory {
			out = append(out, list[i])
		}
	}
	return out
}

// forget drops group from user's groups (the bot may no longer post
// there).
func (g *memberGroups) forget(user, group int64) {
	g.mu.Lock()
	defer g.mu.Unlock()
	list := slices.DeleteFunc(g.m[user], func(k knownGroup) bool { return k.id == group })
	if len(list) == 0 {
		delete(g.m, user)
		return
	}
	g.m[user] = list
}

// forgetGroup drops group from every member's groups (the bot left it).
func (g *memberGroups) forgetGroup(group int64) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for user, list := range g.m {
		list = slices.DeleteFunc(list, func(k knownGroup) bool { return k.id == group })
		if len(list) == 0 {
			delete(g.m, user)
			continue
		}
		g.m[user] = list
	}
}

// makeRoomLocked forgets the member seen longest ago.
func (g *memberGroups) makeRoomLocked() {
	var stalest int64
	var stalestAt time.Time
	first := true
	for user, list := range g.m {
		if at := list[len(list)-1].seen; first || at.Before(stalestAt) {
			stalest, stalestAt, first = user, at, false
		}
	}
	delete(g.m, stalest)
}

// Bounds of the "Post in" buttons remembered.
const (
	// postTokenTTL is how long a "Post in" button works.
	postTokenTTL = 15 * time.Minute
	// maxPostTokensPerMember is how many of a member's buttons work at
	// once; older ones stop working first.
	maxPostTokensPerMember = 50
	// maxPostTokens is how many buttons work at once in all.
	maxPostTokens = 20_000
)

// postOffer is what a "Post in" button stands for: posting pointer text
// in a group, for one member.
type postOffer struct {
	user    int64
	group   int64
	title   string
	text    string // the pointers only
	expires time.Time
}

// tokenResult says what became of a pressed token.
type tokenResult int

const (
	tokenOK       tokenResult = iota // the member's own, live token: used up now
	tokenNotYours                    // someone else's token: left for its member
	tokenGone                        // unknown, expired or already used
)

// postTokens remembers the "Post in" buttons shown to members, under short
// random tokens (a button's callback data holds 64 bytes, not a pointer).
// Tokens expire and work once. It holds only pointers (public data).
type postTokens struct {
	mu     sync.Mutex
	m      map[string]postOffer
	byUser map[int64][]string // tokens per member, oldest first
}

func newPostTokens() *postTokens {
	return &postTokens{m: map[string]postOffer{}, byUser: map[int64][]string{}}
}

// put remembers offer under a new token and returns the token.
func (p *postTokens) put(offer postOffer, now time.Time) string {
	token := newOfferID()
	offer.expires = now.Add(postTokenTTL)
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.m) >= maxPostTokens {
		p.pruneLocked(now)
	}
	if len(p.m) >= maxPostTokens {
		p.dropOldestLocked()
	}
	list := p.liveLocked(offer.user, now)
	for len(list) >= maxPostTokensPerMember {
		delete(p.m, list[0])
		list = list[1:]
	}
	p.m[token] = offer
	p.byUser[offer.user] = append(list, token)
	return token
}

// take returns the offer of token when user may use it, and uses it up.
// Someone else's token is refused and left alone.
func (p *postTokens) take(token string, user int64, now time.Time) (postOffer, tokenResult) {
	p.mu.Lock()
	defer p.mu.Unlock()
	offer, ok := p.m[token]
	switch {
	case !ok:
		return postOffer{}, tokenGone
	case !now.Before(offer.expires):
		delete(p.m, token)
		return postOffer{}, tokenGone
	case offer.user != user:
		return postOffer{}, tokenNotYours
	}
	delete(p.m, token)
	p.liveLocked(user, now)
	return offer, tokenOK
}

// liveLocked returns (and keeps) user's tokens that still work.
func (p *postTokens) liveLocked(user int64, now time.Time) []string {
	list := slices.DeleteFunc(p.byUser[user], func(t string) bool {
		o, ok := p.m[t]
		if ok && !now.Before(o.expires) {
			delete(p.m, t)
			ok = false
		}
		return !ok
	})
	if len(list) == 0 {
		delete(p.byUser, user)
		return nil
	}
	p.byUser[user] = list
	return list
}

// pruneLocked forgets every expired token.
func (p *postTokens) pruneLocked(now time.Time) {
	for user := range p.byUser {
		p.liveLocked(user, now)
	}
}

// dropOldestLocked forgets the token that expires first.
func (p *postTokens) dropOldestLocked() {
	var oldest string
	var at time.Time
	for t, o := range p.m {
		if oldest == "" || o.expires.Before(at) {
			oldest, at = t, o.expires
		}
	}
	if oldest == "" {
		return
	}
	user := p.m[oldest].user
	delete(p.m, oldest)
	p.byUser[user] = slices.DeleteFunc(p.byUser[user], func(t string) bool { return t == oldest })
	if len(p.byUser[user]) == 0 {
		delete(p.byUser, user)
	}
}
