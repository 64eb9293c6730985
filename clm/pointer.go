package clm

import (
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/clmbridge/clmbridge/clm/internal/hmacdrbg"
)

const (
	nonceLen = 16 // characters of the nonce kept (12 bytes of SHA-256)
	tagBytes = 16 // bytes of HMAC-SHA256 kept in the tag
	tagLen   = 22 // base64url characters of the tag
)

// MaxDataLen caps the hex length of a pointer's "d" field, accepted and
// made, so a hostile pointer cannot make a receiver allocate without bound.
const MaxDataLen = 1 << 20

// tagKey is the HMAC key of the tag extension's K_tag.
const tagKey = "clm-tag-v1"

// NewPointer makes a tagged pointer (the default: receivers can detect
// tampering) for m, sealed with secret at epoch (Unix seconds).
func NewPointer(secret []byte, m Message, epoch int64) (Pointer, error) {
	p, err := NewLegacyPointer(secret, m, epoch)
	if err != nil {
		return Pointer{}, err
	}
	var eb [20]byte
	t := tag(secret, strconv.AppendInt(eb[:0], epoch, 10), p.Nonce, p.Data)
	p.Tag = string(t[:])
	return p, nil
}

// NewLegacyPointer makes a plain 2.0.2 pointer with no tag, for clients that
// predate the tag extension. Prefer [NewPointer].
func NewLegacyPointer(secret []byte, m Message, epoch int64) (Pointer, error) {
	if err := m.validate(); err != nil {
		return Pointer{}, err
	}
	var eb [20]byte
	e := strconv.AppendInt(eb[:0], epoch, 10)

	// Sending step 1: signed = "#" chat "|¶|" username "|¶|" message.
	signed := make([]byte, 0, m.signedLen())
	signed = append(signed, '#')
	signed = append(signed, m.Chat...)
	signed = append(signed, Separator...)
	signed = append(signed, m.Username...)
	signed = append(signed, Separator...)
	signed = append(signed, m.Text...)

	// Sending step 2: nonce = the URL-safe, unpadded base64 of
	// SHA256(signed "_" epoch), first 16 characters (exactly 12 bytes).
	h := hmacdrbg.NewDigest()
	h.Write(signed)
	h.WriteString("_")
	h.Write(e)
	sum := h.Sum()
	var nb [nonceLen]byte
	base64.RawURLEncoding.Encode(nb[:], sum[:nonceLen*6/8])
	nonce := string(nb[:])

	// Sending steps 3 to 5: d = hex(signed XOR keystream).
	s := newStream(secret, e, nonce)
	s.XORKeyStream(signed, signed)
	return Pointer{Epoch: epoch, Nonce: nonce, Data: hex.EncodeToString(signed)}, nil
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
// appended, so that Receiving step 4 (split at the first two separators)
// gives s back. "a|¶" holds no separator but "a|¶" + "|¶|" starts one early.
func endsCleanly(s string) bool {
	return strings.Index(s+Separator, Separator) == len(s)
}

// signedLen is the length of the signed text (Sending step 1).
func (m Message) signedLen() int {
	return 1 + len(m.Chat) + len(Separator) + len(m.Username) + len(Separator) + len(m.Text)
}

// signedText is Sending step 1, for tests.
func signedText(m Message) string {
	return "#" + m.Chat + Separator + m.Username + Separator + m.Text
}

// newStream starts the keystream of (secret, epoch, nonce).
func newStream(secret, epoch []byte, nonce string) hmacdrbg.Stream {
	// Sending step 3: seed = SHA256(secret "_" epoch "_" nonce).
	h := hmacdrbg.NewDigest()
	h.Write(secret)
	h.WriteString("_")
	h.Write(epoch)
	h.WriteString("_")
	h.WriteString(nonce)
	seed := h.Sum()
	// Sending step 4: the 2.0.2 HMAC-DRBG variant.
	return hmacdrbg.NewStream(&seed)
}

// keystream returns n bytes of the 2.0.2 keystream, for tests.
func keystream(secret []byte, epoch, nonce string, n int) []byte {
	out := make([]byte, n)
	s := newStream(secret, []byte(epoch), nonce)
	s.XORKeyStream(out, out)
	return out
}

// tag is the tag extension: base64url_nopad(first 16 bytes of
// HMAC(K_tag, epoch "_" nonce "_" data)), K_tag = HMAC("clm-tag-v1", secret).
func tag(secret, epoch []byte, nonce, data string) [tagLen]byte {
	kt := hmacdrbg.NewKey([]byte(tagKey))
	in := kt.Inner()
	in.Write(secret)
	ktag := kt.Finish(&in)

	k := hmacdrbg.NewKey(ktag[:])
	in = k.Inner()
	in.Write(epoch)
	in.WriteString("_")
	in.WriteString(nonce)
	in.WriteString("_")
	in.WriteString(data)
	sum := k.Finish(&in)
	var t [tagLen]byte
	base64.RawURLEncoding.Encode(t[:], sum[:tagBytes])
	return t
}

// Open decrypts p with secret. It returns [ErrWrongSecret] when the secret
// does not open p and [ErrTampered] when p opens but its tag does not verify.
//
// Open is the bridge's hot path (every pointer seen is tried against every
// unlocked secret), so a wrong secret is rejected after the first byte with
// no allocation. For the same reason Open checks the hex of Data only as it
// decrypts it: a pointer from [ParsePointer] or [Extract] is fully checked,
// but a hand-built one with bad hex past its first byte may be reported as
// [ErrWrongSecret] rather than [ErrMalformed].
func (p Pointer) Open(secret []byte) (Opened, error) {
	// Receiving step 1, the parts a hand-built Pointer may break.
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

	// Receiving step 2: rebuild the keystream and XOR, first byte only.
	var eb [20]byte
	e := strconv.AppendInt(eb[:0], p.Epoch, 10)
	s := newStream(secret, e, p.Nonce)
	b := [1]byte{first}
	s.XORKeyStream(b[:], b[:])
	// Receiving step 3, first condition: the text starts with '#'. A wrong
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

	// Tag extension: verify after the format check; a legacy pointer (no
	// tag) opens unauthenticated.
	o := Opened{Message: Message{Chat: chat, Username: user, Text: text}}
	if p.Tag != "" {
		want := tag(secret, e, p.Nonce, p.Data)
		if subtle.ConstantTimeCompare(want[:], []byte(p.Tag)) != 1 {
			return Opened{}, ErrTampered
		}
		o.Authenticated = true
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
