// Package clm implements the Chrono-Library Messenger wire protocol (2.0.2)
// and the bridge's backward-compatible extension v1 (a nonce keyed with the
// secret, and a tag), as docs/PROTOCOL.md describes them.
//
// It turns a message into a public pointer ({"e": epoch, "n": nonce, "d": hex,
// "t": tag}) that only holders of the chat secret can open, and back. A
// pointer still shows its epoch and the length of its message. It is pure: no I/O,
// no logging, no package-level mutable state. Secrets are taken as byte slices
// for the duration of a call and never kept, and no error ever contains one.
//
// [Pointer.Open] is fast enough to try every pointer seen against every
// unlocked secret: a wrong secret is rejected after the first byte, without
// allocating.
//
// It is not a store, a session cache or a transport: see the storage and
// bridge packages for those.
package clm

import (
	"errors"
)

// Sentinel errors returned by [ParsePointer], [Pointer.Open], [NewPointer]
// and [NewLegacyPointer]. Check them with errors.Is.
var (
	// ErrMalformed means the text is not a well-formed CLM pointer.
	ErrMalformed = errors.New("clm: malformed pointer")
	// ErrWrongSecret means the secret does not open this pointer. CLM cannot
	// tell a wrong secret from a damaged legacy pointer.
	ErrWrongSecret = errors.New("clm: wrong secret for this pointer")
	// ErrTampered means the pointer opened but was changed after it was
	// made: its tag does not verify, or it has no tag and its nonce is not
	// the 2.0.2 nonce of its text (flipped bits, or a removed tag).
	ErrTampered = errors.New("clm: pointer was tampered with")
	// ErrInvalidMessage means a message cannot be made into a pointer (for
	// example, the chat name or username contains the separator).
	ErrInvalidMessage = errors.New("clm: invalid message")
)

// Separator joins chat, username and message in the signed text.
const Separator = "|¶|"

// Message is the content a pointer carries.
type Message struct {
	Chat     string // the chat name, without the leading '#'
	Username string // the sender's CLM nickname
	Text     string // the message itself
}

// Opened is a message recovered from a pointer.
type Opened struct {
	Message
	// Authenticated is true when the pointer carried a tag and it verified.
	// False means a legacy 2.0.2 pointer: its text matches its nonce, so it
	// was not changed on the way, but anyone who knows or guesses the text
	// could have made it, and the nonce lets anyone test guesses offline.
	Authenticated bool
}

// Pointer is the public form of a message. Data is the lowercase hex of the
// ciphertext exactly as it appears on the wire; Tag is empty for a legacy
// (2.0.2) pointer.
type Pointer struct {
	Epoch int64
	Nonce string
	Data  string
	Tag   string
}
