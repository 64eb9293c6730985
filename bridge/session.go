package bridge

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/clmbridge/clmbridge/clm"
	"github.com/clmbridge/clmbridge/storage"
)

// memberKey identifies a member across the bridge's in-memory maps.
type memberKey struct {
	platform string
	id       string
}

func keyOf(m Member) memberKey { return memberKey{platform: m.Platform, id: m.ID} }

// redacted is what every type holding a secret prints as.
const redacted = "[redacted]"

// secretGroup is one distinct chat secret held in memory, shared by every
// session unlocked with the same bytes (several members of one chat, or one
// member's chats that share a secret). Trial-opening a pointer tries each
// group once, whatever the number of sessions.
type secretGroup struct {
	id       [32]byte // HMAC of the secret under the registry's random key
	secret   []byte
	sessions map[*session]struct{}
}

// wipe overwrites the secret bytes.
func (g *secretGroup) wipe() {
	clear(g.secret)
	g.secret = nil
}

// Format prints the group as redacted for every verb (%v, %+v, %#v, %s…).
func (g *secretGroup) Format(f fmt.State, _ rune) { fmt.Fprint(f, redacted) }

// LogValue keeps the group out of logs.
func (g *secretGroup) LogValue() slog.Value { return slog.StringValue(redacted) }

// session is one member's unlocked chat: the secret (through its group)
// and the storage key, in memory only.
type session struct {
	member   Member
	mk       memberKey
	memberID int64
	chat     string
	group    *secretGroup
	key      *storage.ChatKey
	created  time.Time
	used     time.Time
	// unconfirmed is set when the member joined the chat with unlock
	// without a verifier to check against: the chat name is checked when
	// the first pointer opens with it.
	unconfirmed bool
	// unverified is set while the session's secret is one the member
	// supplied (new, rekey, join, unlock of such a chat, the which-secret
	// answer) and no pointer someone else posted has opened yet: as far
	// as the bridge knows it is a guess. Such a session opens pointers
	// only when its member asks, a receive it leaves closed counts as a
	// wrong secret, and it opens nothing while the member must wait.
	unverified bool
	// keyMu is held for writing while the member changes the chat's secret
	// (storage wipes the old key before the registry has the new one), and
	// for reading by a save from another member's request (a watch
	// delivery), so that save always has the current key.
	keyMu sync.RWMutex

	// Guarded by the registry's mutex.
	inUse int  // callers holding the session (see registry.release)
	dead  bool // removed from the registry; wiped when inUse drops to 0
}

// Format prints the session as redacted for every verb.
func (s *session) Format(f fmt.State, _ rune) { fmt.Fprint(f, "[redacted session]") }

// String returns a redacted description.
func (s *session) String() string { return "[redacted session]" }

// GoString returns a redacted description.
func (s *session) GoString() string { return "[redacted session]" }

// LogValue keeps the session's secret and key out of logs.
func (s *session) LogValue() slog.Value { return slog.StringValue("[redacted session]") }

// secret returns the session's secret bytes. The caller must hold the
// session (see registry.use), and must not keep the slice.
func (s *session) secret() []byte { return s.group.secret }

// expired reports whether the session timed out at now.
func (s *session) expired(now time.Time, idle, maxAge time.Duration) bool {
	return now.Sub(s.used) >= idle || now.Sub(s.created) >= maxAge
}

// registry holds every unlocked session, indexed by member and chat and by
// distinct secret. It wipes a session's secret and key when the session
// is removed (lock, expiry, shutdown) and nobody is using it any more.
type registry struct {
	idle, maxAge time.Duration
	now          func() time.Time

	mu       sync.RWMutex
	idxKey   []byte // random HMAC key for group ids, so ids are no fast secret check
	byMember map[memberKey]map[string]*session
	groups   map[[32]byte]*secretGroup
}

func newRegistry(idle, maxAge time.Duration, now func() time.Time) *registry {
	k := make([]byte, 32)
	// crypto/rand.Read never returns an error (since Go 1.24 it crashes
	// the program instead), so there is nothing to handle.
	_, _ = rand.Read(k)
	return &registry{
		idle: idle, maxAge: maxAge, now: now,
		idxKey:   k,
		byMember: make(map[memberKey]map[string]*session),
		groups:   make(map[[32]byte]*secretGroup),
	}
}

// Format prints the registry as redacted for every verb.
func (r *registry) Format(f fmt.State, _ rune) { fmt.Fprint(f, "[redacted sessions]") }

func (r *registry) groupID(secret []byte) [32]byte {
	m := hmac.New(sha256.New, r.idxKey)
	m.Write(secret)
	var id [32]byte
	m.Sum(id[:0])
	return id
}

// add stores a new session for m and chat, replacing (and wiping) any
// session of the same member and chat. The registry keeps its own copy of
// secret; the caller still owns (and should wipe) its slice. key becomes the
// registry's. unconfirmed and unverified start the session's flags of
// those names.
func (r *registry) add(m Member, memberID int64, chat string, secret []byte, key *storage.ChatKey, unconfirmed, unverified bool) {
	now := r.now()
	s := &session{
		member: m, mk: keyOf(m), memberID: memberID, chat: chat, key: key,
		created: now, used: now, unconfirmed: unconfirmed, unverified: unverified,
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if old := r.byMember[s.mk][chat]; old != nil {
		r.removeLocked(old)
	}
	r.attachLocked(s, secret)
	chats := r.byMember[s.mk]
	if chats == nil {
		chats = make(map[string]*session)
		r.byMember[s.mk] = chats
	}
	chats[chat] = s
}

// attachLocked joins s to the group of secret, making the group if needed.
func (r *registry) attachLocked(s *session, secret []byte) {
	id := r.groupID(secret)
	g := r.groups[id]
	if g == nil {
		g = &secretGroup{id: id, secret: append([]byte(nil), secret...), sessions: make(map[*session]struct{})}
		r.groups[id] = g
	}
	g.sessions[s] = struct{}{}
	s.group = g
}

// removeLocked takes s out of the indexes and wipes it unless it is in use
// (then release wipes it).
func (r *registry) removeLocked(s *session) {
	if s.dead {
		return
	}
	s.dead = true
	if chats := r.byMember[s.mk]; chats[s.chat] == s {
		delete(chats, s.chat)
		if len(chats) == 0 {
			delete(r.byMember, s.mk)
		}
	}
	if s.inUse == 0 {
		r.wipeLocked(s)
	}
}

// wipeLocked overwrites the session's key and, when it was the last session
// holding its secret, the secret.
func (r *registry) wipeLocked(s *session) {
	if s.key != nil {
		s.key.Wipe()
		s.key = nil
	}
	r.detachLocked(s)
}

// detachLocked takes s out of its secret's group, wiping and dropping the
// group (and so the secret) when s was its last session.
func (r *registry) detachLocked(s *session) {
	g := s.group
	if g == nil {
		return
	}
	delete(g.sessions, s)
	if len(g.sessions) == 0 {
		g.wipe()
		delete(r.groups, g.id)
	}
	s.group = nil
}

// lockedError is returned by use when the member has no such unlocked
// chat; expired tells whether it just timed out.
type lockedError struct {
	expired bool
}

func (e *lockedError) Error() string {
	if e.expired {
		return "bridge: session expired"
	}
	return "bridge: chat is locked"
}

// use returns the member's unlocked session for chat, marks it used now,
// and holds it until release is called (it is not wiped meanwhile). A
// session found expired is removed and reported as expired.
func (r *registry) use(mk memberKey, chat string) (*session, error) {
	now := r.now()
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.byMember[mk][chat]
	if s == nil {
		return nil, &lockedError{}
	}
	if s.expired(now, r.idle, r.maxAge) {
		r.removeLocked(s)
		return nil, &lockedError{expired: true}
	}
	s.used = now
	s.inUse++
	return s, nil
}

// release gives back a session obtained from use or trialOpen.
func (r *registry) release(s *session) {
	r.mu.Lock()
	defer r.mu.Unlock()
	s.inUse--
	if s.dead && s.inUse == 0 {
		r.wipeLocked(s)
	}
}

// remove locks (forgets) the member's session for chat, if any, and
// reports whether there was one.
func (r *registry) remove(mk memberKey, chat string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.byMember[mk][chat]
	if s == nil {
		return false
	}
	r.removeLocked(s)
	return true
}

// removeMember locks every chat of the member and returns their names.
func (r *registry) removeMember(mk memberKey) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var names []string
	for name, s := range r.byMember[mk] {
		names = append(names, name)
		r.removeLocked(s)
	}
	sort.Strings(names)
	return names
}

// rekey moves a held session to a new secret and key. The old key has
// already been wiped by storage.Rekey. A joined chat no pointer confirmed
// stays unconfirmed, and the new secret is unverified: the member chose
// it, nobody checked it (a rekey must be no way to try a guess).
func (r *registry) rekey(s *session, newSecret []byte, newKey *storage.ChatKey) {
	r.mu.Lock()
	defer r.mu.Unlock()
	s.unverified = true
	r.detachLocked(s)
	s.key = newKey
	r.attachLocked(s, newSecret)
}

// currentKey returns a held session's storage key as it is now (a rekey
// replaces it). A held session is not wiped, even if removed meanwhile.
func (r *registry) currentKey(s *session) *storage.ChatKey {
	r.mu.Lock()
	defer r.mu.Unlock()
	return s.key
}

// confirm marks a held session's chat name as checked.
func (r *registry) confirm(s *session) {
	r.mu.Lock()
	s.unconfirmed = false
	r.mu.Unlock()
}

// verify marks a held session's secret as proven by a pointer someone
// else posted.
func (r *registry) verify(s *session) {
	r.mu.Lock()
	s.unverified = false
	r.mu.Unlock()
}

// unverified returns the names of the member's unexpired sessions whose
// secret is unverified, sorted, and how many distinct secrets they hold
// (each is one guess).
func (r *registry) unverified(mk memberKey) (names []string, secrets int) {
	now := r.now()
	r.mu.Lock()
	defer r.mu.Unlock()
	groups := make(map[*secretGroup]bool)
	for name, s := range r.byMember[mk] {
		if s.unverified && !s.expired(now, r.idle, r.maxAge) {
			names = append(names, name)
			groups[s.group] = true
		}
	}
	sort.Strings(names)
	return names, len(groups)
}

// dropUnverified releases the held hits of sessions whose secret is
// unverified (a joined chat no pointer confirmed is too) and returns the
// others.
func (r *registry) dropUnverified(hits []hit) []hit {
	kept := hits[:0]
	for _, h := range hits {
		if h.unconfirmed || h.unverified {
			r.release(h.s)
			continue
		}
		kept = append(kept, h)
	}
	return kept
}

// unlocked returns the names of the member's unexpired sessions, sorted.
func (r *registry) unlocked(mk memberKey) []string {
	now := r.now()
	r.mu.Lock()
	defer r.mu.Unlock()
	var names []string
	for name, s := range r.byMember[mk] {
		if s.expired(now, r.idle, r.maxAge) {
			r.removeLocked(s)
			continue
		}
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// sweep removes every expired session and returns how many it removed.
func (r *registry) sweep() int {
	now := r.now()
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, chats := range r.byMember {
		for _, s := range chats {
			if s.expired(now, r.idle, r.maxAge) {
				r.removeLocked(s)
				n++
			}
		}
	}
	return n
}

// closeAll removes and wipes every session.
func (r *registry) closeAll() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, chats := range r.byMember {
		for _, s := range chats {
			r.removeLocked(s)
		}
	}
}

// count returns the number of sessions and of distinct secrets.
func (r *registry) count() (sessions, secrets int) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	for _, chats := range r.byMember {
		sessions += len(chats)
	}
	return sessions, len(r.groups)
}

// hit is one session whose secret opened a pointer (err is nil, or
// clm.ErrTampered when the pointer opened but its tag did not verify).
// key, unconfirmed and unverified are copied from the session, under the
// registry's lock, when the hit is held: another member's request reads
// them while the session's own member may rekey or confirm it.
type hit struct {
	s           *session
	opened      clm.Opened
	err         error
	key         *storage.ChatKey
	unconfirmed bool
	unverified  bool
}

// trialOpen tries p once per distinct secret held in memory and returns,
// held (not marked used), every session whose secret opened it and that passes want (nil: all).
// want is called without the registry's lock. The caller must release each
// hit's session.
//
// Grouping by secret is what keeps this cheap: 10,000 sessions sharing 1,000
// secrets cost 1,000 opens, and the sessions are only looked at for the
// secrets that open the pointer (usually none or one).
func (r *registry) trialOpen(p clm.Pointer, want func(*session) bool) []hit {
	var hits []hit
	r.mu.RLock()
	for _, g := range r.groups {
		hits = openGroup(p, g, hits)
	}
	r.mu.RUnlock()
	if want != nil {
		kept := hits[:0]
		for _, h := range hits {
			if want(h.s) {
				kept = append(kept, h)
			}
		}
		hits = kept
	}
	// Not the members' own requests: they do not refresh the idle timer,
	// or anyone re-posting a pointer could keep a watcher's chat unlocked.
	return r.hold(hits, false)
}

// trialOpenMember is trialOpen limited to one member's sessions.
func (r *registry) trialOpenMember(mk memberKey, p clm.Pointer) []hit {
	var hits []hit
	r.mu.RLock()
	tried := make(map[*secretGroup]bool)
	for _, s := range r.byMember[mk] {
		if g := s.group; g != nil && !tried[g] {
			tried[g] = true
			o, err := p.Open(g.secret)
			if err == nil || errors.Is(err, clm.ErrTampered) {
				for _, s2 := range r.byMember[mk] {
					if s2.group == g {
						hits = append(hits, hit{s: s2, opened: o, err: err})
					}
				}
			}
		}
	}
	r.mu.RUnlock()
	return r.hold(hits, true)
}

// openGroup tries p with g's secret and appends a hit for each of its
// sessions when it opens. The caller holds the read lock.
func openGroup(p clm.Pointer, g *secretGroup, hits []hit) []hit {
	o, err := p.Open(g.secret)
	if err != nil && !errors.Is(err, clm.ErrTampered) {
		return hits
	}
	for s := range g.sessions {
		hits = append(hits, hit{s: s, opened: o, err: err})
	}
	return hits
}

// hold marks the hits' sessions in use, dropping those that expired or went
// away since they were found. touch marks them used now: only for the
// request of the sessions' own member.
func (r *registry) hold(hits []hit, touch bool) []hit {
	if len(hits) == 0 {
		return nil
	}
	now := r.now()
	r.mu.Lock()
	defer r.mu.Unlock()
	kept := hits[:0]
	for _, h := range hits {
		if h.s.dead {
			continue
		}
		if h.s.expired(now, r.idle, r.maxAge) {
			r.removeLocked(h.s)
			continue
		}
		if touch {
			h.s.used = now
		}
		h.s.inUse++
		h.key, h.unconfirmed, h.unverified = h.s.key, h.s.unconfirmed, h.s.unverified
		kept = append(kept, h)
	}
	return kept
}
