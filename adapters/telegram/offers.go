package telegram

import (
	"crypto/rand"
	"encoding/base64"
	"sync"
	"time"
)

// Bounds of the inline offers remembered.
const (
	// offerTTL is how long an offered inline result can still be chosen
	// and recorded. Results are never cached (cache_time 0), so a member
	// chooses within the moment they look at them.
	offerTTL = 15 * time.Minute
	// maxOffersPerMember is how many of a member's offers are kept; older
	// ones are forgotten first (they are drafts typed over).
	maxOffersPerMember = 16
	// maxOfferMembers is how many members' offers are kept at once.
	maxOfferMembers = 10_000
)

// offer is one inline result shown to a member: its result id and the
// pointer its message holds.
type offer struct {
	id      string
	pointer string
	expires time.Time
}

// inlineOffers remembers, per member and for a while, the pointers offered
// as inline results, so that the result the member chooses (Telegram's
// chosen_inline_result names only its id) can be recorded as sent. It is
// bounded in members, offers per member and time, and holds only pointers
// (public data).
type inlineOffers struct {
	mu sync.Mutex
	m  map[int64][]offer // member's user id → offers, oldest first
}

func newInlineOffers() *inlineOffers {
	return &inlineOffers{m: map[int64][]offer{}}
}

// newOfferID returns a fresh random inline result id (22 characters of
// base64url; Telegram allows 1 to 64 bytes). Random rather than counted, so
// an id from before a restart never names a new offer.
func newOfferID() string {
	var b [16]byte
	// crypto/rand.Read never fails (since Go 1.24 it crashes instead).
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// put remembers that user was offered pointer as result id until
// now+offerTTL.
func (o *inlineOffers) put(user int64, id, pointer string, now time.Time) {
	o.mu.Lock()
	defer o.mu.Unlock()
	list, known := o.m[user]
	if !known && len(o.m) >= maxOfferMembers {
		o.makeRoomLocked(now)
	}
	list = live(list, now)
	if len(list) >= maxOffersPerMember {
		list = append(list[:0:0], list[len(list)-maxOffersPerMember+1:]...)
	}
	o.m[user] = append(list, offer{id: id, pointer: pointer, expires: now.Add(offerTTL)})
}

// take returns and forgets the pointer offered to user as result id, if it
// is still remembered. An id offered to someone else is never found.
func (o *inlineOffers) take(user int64, id string, now time.Time) (string, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	list := live(o.m[user], now)
	for k, of := range list {
		if of.id == id {
			list = append(list[:k:k], list[k+1:]...)
			o.setLocked(user, list)
			return of.pointer, true
		}
	}
	o.setLocked(user, list)
	return "", false
}

func (o *inlineOffers) setLocked(user int64, list []offer) {
	if len(list) == 0 {
		delete(o.m, user)
		return
	}
	o.m[user] = list
}

// makeRoomLocked forgets expired offers and, if every member is still
// there, the member whose newest offer is the oldest.
func (o *inlineOffers) makeRoomLocked(now time.Time) {
	var stalest int64
	var stalestAt time.Time
	for user, list := range o.m {
		list = live(list, now)
		o.setLocked(user, list)
		if len(list) == 0 {
			continue
		}
		if at := list[len(list)-1].expires; stalestAt.IsZero() || at.Before(stalestAt) {
			stalest, stalestAt = user, at
		}
	}
	if len(o.m) >= maxOfferMembers {
		delete(o.m, stalest)
	}
}

// live returns the offers of list that have not expired at now (list is
// oldest first, and all offers live equally long).
func live(list []offer, now time.Time) []offer {
	for k, of := range list {
		if now.Before(of.expires) {
			return list[k:]
		}
	}
	return nil
}
