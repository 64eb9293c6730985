package bridge

import (
	"crypto/rand"
	"encoding/base32"
	"strings"
	"sync"

	"github.com/clmbridge/clmbridge/clm"
	"github.com/clmbridge/clmbridge/storage"
)

// MaxReceiveRefBytes is the longest ReceiveRef the core makes.
const MaxReceiveRefBytes = 32

// refRandomBytes is how much randomness a ref carries: 120 bits, so refs
// can neither be counted nor guessed (a Telegram client may send any
// callback data). It makes a 25-byte ref: "r" and 24 base32 letters.
const refRandomBytes = 15

// refEntry is what a Receive button stands for: the pointers of one post,
// the place where the button was shown, and who made the post.
type refEntry struct {
	pointers []clm.Pointer
	source   storage.Source
	place    channelKey // the only place where the button works
	poster   memberKey
	size     int
}

// refStore remembers the pointers behind recent Receive buttons, so a
// button carries a short reference instead of the pointer. It is bounded in
// entries and bytes; the oldest are forgotten first.
type refStore struct {
	max, maxBytes int
	mu            sync.Mutex
	order         []string
	m             map[string]refEntry
	bytes         int
}

func newRefStore(max, maxBytes int) *refStore {
	return &refStore{max: max, maxBytes: maxBytes, m: make(map[string]refEntry)}
}

// newRef returns a fresh random reference.
func newRef() string {
	var b [refRandomBytes]byte
	// crypto/rand.Read never returns an error (see newRegistry).
	_, _ = rand.Read(b[:])
	return "r" + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:]))
}

// put remembers pointers, posted by poster in place, and returns their
// reference (at most MaxReceiveRefBytes bytes).
func (s *refStore) put(pointers []clm.Pointer, src storage.Source, place channelKey, poster memberKey) string {
	size := 0
	for _, p := range pointers {
		size += len(p.Data) + len(p.Nonce) + len(p.Tag) + 16
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ref := newRef()
	for s.m[ref].pointers != nil { // 2^-120: never, but a repeat must not replace
		ref = newRef()
	}
	s.m[ref] = refEntry{pointers: pointers, source: src, place: place, poster: poster, size: size}
	s.order = append(s.order, ref)
	s.bytes += size
	s.evictLocked()
	return ref
}

// evictLocked forgets the oldest refs while there are too many or they
// take too many bytes (always keeping the newest).
func (s *refStore) evictLocked() {
	for len(s.order) > 1 && (len(s.order) > s.max || s.bytes > s.maxBytes) {
		old := s.order[0]
		s.order = s.order[1:]
		s.bytes -= s.m[old].size
		delete(s.m, old)
	}
}

// get returns the pointers behind ref when it is pressed in place: a ref
// pressed anywhere but where its button was shown is unknown.
func (s *refStore) get(ref string, place channelKey) (refEntry, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.m[ref]
	if !ok || e.place != place {
		return refEntry{}, false
	}
	return e, true
}

// putAs remembers pointers under ref, made by another instance for the
// same post (see Bridge.DeliverPublished). A ref already known is left as
// it is, so delivering a post twice changes nothing.
func (s *refStore) putAs(ref string, pointers []clm.Pointer, src storage.Source, place channelKey, poster memberKey) {
	size := 0
	for _, p := range pointers {
		size += len(p.Data) + len(p.Nonce) + len(p.Tag) + 16
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.m[ref]; ok {
		return
	}
	s.m[ref] = refEntry{pointers: pointers, source: src, place: place, poster: poster, size: size}
	s.order = append(s.order, ref)
	s.bytes += size
	s.evictLocked()
}
