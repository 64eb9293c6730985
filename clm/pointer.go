package clm

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/clmbridge/clmbridge/clm/internal/hmacdrbg"
)

// Step numbers in the comments below are those of docs/PROTOCOL.md,
// "Making a pointer" and "Opening".

const (
	nonceLen = 16 // characters of the nonce kept (12 bytes of SHA-256)
	tagBytes = 16 // bytes of HMAC-SHA256 kept in the tag
	tagLen   = 22 // base64url characters of the tag
)

// MaxDataLen caps the hex length of a pointer's "d" field, accepted and
// made, so a hostile pointer cannot make a receiver allocate without bound.
const MaxDataLen = 1 << 20

// HMAC keys of extension v1's two derived keys (docs/PROTOCOL.md,
// "Extension v1: a keyed nonce and a tag"): K_nonce = HMAC(nonceKey,
// secret) and K_tag = HMAC(tagKey, secret).
const (
	nonceKey = "clm-nonce-v1"
	tagKey   = "clm-tag-v1"
)

// NewPointer makes an extension v1 pointer of m, sealed with secret at
// epoch (Unix seconds): its nonce is keyed with the secret, so the pointer
// gives no way to test guessed messages without the secret, and its tag
// lets receivers detect any change. A 2.0.2 client opens it like any other
// pointer. This is the default; use it for everything the bridge posts.
func NewPointer(secret []byte, m Message, epoch int64) (Pointer, error) {
	return seal(secret, m, epoch, true)
}

// NewLegacyPointer makes a plain 2.0.2 pointer: the unkeyed nonce and no
// tag. Anyone who can guess the chat and the sender can test guessed
// messages against its nonce offline, and receivers cannot tell who made
// it. Make one only when a member explicitly asks for the 2.0.2 form;
// prefer [NewPointer].
func NewLegacyPointer(secret []byte, m Message, epoch int64) (Pointer, error) {
	return seal(secret, m, epoch, false)
}

// seal is Making steps 1 to 6, with extension v1's keyed nonce and tag
// when v1 is set.
func seal(secret []byte, m Message, epoch int64, v1 bool) (Pointer, error) {
	if err := m.validate(); err != nil {
		return Pointer{}, err
	}
	var eb [20]byte
	e := strconv.AppendInt(eb[:0], epoch, 10)

	// Making step 1: signed = "#" chat "|¶|" username "|¶|" message.
	signed := make([]byte, 0, m.signedLen())
	signed = append(signed, '#')
	signed = append(signed, m.Chat...)
	signed = append(signed, Separator...)
	signed = append(signed, m.Username...)
	signed = append(signed, Separator...)
	signed = append(signed, m.Text...)

	// Making step 2, or extension v1's keyed nonce in its place.
	var nonce [nonceLen]byte
	if v1 {
		nonce = keyedNonce(secret, signed, epoch)
	} else {
		nonce = plainNonce(signed, epoch)
	}
	p := Pointer{Epoch: epoch, Nonce: string(nonce[:])}

	// Making steps 3 to 5: d = hex(signed XOR keystream).
	s := newStream(secret, e, p.Nonce)
	s.XORKeyStream(signed, signed)
	p.Data = hex.EncodeToString(signed)
	if v1 {
		t := tag(secret, epoch, p.Nonce, p.Data)
		p.Tag = string(t[:])
	}
	return p, nil
}

// plainNonce is 2.0.2's nonce (Making step 2): the URL-safe, unpadded
// base64 of SHA256(signed "_" epoch), first 16 characters (exactly 12
// bytes). Anyone can compute it from a guessed message, which is why the
// bridge makes it only on request and checks it on every untagged pointer.
func plainNonce(signed []byte, epoch int64) [nonceLen]byte {
	h := sha256.New()
	h.Write(signed)
	h.Write(underscoreEpoch(epoch))
	var sum [sha256.Size]byte
	return encodeNonce(h.Sum(sum[:0]))
}

// keyedNonce is extension v1's nonce: the same shape as 2.0.2's, but
// HMAC(K_nonce, signed "_" epoch) with K_nonce = HMAC("clm-nonce-v1",
// secret), so only holders of the secret can test a message against it.
// It is deterministic, so sealing the same message twice gives the same
// pointer.
func keyedNonce(secret, signed []byte, epoch int64) [nonceLen]byte {
	m := hmac.New(sha256.New, derivedKey(nonceKey, secret))
	m.Write(signed)
	m.Write(underscoreEpoch(epoch))
	return encodeNonce(m.Sum(nil))
}

// underscoreEpoch returns "_" and the decimal epoch, the end of the text
// both nonces hash.
func underscoreEpoch(epoch int64) []byte {
	return strconv.AppendInt([]byte{'_'}, epoch, 10)
}

// encodeNonce keeps the first 16 base64url characters of sum.
func encodeNonce(sum []byte) (n [nonceLen]byte) {
	base64.RawURLEncoding.Encode(n[:], sum[:nonceLen*6/8])
	return n
}

// derivedKey is HMAC-SHA256(key = label, msg = secret), extension v1's way
// to give the nonce and the tag keys of their own.
func derivedKey(label string, secret []byte) []byte {
	m := hmac.New(sha256.New, []byte(label))
	m.Write(secret)
	return m.Sum(nil)
}

func (m Message) validate() error {
	switch {
	case !utf8.ValidString(m.Chat) || !utf8.ValidString(m.Username) || !utf8.ValidString(m.Text):
		return fmt.Errorf("%w: text must be valid UTF-8", ErrInvalidMessage)
	case !endsCleanly(m.Chat):
		return fmt.Errorf("%w: the chat name must not contain %q or end with part of it", ErrInvalidMessage, Separator)
	case !endsCleanly(m.Username):
		return fmt.Errorf("%w: the username must not contain %q or end with part of it", ErrInvalidMessage, Separator)
	case 2*m.signedLen() > MaxDataLen:
		return fmt.Errorf("%w: too long: chat name, username and message together may hold at most %d bytes", ErrInvalidMessage, MaxDataLen/2-1-2*len(Separator))
	}
	return nil
}

// endsCleanly reports whether the first separator in s+Separator is the one
// appended, so that Opening step 4 (split at the first two separators)
// gives s back. "a|¶" holds no separator but "a|¶" + "|¶|" starts one early.
func endsCleanly(s string) bool {
	return strings.Index(s+Separator, Separator) == len(s)
}

// signedLen is the length of the signed text (Making step 1).
func (m Message) signedLen() int {
	return 1 + len(m.Chat) + len(Separator) + len(m.Username) + len(Separator) + len(m.Text)
}

// newStream starts the keystream of (secret, epoch, nonce). It allocates
// nothing: the digest stays on the stack and the short parts are joined in
// a stack buffer (a longer nonce, from a hostile pointer, merely allocates).
func newStream(secret, epoch []byte, nonce string) hmacdrbg.Stream {
	// Making step 3: seed = SHA256(secret "_" epoch "_" nonce).
	var buf [64]byte
	rest := append(buf[:0], '_')
	rest = append(rest, epoch...)
	rest = append(rest, '_')
	rest = append(rest, nonce...)
	h := sha256.New()
	h.Write(secret)
	h.Write(rest)
	var seed [sha256.Size]byte
	h.Sum(seed[:0])
	// Making step 4: the 2.0.2 HMAC-DRBG variant.
	s := hmacdrbg.NewStream(&seed)
	clear(seed[:])
	return s
}

// tag is extension v1's tag: base64url_nopad(first 16 bytes of
// HMAC(K_tag, epoch "_" nonce "_" data)), K_tag = HMAC("clm-tag-v1", secret),
// data being the hex exactly as in the pointer.
func tag(secret []byte, epoch int64, nonce, data string) [tagLen]byte {
	m := hmac.New(sha256.New, derivedKey(tagKey, secret))
	m.Write(strconv.AppendInt(nil, epoch, 10))
	m.Write([]byte{'_'})
	m.Write([]byte(nonce))
	m.Write([]byte{'_'})
	m.Write([]byte(data))
	var t [tagLen]byte
	base64.RawURLEncoding.Encode(t[:], m.Sum(nil)[:tagBytes])
	return t
}

// Open decrypts p with secret. It returns [ErrWrongSecret] when the secret
// does not open p, and [ErrTampered] when p opens but was changed after it
// was made: its tag does not verify or, untagged, its nonce is not the
// 2.0.2 nonce of its text. A tampered pointer's text is never returned.
// An untagged pointer that passes opens with Authenticated false: a
// genuine 2.0.2 pointer, whose text anyone who guesses it could have made.
//
// Open is the bridge's hot path (every pointer seen is tried against every
// unlocked secret), so a wrong secret is rejected after the first byte with
// no allocation. For the same reason Open checks the hex of Data only as it
// decrypts it: a pointer from [ParsePointer] or [Extract] is fully checked,
// but a hand-built one with bad hex past its first byte may be reported as
// [ErrWrongSecret] rather than [ErrMalformed].
func (p Pointer) Open(secret []byte) (Opened, error) {
	// Opening step 1, the parts a hand-built Pointer may break.
	if len(p.Data)%2 != 0 || len(p.Data) > MaxDataLen {
		return Opened{}, ErrMalformed
	}
	if len(p.Data) == 0 {
		return Opened{}, ErrWrongSecret // nothing to start with '#'
	}
	first, ok := hexByte(p.Data[0], p.Data[1])
	if !ok {
		return Opened{}, ErrMalformed
	}

	// Opening step 2: rebuild the keystream and XOR, first byte only.
	var eb [20]byte
	e := strconv.AppendInt(eb[:0], p.Epoch, 10)
	s := newStream(secret, e, p.Nonce)
	b := [1]byte{first}
	s.XORKeyStream(b[:], b[:])
	// Opening step 3, first condition: the text starts with '#'. A wrong
	// secret fails here 255 times in 256, having cost 17 compressions.
	if b[0] != '#' {
		return Opened{}, ErrWrongSecret
	}

	// Decrypt the rest (step 2) and check the format (step 3).
	ct, err := hex.DecodeString(p.Data)
	if err != nil {
		return Opened{}, ErrMalformed
	}
	ct[0] = b[0]
	s.XORKeyStream(ct[1:], ct[1:])
	if !utf8.Valid(ct) {
		return Opened{}, ErrWrongSecret
	}
	// Step 4: split at the first two separators only; the message keeps any
	// further ones.
	chat, rest, ok := strings.Cut(string(ct[1:]), Separator)
	if !ok {
		return Opened{}, ErrWrongSecret
	}
	user, text, ok := strings.Cut(rest, Separator)
	if !ok {
		return Opened{}, ErrWrongSecret
	}

	// Opening step 5, extension v1's checks, after the format check so that
	// a wrong secret costs nothing more (docs/PROTOCOL.md, "Opening").
	o := Opened{Message: Message{Chat: chat, Username: user, Text: text}}
	if p.Tag != "" {
		// Tagged: the tag alone decides. The nonce is not checked, so
		// pointers of the first extension (2.0.2 nonce and a tag) still open.
		want := tag(secret, p.Epoch, p.Nonce, p.Data)
		if subtle.ConstantTimeCompare(want[:], []byte(p.Tag)) != 1 {
			return Opened{}, ErrTampered
		}
		o.Authenticated = true
		return o, nil
	}
	// Untagged: a genuine 2.0.2 pointer carries the 2.0.2 nonce of its own
	// text. Any other nonce means the text was changed on the way (flipped
	// bits of d) or a keyed-nonce pointer lost its tag (a downgrade).
	want := plainNonce(ct, p.Epoch)
	if subtle.ConstantTimeCompare(want[:], []byte(p.Nonce)) != 1 {
		return Opened{}, ErrTampered
	}
	return o, nil
}

// hexByte decodes two hex digits (either case).
func hexByte(hi, lo byte) (byte, bool) {
	a, ok1 := fromHex(hi)
	b, ok2 := fromHex(lo)
	return a<<4 | b, ok1 && ok2
}

func fromHex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}
