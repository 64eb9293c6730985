package bridge

import (
	"crypto/rand"
	"encoding/base32"
	"strconv"
	"strings"
	"sync"

	"github.com/clmbridge/clmbridge/clm"
	"github.com/clmbridge/clmbridge/storage"
)

// MaxReceiveRefBytes is the longest ReceiveRef the core makes.
const MaxReceiveRefBytes = 32

// refEntry is what a Receive button stands for: the pointers of one post.
type refEntry struct {
	pointers []clm.Pointer
	source   storage.Source
	size     int
}

// refStore remembers the pointers behind recent Receive buttons, so a
// button carries a short reference instead of the pointer. It is bounded in
// entries and bytes; the oldest are forgotten first.
type refStore struct {
	max, maxBytes int
	prefix        string // random per process, so refs of a past run do not match
	mu            sync.Mutex
	n             uint64
	order         []string
	m             map[string]refEntry
	bytes         int
}

func newRefStore(max, maxBytes int) *refStore {
	var b [5]byte
	_, _ = rand.Read(b[:]) // never fails (see newRegistry)
	return &refStore{
		max: max, maxBytes: maxBytes,
		prefix: strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:])),
		m:      make(map[string]refEntry),
	}
}

// put remembers pointers and returns their reference (at most
// MaxReceiveRefBytes bytes).
func (s *refStore) put(pointers []clm.Pointer, src storage.Source) string {
	size := 0
	for _, p := range pointers {
		size += len(p.Data) + len(p.Nonce) + len(p.Tag) + 16
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.n++
	ref := "r" + s.prefix + "-" + strconv.FormatUint(s.n, 36)
	s.m[ref] = refEntry{pointers: pointers, source: src, size: size}
	s.order = append(s.order, ref)
	s.bytes += size
	for len(s.order) > 1 && (len(s.order) > s.max || s.bytes > s.maxBytes) {
		old := s.order[0]
		s.order = s.order[1:]
		s.bytes -= s.m[old].size
		delete(s.m, old)
	}
	return ref
}

// get returns the pointers behind ref.
func (s *refStore) get(ref string) (refEntry, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.m[ref]
	return e, ok
}
