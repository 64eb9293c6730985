package storage

import (
	"context"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/chacha20poly1305"
)

// Key derivation and sealing, in one place.
//
// Per chat: master = Argon2id(secret, salt (16 random bytes), params), 32
// bytes. From it, with HKDF-Expand-SHA256 (RFC 5869 §2.3; the Argon2id
// output is already uniformly random, so it serves as the PRK):
//
//	verifier = Expand(master, "clmbridge/storage/v1 verifier", 32)  stored
//	data key = Expand(master, "clmbridge/storage/v1 message key", 32) never stored
//
// Knowing the verifier reveals nothing about the data key (independent HKDF
// outputs), and it is compared in constant time.
//
// Per message: sealed = nonce (24 random bytes) || XChaCha20-Poly1305(data
// key, nonce, payload, ad), where payload = 0x01 || uvarint(len username)
// || username || uvarint(len pointer) || pointer || uvarint(len clm nonce)
// || clm nonce || text, and ad (see appendAD) binds the member id, chat id,
// the message's number in its chat, pointer hash and every clear column a
// reader relies on (direction, epoch, authenticated flag and source). A random 192-bit
// nonce makes collisions negligible however many messages a key seals.
//
// The pointer is sealed, not stored in clear: with the chat name, a CLM
// pointer is a fast test of guessed secrets (its HMAC tag, or the known
// "chat|¶|" start of its plaintext), which would bypass Argon2id for anyone
// holding the database file. The CLM nonce is sealed too: it is a hash of
// "#chat|¶|username|¶|text_epoch", so in clear it would confirm guesses of
// short messages. Only the epoch, direction, authenticated flag, source
// and times stay in clear, as metadata; all but the times are bound into
// the seal.

// Argon2Params are the Argon2id cost parameters of one chat's verifier.
type Argon2Params struct {
	MemoryKiB uint32
	Time      uint32
	Threads   uint8
}

// DefaultArgon2Params returns the cost used when Options.Argon2 is zero:
// 64 MiB, 3 passes, 1 lane. That is the memory and time of RFC 9106 §4's
// second recommended option and 3.4 times OWASP's minimum memory (19 MiB,
// t=2, p=1); one lane, because a lane buys the defender parallelism, not
// attacker cost, and the bridge runs on small hosts. It costs about 0.2 s
// and 64 MiB per unlock on a 2-core EPYC; unlocks are rare (the bridge keeps
// sessions), and MaxConcurrentKDF bounds the memory of a burst.
func DefaultArgon2Params() Argon2Params {
	return Argon2Params{MemoryKiB: 64 * 1024, Time: 3, Threads: 1}
}

// Limits on Argon2id parameters, for Options and for values read back
// from the database (a damaged row must not make us allocate terabytes).
const (
	maxArgon2MemoryKiB = 4 * 1024 * 1024 // 4 GiB
	maxArgon2Time      = 64
)

func (p Argon2Params) validate() error {
	switch {
	case p.Threads < 1:
		return errors.New("field Threads must be at least 1")
	case p.Time < 1 || p.Time > maxArgon2Time:
		return fmt.Errorf("field Time must be 1..%d", maxArgon2Time)
	case p.MemoryKiB < 8*uint32(p.Threads):
		return errors.New("field MemoryKiB must be at least 8 × Threads")
	case p.MemoryKiB > maxArgon2MemoryKiB:
		return fmt.Errorf("field MemoryKiB must be at most %d", maxArgon2MemoryKiB)
	}
	return nil
}

// String shows the cost, for logs and benchmark reports.
func (p Argon2Params) String() string {
	return fmt.Sprintf("argon2id(m=%dKiB,t=%d,p=%d)", p.MemoryKiB, p.Time, p.Threads)
}

const (
	saltLen     = 16
	keyLen      = chacha20poly1305.KeySize
	verifierLen = 32
	sealNonce   = chacha20poly1305.NonceSizeX
	maxSecret   = 1024 // bytes
	infoVerify  = "clmbridge/storage/v1 verifier"
	infoDataKey = "clmbridge/storage/v1 message key"
	payloadV1   = 1
)

// The associated-data layouts (see appendAD), versioned on their own and
// recorded per row (messages.ad_version): rows sealed before per-chat
// numbers use ad2 until a rekey re-seals them with adCurrent.
const (
	adV2      = 2
	adV3      = 3
	adCurrent = adV3
	adPrefix2 = "clmbridge/storage/ad2 message\x00"
	adPrefix3 = "clmbridge/storage/ad3 message\x00"
)

// derive runs Argon2id under the store's concurrency cap and returns the
// verifier and the data key. Waiting for a slot honours ctx; a run, once
// started, completes.
func (s *Store) derive(ctx context.Context, secret, salt []byte, p Argon2Params) (verifier, key [32]byte, err error) {
	select {
	case s.kdf <- struct{}{}:
	case <-ctx.Done():
		return verifier, key, fmt.Errorf("storage: waiting to derive a key: %w", ctx.Err())
	}
	master := argon2.IDKey(secret, salt, p.Time, p.MemoryKiB, p.Threads, 32)
	<-s.kdf
	defer clear(master)
	v, err := hkdf.Expand(sha256.New, master, infoVerify, verifierLen)
	if err != nil {
		return verifier, key, fmt.Errorf("storage: deriving verifier: %w", err)
	}
	k, err := hkdf.Expand(sha256.New, master, infoDataKey, keyLen)
	if err != nil {
		return verifier, key, fmt.Errorf("storage: deriving key: %w", err)
	}
	copy(verifier[:], v)
	copy(key[:], k)
	clear(v)
	clear(k)
	return verifier, key, nil
}

func newSalt() ([]byte, error) {
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return nil, fmt.Errorf("storage: reading randomness: %w", err)
	}
	return salt, nil
}

func checkSecret(secret []byte) error {
	switch {
	case len(secret) == 0:
		return fmt.Errorf("%w: the chat secret is empty", ErrInvalid)
	case len(secret) > maxSecret:
		return fmt.Errorf("%w: the chat secret is longer than %d bytes", ErrInvalid, maxSecret)
	}
	return nil
}

// ChatKey is an unlocked chat: its identity and the key derived from its
// secret. It prints as redacted; Wipe overwrites the key. It never holds
// the secret itself. It is safe for concurrent use; Wipe may race with
// calls using the key, and those that already started sealing or opening
// finish with the key they took.
type ChatKey struct {
	memberID int64
	chatID   int64
	name     string
	salt     []byte // the chat's current salt: identifies the key generation
	km       *keyMaterial
}

// keyMaterial lives behind a pointer so that printing a ChatKey by value
// (%v, %+v, %#v of the struct) shows an address, never key bytes.
type keyMaterial struct {
	mu    sync.RWMutex
	key   [keyLen]byte
	wiped bool
}

func (*keyMaterial) String() string   { return "REDACTED" }
func (*keyMaterial) GoString() string { return "REDACTED" }

func newChatKey(memberID, chatID int64, name string, salt []byte, key *[keyLen]byte) *ChatKey {
	k := &ChatKey{memberID: memberID, chatID: chatID, name: name, salt: salt, km: &keyMaterial{}}
	k.km.key = *key
	clear(key[:])
	return k
}

// ChatID returns the chat's row id.
func (k *ChatKey) ChatID() int64 { return k.chatID }

// MemberID returns the owning member's id.
func (k *ChatKey) MemberID() int64 { return k.memberID }

// Name returns the chat's name.
func (k *ChatKey) Name() string { return k.name }

// Wipe overwrites the key material; the ChatKey is unusable afterwards
// (ErrLocked). Wiping twice is harmless. Copies the AEAD implementation
// makes for the duration of one call are not reachable to wipe; they die
// with the call.
func (k *ChatKey) Wipe() {
	if k == nil || k.km == nil {
		return
	}
	k.km.mu.Lock()
	clear(k.km.key[:])
	k.km.wiped = true
	k.km.mu.Unlock()
}

// String returns a redacted description: ids only.
func (k ChatKey) String() string {
	return fmt.Sprintf("storage.ChatKey{chat:%d member:%d key:REDACTED}", k.chatID, k.memberID)
}

// GoString is String, so %#v is redacted too.
func (k ChatKey) GoString() string { return k.String() }

// LogValue logs the ids only.
func (k ChatKey) LogValue() slog.Value {
	return slog.GroupValue(
		slog.Int64("chat_id", k.chatID),
		slog.Int64("member_id", k.memberID),
		slog.String("key", "REDACTED"),
	)
}

// aead returns an XChaCha20-Poly1305 under the chat's data key.
func (k *ChatKey) aead() (cipher.AEAD, error) {
	if k == nil || k.km == nil {
		return nil, fmt.Errorf("%w: no chat key: unlock the chat first", ErrInvalid)
	}
	k.km.mu.RLock()
	defer k.km.mu.RUnlock()
	if k.km.wiped {
		return nil, fmt.Errorf("%w: this chat was locked; unlock it again", ErrLocked)
	}
	a, err := chacha20poly1305.NewX(k.km.key[:])
	if err != nil {
		return nil, fmt.Errorf("storage: making cipher: %w", err)
	}
	return a, nil
}

// pointerHash is the idempotency key of a pointer text. It is a hash of
// public data, so it tells a database reader nothing a channel reader does
// not already know.
func pointerHash(pointer string) [32]byte {
	h := sha256.New()
	h.Write([]byte("clmbridge/storage/v1 pointer\x00"))
	h.Write([]byte(pointer))
	var out [32]byte
	h.Sum(out[:0])
	return out
}

// adFields are the clear columns of a message row that are bound into its
// seal, so that moving a row to another chat or member, swapping sealed
// blobs or numbers between rows, or editing a clear column (say, marking a
// legacy message authenticated, or changing where it was seen) makes the
// row fail to open: listings then mark it Damaged.
type adFields struct {
	version       int64 // adV2 or adV3: the row's ad_version
	memberID      int64
	chatID        int64
	num           int64  // the message's number in its chat (ad3 only)
	pointerHash   []byte // 32 bytes
	direction     Direction
	epoch         int64
	authenticated bool
	// The Source columns: src_platform, src_channel, src_message_id.
	srcPlatform, srcChannel, srcMessageID []byte
}

// appendAD appends the associated data of layout f.version:
//
//	ad3: "clmbridge/storage/ad3 message\0" || be64 member id || be64 chat id ||
//	     be64 number in the chat || rest
//	ad2: "clmbridge/storage/ad2 message\0" || be64 member id || be64 chat id ||
//	     rest
//	rest = pointer hash (32) || direction (1 sent, 2 received) || be64 epoch ||
//	     authenticated (0 or 1) ||
//	     be32 len || source platform || be32 len || source channel ||
//	     be32 len || source message id
//
// Every field has a fixed length or a fixed-width length prefix, so
// distinct rows never produce the same bytes, and the two layouts differ
// in their prefix, so a row's ad_version cannot be edited either. (Layout
// "ad2" added the source; "v1", without it, was never deployed. "ad3"
// added the number: under ad2, two rows of a chat could trade numbers,
// and so places in the history, unnoticed.) An unknown version yields
// bytes no seal was made with, so such a row fails to open.
func appendAD(b []byte, f adFields) []byte {
	switch f.version {
	case adV3:
		b = append(b, adPrefix3...)
		b = binary.BigEndian.AppendUint64(b, uint64(f.memberID))
		b = binary.BigEndian.AppendUint64(b, uint64(f.chatID))
		b = binary.BigEndian.AppendUint64(b, uint64(f.num))
	case adV2:
		b = append(b, adPrefix2...)
		b = binary.BigEndian.AppendUint64(b, uint64(f.memberID))
		b = binary.BigEndian.AppendUint64(b, uint64(f.chatID))
	default:
		return append(b, "clmbridge/storage/unknown ad version\x00"...)
	}
	b = append(b, f.pointerHash...)
	switch f.direction {
	case Sent:
		b = append(b, 1)
	case Received:
		b = append(b, 2)
	default:
		b = append(b, 0)
	}
	b = binary.BigEndian.AppendUint64(b, uint64(f.epoch))
	if f.authenticated {
		b = append(b, 1)
	} else {
		b = append(b, 0)
	}
	for _, field := range [...][]byte{f.srcPlatform, f.srcChannel, f.srcMessageID} {
		b = binary.BigEndian.AppendUint32(b, uint32(len(field)))
		b = append(b, field...)
	}
	return b
}

// appendPayload appends the plaintext to be sealed.
func appendPayload(b []byte, username, pointer, nonce, text string) []byte {
	b = append(b, payloadV1)
	for _, f := range [...]string{username, pointer, nonce} {
		b = binary.AppendUvarint(b, uint64(len(f)))
		b = append(b, f...)
	}
	return append(b, text...)
}

var errPayload = errors.New("malformed payload")

// payload is an opened payload's parts, aliasing the opened bytes.
type payload struct {
	username, pointer, nonce, text []byte
}

// parsePayload splits an opened payload into its parts, which alias p.
func parsePayload(p []byte) (payload, error) {
	if len(p) < 1 || p[0] != payloadV1 {
		return payload{}, errPayload
	}
	p = p[1:]
	field := func() ([]byte, bool) {
		n, w := binary.Uvarint(p)
		if w <= 0 || n > uint64(len(p)-w) {
			return nil, false
		}
		f := p[w : w+int(n)]
		p = p[w+int(n):]
		return f, true
	}
	var pl payload
	var ok [3]bool
	pl.username, ok[0] = field()
	pl.pointer, ok[1] = field()
	pl.nonce, ok[2] = field()
	if ok != [3]bool{true, true, true} {
		return payload{}, errPayload
	}
	pl.text = p
	return pl, nil
}

// seal seals a payload with a fresh random nonce: nonce || ciphertext.
func seal(a cipher.AEAD, payload, ad []byte) ([]byte, error) {
	out := make([]byte, sealNonce, sealNonce+len(payload)+a.Overhead())
	if _, err := rand.Read(out); err != nil {
		return nil, fmt.Errorf("storage: reading randomness: %w", err)
	}
	return a.Seal(out, out[:sealNonce], payload, ad), nil
}

// open opens a sealed blob, appending the payload to dst.
func open(a cipher.AEAD, dst, sealed, ad []byte) ([]byte, error) {
	if len(sealed) < sealNonce+a.Overhead() {
		return nil, errPayload
	}
	return a.Open(dst, sealed[:sealNonce], sealed[sealNonce:], ad)
}
