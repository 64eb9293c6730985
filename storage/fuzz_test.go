package storage

import (
	"bytes"
	"crypto/rand"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/crypto/chacha20poly1305"
)

// FuzzPayload seals and opens arbitrary message parts (round trip), and
// feeds arbitrary bytes to the payload parser (never panics, never reads
// out of bounds).
func FuzzPayload(f *testing.F) {
	f.Add("alice", `{"e": 1, "n": "x", "d": "00"}`, "nonce", "hello", []byte{1, 0, 0, 0})
	f.Add("", "", "", "", []byte{1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01})
	f.Add("ü|¶|", "p", "n", strings.Repeat("t", 300), []byte{2})
	var key [32]byte
	if _, err := rand.Read(key[:]); err != nil {
		f.Fatal(err)
	}
	a, err := chacha20poly1305.NewX(key[:])
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, username, pointer, nonce, text string, raw []byte) {
		ph := pointerHash(pointer)
		ad := appendAD(nil, adFields{version: adCurrent, memberID: 1, chatID: 2, num: 4, pointerHash: ph[:], direction: Sent, epoch: 3})
		sealed, err := seal(a, appendPayload(nil, username, pointer, nonce, text), ad)
		if err != nil {
			t.Fatal(err)
		}
		plain, err := open(a, nil, sealed, ad)
		if err != nil {
			t.Fatalf("open of a fresh seal: %v", err)
		}
		p, err := parsePayload(plain)
		if err != nil {
			t.Fatalf("parse of a fresh payload: %v", err)
		}
		if string(p.username) != username || string(p.pointer) != pointer || string(p.nonce) != nonce || string(p.text) != text {
			t.Fatalf("round trip changed the message")
		}
		// Another chat's AD, another number's, or the old layout's must
		// not open it.
		for _, other := range []adFields{
			{version: adCurrent, memberID: 1, chatID: 3, num: 4, pointerHash: ph[:], direction: Sent, epoch: 3},
			{version: adCurrent, memberID: 1, chatID: 2, num: 5, pointerHash: ph[:], direction: Sent, epoch: 3},
			{version: adV2, memberID: 1, chatID: 2, num: 4, pointerHash: ph[:], direction: Sent, epoch: 3},
		} {
			if _, err := open(a, nil, sealed, appendAD(nil, other)); err == nil {
				t.Fatalf("sealed message opened under other associated data %+v", other)
			}
		}
		// Arbitrary bytes: a parse error or parts within the input.
		if q, err := parsePayload(raw); err == nil {
			n := 1 + len(q.username) + len(q.pointer) + len(q.nonce) + len(q.text)
			if n > len(raw) {
				t.Fatalf("parsed parts (%d bytes) exceed the input (%d)", n, len(raw))
			}
		}
	})
}

// FuzzAppendLower checks Search's case folding against strings.ToLower.
func FuzzAppendLower(f *testing.F) {
	for _, s := range []string{"Hello", "ÄÖÜ ẞ", "\u212a", "İstanbul", "\xff\xfe", "ǅ"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := appendLower(nil, []byte(s))
		if want := strings.ToLower(s); !bytes.Equal(got, []byte(want)) {
			t.Fatalf("appendLower(%q) = %q, want %q", s, got, want)
		}
	})
}

// FuzzCheckChatName: whatever the name validator accepts is safe to put in
// a CLM signed text and to show.
func FuzzCheckChatName(f *testing.F) {
	for _, s := range []string{"Work", "", " x", "a|¶|b", "\u202e", "👩\u200d💻", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if checkChatName(s) != nil {
			return
		}
		switch {
		case !utf8.ValidString(s), s == "", utf8.RuneCountInString(s) > MaxChatNameRunes,
			strings.Contains(s, clmSeparator), strings.TrimSpace(s) != s,
			strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f }):
			t.Fatalf("accepted a bad chat name %q", s)
		}
	})
}

// FuzzAssociatedDataIsInjective checks that two rows differing in any
// source field (or in where one field ends and the next begins) never get
// the same associated data, so no edit of the clear src_* columns can keep
// a seal valid.
func FuzzAssociatedDataIsInjective(f *testing.F) {
	f.Add("telegram", "-100123", "1000", "telegram-100123", "", "1000")
	f.Add("", "", "", "", "", "")
	f.Add("discord", "500", "9", "discord", "5", "009")
	f.Fuzz(func(t *testing.T, p1, c1, m1, p2, c2, m2 string) {
		ph := pointerHash("pointer")
		ad := func(p, c, m string) []byte {
			return appendAD(nil, adFields{version: adCurrent, memberID: 1, chatID: 2, num: 7, pointerHash: ph[:], direction: Received, epoch: 3,
				authenticated: true, srcPlatform: []byte(p), srcChannel: []byte(c), srcMessageID: []byte(m)})
		}
		same := p1 == p2 && c1 == c2 && m1 == m2
		if got := bytes.Equal(ad(p1, c1, m1), ad(p2, c2, m2)); got != same {
			t.Fatalf("sources (%q, %q, %q) and (%q, %q, %q): equal AD %v, equal sources %v", p1, c1, m1, p2, c2, m2, got, same)
		}
	})
}
