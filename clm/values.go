package clm

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
)

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
