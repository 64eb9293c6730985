package clm

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

const (
	nonceLen = 16 // characters of the nonce kept (12 bytes of SHA-256)
	tagBytes = 16 // bytes of HMAC-SHA256 kept in the tag
	tagLen   = 22 // base64url characters of the tag

	// MaxDataLen caps the hex length accepted in a pointer's "d" field, so a
	// hostile pointer cannot make a receiver allocate without bound.
	MaxDataLen = 1 << 20
)

// NewPointer makes a tagged pointer (the default: receivers can detect
// tampering) for m, sealed with secret at epoch (Unix seconds).
func NewPointer(secret []byte, m Message, epoch int64) (Pointer, error) {
	p, err := NewLegacyPointer(secret, m, epoch)
	if err != nil {
		return Pointer{}, err
	}
	p.Tag = tag(secret, p.Epoch, p.Nonce, p.Data)
	return p, nil
}

// NewLegacyPointer makes a plain 2.0.2 pointer with no tag, for clients that
// predate the tag extension. Prefer [NewPointer].
func NewLegacyPointer(secret []byte, m Message, epoch int64) (Pointer, error) {
	if err := m.validate(); err != nil {
		return Pointer{}, err
	}
	signed := signedText(m)
	e := strconv.FormatInt(epoch, 10)
	// Sending step 2: the nonce is the URL-safe, unpadded base64 of
	// SHA256(signed "_" epoch), first 16 characters (exactly 12 bytes).
	sum := sha256.Sum256([]byte(signed + "_" + e))
	nonce := base64.RawURLEncoding.EncodeToString(sum[:12])
	ks := keystream(secret, e, nonce, len(signed))
	for i := range ks {
		ks[i] ^= signed[i]
	}
	return Pointer{Epoch: epoch, Nonce: nonce, Data: hex.EncodeToString(ks)}, nil
}

func (m Message) validate() error {
	switch {
	case !utf8.ValidString(m.Chat) || !utf8.ValidString(m.Username) || !utf8.ValidString(m.Text):
		return fmt.Errorf("%w: text must be valid UTF-8", ErrInvalidMessage)
	case !endsCleanly(m.Chat):
		return fmt.Errorf("%w: the chat name must not contain %q or end with part of it", ErrInvalidMessage, Separator)
	case !endsCleanly(m.Username):
		return fmt.Errorf("%w: the username must not contain %q or end with part of it", ErrInvalidMessage, Separator)
	}
	return nil
}

// endsCleanly reports whether the first separator in s+Separator is the one
// appended, so that Receiving step 4 (split at the first two separators)
// gives s back. "a|¶" holds no separator but "a|¶" + "|¶|" starts one early.
func endsCleanly(s string) bool {
	return strings.Index(s+Separator, Separator) == len(s)
}

func signedText(m Message) string {
	return "#" + m.Chat + Separator + m.Username + Separator + m.Text
}

// keystream returns n bytes of the 2.0.2 HMAC-DRBG variant keystream.
func keystream(secret []byte, epoch, nonce string, n int) []byte {
	h := sha256.New()
	h.Write(secret)
	h.Write([]byte("_" + epoch + "_" + nonce))
	seed := h.Sum(nil)

	k := make([]byte, 32)
	v := bytes.Repeat([]byte{1}, 32)
	mac := func(key []byte, parts ...[]byte) []byte {
		m := hmac.New(sha256.New, key)
		for _, p := range parts {
			m.Write(p)
		}
		return m.Sum(nil)
	}
	k = mac(k, v, []byte{0}, seed)
	v = mac(k, v)
	k = mac(k, v, []byte{1}, seed)
	v = mac(k, v)
	out := make([]byte, 0, n+32)
	for len(out) < n {
		v = mac(k, v)
		out = append(out, v...)
	}
	return out[:n]
}

func tag(secret []byte, epoch int64, nonce, data string) string {
	kt := hmac.New(sha256.New, []byte("clm-tag-v1"))
	kt.Write(secret)
	m := hmac.New(sha256.New, kt.Sum(nil))
	m.Write([]byte(strconv.FormatInt(epoch, 10) + "_" + nonce + "_" + data))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:tagBytes])
}

// Open decrypts p with secret. It returns [ErrWrongSecret] when the secret
// does not open p and [ErrTampered] when p opens but its tag does not verify.
func (p Pointer) Open(secret []byte) (Opened, error) {
	if len(p.Data) > MaxDataLen {
		return Opened{}, ErrMalformed
	}
	ct, err := hex.DecodeString(p.Data)
	if err != nil {
		return Opened{}, ErrMalformed
	}
	ks := keystream(secret, strconv.FormatInt(p.Epoch, 10), p.Nonce, len(ct))
	for i := range ct {
		ct[i] ^= ks[i]
	}
	if !utf8.Valid(ct) || len(ct) == 0 || ct[0] != '#' {
		return Opened{}, ErrWrongSecret
	}
	chat, rest, ok := strings.Cut(string(ct[1:]), Separator)
	if !ok {
		return Opened{}, ErrWrongSecret
	}
	user, text, ok := strings.Cut(rest, Separator)
	if !ok {
		return Opened{}, ErrWrongSecret
	}
	o := Opened{Message: Message{Chat: chat, Username: user, Text: text}}
	if p.Tag != "" {
		want := tag(secret, p.Epoch, p.Nonce, p.Data)
		if subtle.ConstantTimeCompare([]byte(want), []byte(p.Tag)) != 1 {
			return Opened{}, ErrTampered
		}
		o.Authenticated = true
	}
	return o, nil
}

// String prints p exactly as the 2.0.2 client does (Python's json.dumps
// spacing): {"e": 1, "n": "…", "d": "…"}, with ", "t": "…"" when tagged.
func (p Pointer) String() string {
	var b strings.Builder
	b.WriteString(`{"e": `)
	b.WriteString(strconv.FormatInt(p.Epoch, 10))
	b.WriteString(`, "n": `)
	writePyString(&b, p.Nonce)
	b.WriteString(`, "d": `)
	writePyString(&b, p.Data)
	if p.Tag != "" {
		b.WriteString(`, "t": `)
		writePyString(&b, p.Tag)
	}
	b.WriteByte('}')
	return b.String()
}

// writePyString writes s as Python's json.dumps would (ensure_ascii=True).
func writePyString(b *strings.Builder, s string) {
	const hexdigits = "0123456789abcdef"
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\b':
			b.WriteString(`\b`)
		case r == '\f':
			b.WriteString(`\f`)
		case r < 0x20 || r > 0x7e:
			if r > 0xffff {
				r -= 0x10000
				for _, u := range [2]rune{0xd800 + r>>10, 0xdc00 + r&0x3ff} {
					b.WriteString(`\u`)
					b.WriteByte(hexdigits[u>>12&0xf])
					b.WriteByte(hexdigits[u>>8&0xf])
					b.WriteByte(hexdigits[u>>4&0xf])
					b.WriteByte(hexdigits[u&0xf])
				}
				continue
			}
			b.WriteString(`\u`)
			b.WriteByte(hexdigits[r>>12&0xf])
			b.WriteByte(hexdigits[r>>8&0xf])
			b.WriteByte(hexdigits[r>>4&0xf])
			b.WriteByte(hexdigits[r&0xf])
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
}

// ParsePointer parses one pointer from its JSON text. "e" may be an integer
// or a string of decimal digits; unknown keys are ignored. Any other shape
// is [ErrMalformed].
func ParsePointer(text string) (Pointer, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal([]byte(text), &raw); err != nil {
		return Pointer{}, ErrMalformed
	}
	return fromFields(raw)
}

func fromFields(raw map[string]json.RawMessage) (Pointer, error) {
	re, okE := raw["e"]
	rn, okN := raw["n"]
	rd, okD := raw["d"]
	if !okE || !okN || !okD {
		return Pointer{}, ErrMalformed
	}
	var p Pointer
	var err error
	if p.Epoch, err = parseEpoch(re); err != nil {
		return Pointer{}, err
	}
	if json.Unmarshal(rn, &p.Nonce) != nil || json.Unmarshal(rd, &p.Data) != nil {
		return Pointer{}, ErrMalformed
	}
	if rt, ok := raw["t"]; ok {
		if json.Unmarshal(rt, &p.Tag) != nil {
			return Pointer{}, ErrMalformed
		}
	}
	if len(p.Data)%2 != 0 || len(p.Data) > MaxDataLen {
		return Pointer{}, ErrMalformed
	}
	for i := 0; i < len(p.Data); i++ {
		c := p.Data[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return Pointer{}, ErrMalformed
		}
	}
	return p, nil
}

func parseEpoch(raw json.RawMessage) (int64, error) {
	s := string(bytes.TrimSpace(raw))
	if strings.HasPrefix(s, `"`) {
		if err := json.Unmarshal(raw, &s); err != nil || s == "" {
			return 0, ErrMalformed
		}
		for i := 0; i < len(s); i++ {
			if s[i] < '0' || s[i] > '9' {
				return 0, ErrMalformed
			}
		}
	}
	e, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, ErrMalformed
	}
	return e, nil
}

// PublicKey returns the 2.0.2 profile public key for username and master
// secret: base64(HMAC-SHA256("clm-auth-key", username ":" master)).
func PublicKey(username string, master []byte) string {
	m := hmac.New(sha256.New, []byte("clm-auth-key"))
	m.Write([]byte(username + ":"))
	m.Write(master)
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// ChatHash returns the unsalted 2.0.2 chat-secret check value,
// hex(SHA256(chat ":" secret)). It is fast to brute-force: use it only for
// import/export compatibility, never as a stored verifier.
func ChatHash(chat string, secret []byte) string {
	h := sha256.New()
	h.Write([]byte(chat + ":"))
	h.Write(secret)
	return hex.EncodeToString(h.Sum(nil))
}

// MaxMessageBytes returns how many UTF-8 bytes of message text fit in a
// pointer of at most limitChars characters for the given chat and username
// (a 10-digit epoch assumed), with or without the tag. It returns 0 when not
// even an empty message fits.
func MaxMessageBytes(limitChars int, chat, username string, tagged bool) int {
	overhead := len(`{"e": 1234567890, "n": "`) + nonceLen + len(`", "d": "`) + len(`"}`)
	if tagged {
		overhead += len(`, "t": "`) + tagLen + len(`"`)
	}
	prefix := len("#" + chat + Separator + username + Separator)
	n := (limitChars-overhead)/2 - prefix
	return max(n, 0)
}

// GenerateSecret returns a fresh random chat secret of 150 bits, written as
// six dash-separated groups of five lowercase letters and digits (no 0, 1, l
// or o, which are easy to confuse), easy to read aloud and type.
func GenerateSecret() (string, error) {
	const alphabet = "abcdefghijkmnpqrstuvwxyz23456789" // 32 symbols, 5 bits each
	var buf [30]byte
	if _, err := rand.Read(buf[:]); err != nil {
		return "", fmt.Errorf("clm: reading randomness: %w", err)
	}
	var b strings.Builder
	for i, c := range buf {
		if i > 0 && i%5 == 0 {
			b.WriteByte('-')
		}
		b.WriteByte(alphabet[c&31])
	}
	return b.String(), nil
}
