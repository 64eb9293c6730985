package bridge

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
)

// PlaceKind says who can see what a member types in a place.
type PlaceKind int

const (
	// Private is a one-to-one conversation between the member and the bot
	// (a Telegram private chat, a Discord DM, the console's "@dm").
	Private PlaceKind = iota
	// Public is a channel or group that other people read.
	Public
)

// String returns "private" or "public".
func (k PlaceKind) String() string {
	if k == Private {
		return "private"
	}
	return "public"
}

// Member identifies who sent a request. Platform plus ID is the member's
// identity in the store; DisplayName is only the default CLM nickname.
type Member struct {
	Platform    string // "telegram", "discord", "console"
	ID          string // the platform's stable user id, opaque to the bridge
	DisplayName string
}

// Place says where a request came from.
type Place struct {
	Kind PlaceKind
	ID   string // the platform's chat or channel id ("" is allowed for a DM)
	Name string // a human name for messages, such as "#general"
}

// Capabilities says what the platform allows, so the core can decide (for
// example) whether a pointer fits in one post.
type Capabilities struct {
	// MaxPointerChars is how many characters a pointer may take in one public
	// post, after the adapter's own framing text is subtracted.
	MaxPointerChars int
	// Ephemeral is true when Responder.Private can answer in place, visible
	// only to the member (a Discord ephemeral reply).
	Ephemeral bool
	// CanDelete is true when Responder.DeleteRequest may work here.
	CanDelete bool
	// Buttons is true when a public post can carry a Receive button.
	Buttons bool
}

// Request is one thing a member did, translated by an adapter. Exactly one
// of Command (a /clm command or a button press) or Post (any other text the
// bot saw) is set.
type Request struct {
	Member Member
	Place  Place

	// Command is the command name, lower case ("send", "unlock", "receive"…);
	// Args is everything after it, verbatim (newlines kept). Chat names that
	// hold spaces are quoted: `send "Project Athena" hello`.
	Command string
	Args    string

	// Post is the text of a message that is not a command: a channel post
	// that may hold pointers, or a private line (which may answer a prompt).
	// Adapters recognise commands with ParseCommandText; a public Post that
	// it reads as a /clm command is handled as that command all the same.
	Post string

	// ReceiveRef is set when the member pressed a Receive button: the Ref
	// the core put on that button (see PublicPost).
	ReceiveRef string
	// Quoted is the text of the post the member replied to or pointed at (a
	// Telegram reply, a Discord context-menu target), if any. "receive" with
	// empty Args opens the pointers in Quoted.
	Quoted string

	// MessageID is the platform id of the triggering message, if any.
	MessageID string
	// Confidential is true when only the bot saw what the member typed even
	// though Place is Public (a Discord modal). Secrets are accepted only when
	// Place.Kind is Private or Confidential is true.
	Confidential bool

	Caps  Capabilities
	Reply Responder
}

// String describes the request without anything the member typed or
// pointed at (Args, Post, Quoted, ids): the platform, the kind of place and
// the command's name when it is one of the bridge's ("unknown" when not,
// "receive" for a button press, "post" for a message).
func (r Request) String() string {
	return "bridge.Request{platform:" + r.Member.Platform + " place:" + r.Place.Kind.String() + " command:" + r.LogName() + "}"
}

// GoString is String, so %#v is redacted too.
func (r Request) GoString() string { return r.String() }

// Format prints String for every verb (%v, %+v, %#v, %s, %q, %x…).
func (r Request) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, r.String()) }

// LogValue logs what String shows, as fields.
func (r Request) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("platform", r.Member.Platform),
		slog.String("place", r.Place.Kind.String()),
		slog.String("command", r.LogName()))
}

// LogName is the request's command name fit for logs and metrics: a
// command of the schema, or "unknown", "receive" (a button) or "post".
// The word after /clm is the member's text (it may be a mistyped
// secret), so it is shown only when it is one of the schema's names.
func (r Request) LogName() string {
	switch {
	case strings.TrimSpace(r.Command) != "":
		return LogName(r.Command)
	case r.ReceiveRef != "":
		return "receive"
	}
	return "post"
}

// InputIsPrivate reports whether what the member typed was seen by nobody
// but the bot, which is the condition for accepting a secret.
func (r Request) InputIsPrivate() bool {
	return r.Place.Kind == Private || r.Confidential
}

// PublicPost is a message for everyone in the request's place.
type PublicPost struct {
	Text string
	// ReceiveRef, when not empty, asks the adapter to attach a "🔓 Receive"
	// button whose press comes back as Request.ReceiveRef. At most 32 bytes.
	ReceiveRef string
}

// File is a document sent privately to the member (an export).
type File struct {
	Name    string
	Content []byte
}

// Responder is how the core answers one request. Adapters implement it. Every
// method may be called several times, or not at all.
type Responder interface {
	// Private shows text to the requesting member only: an ephemeral reply
	// where the platform has one, else a direct message. It is the only way
	// plaintext or a secret ever leaves the core.
	Private(ctx context.Context, text string) error
	// PrivateFile sends a file to the member only.
	PrivateFile(ctx context.Context, f File) error
	// Public posts in the request's place, visible to everyone there. It
	// never carries plaintext or a secret.
	Public(ctx context.Context, p PublicPost) error
	// DeleteRequest removes the member's triggering message. It returns
	// ErrCannotDelete when the platform or the bot's rights do not allow it.
	DeleteRequest(ctx context.Context) error
}

// ErrCannotDelete is returned by Responder.DeleteRequest when the message
// cannot be deleted (no rights, or not supported).
var ErrCannotDelete = errors.New("bridge: cannot delete that message")

// ErrCannotReachPrivately is returned by Responder.Private and
// Responder.PrivateFile when the platform refuses a direct message (the
// member never started a conversation with the bot, or blocks DMs). The
// adapter has then already told the member, in place and revealing nothing,
// how to open a private conversation.
var ErrCannotReachPrivately = errors.New("bridge: cannot reach the member privately")

// PostError is what Responder.Public returns (possibly wrapped) when the
// platform did not take the post, to say why in words fit for the member:
// Reason names no secret and no token ("I may not post in this channel (a
// server admin can give me Send Messages here)"). The core shows Reason to
// the member with what was not posted; for any other error it says only
// that the post failed.
type PostError struct {
	Reason string
	Err    error
}

// Error returns the reason and the cause.
func (e *PostError) Error() string { return e.Reason + ": " + e.Err.Error() }

// Unwrap returns the cause.
func (e *PostError) Unwrap() error { return e.Err }

// Notifier lets the core reach a member who did not make the current request
// (a "watch on" member whose chat opened a pointer seen in a channel).
// Adapters register one per platform.
type Notifier interface {
	// NotifyPrivately sends text to the member's private conversation.
	NotifyPrivately(ctx context.Context, m Member, text string) error
}

// Core is what adapters call; *Bridge implements it. Adapters depend on this
// interface so they can be tested against the real core or a small fake.
type Core interface {
	// Handle decides and answers one request through req.Reply. Mistakes of
	// the member (bad input, wrong secret) are answered to the member and
	// are not errors; the returned error is for the adapter's log only (for
	// example, the Responder failed) and never contains a secret.
	Handle(ctx context.Context, req Request) error
	// MakePointer makes a tagged pointer from the member's unlocked chat and
	// nickname, of at most maxChars characters (0: no platform limit),
	// without posting or saving it: it is an offer the member may never
	// send (Telegram inline mode makes one each time the member pauses in
	// typing). Call RecordSent when the member does send it. Making offers
	// does not use up the member's command budget (it has a larger one of
	// its own). When the member's input is why no pointer was made, the
	// error is a *PointerError: branch on its Kind with errors.As, and
	// show its Error text, which is fit for the member ("Work is locked:
	// unlock it…", "too long: at most 1890 bytes…"). Any other error
	// (ErrClosed) is for the log.
	MakePointer(ctx context.Context, m Member, chat, text string, maxChars int) (string, error)
	// RecordSent saves pointer in the member's history as sent, once the
	// member did send it (a chosen Telegram inline result). It saves only
	// a pointer the member made: one that opens, authenticated, with the
	// member's own unlocked session of the chat named inside it and is
	// signed with the member's nickname; anything else is refused and
	// nothing is saved. Recording the same pointer again changes nothing.
	// The error is for the adapter's log and never holds a secret or text.
	RecordSent(ctx context.Context, m Member, pointer string) error
	// ChatNames lists the names of the member's chats (for autocomplete);
	// no secret is needed.
	ChatNames(ctx context.Context, m Member) ([]string, error)
	// UnlockedChats lists the names of the member's chats unlocked now.
	UnlockedChats(m Member) []string
	// MemberLeft tells the core that a member left a channel (or, with all,
	// every channel of the platform, such as a Discord server they left),
	// so watch stops delivering that channel's pointers to them.
	MemberLeft(m Member, placeID string, all bool)
	// RegisterNotifier sets how the core reaches members of platform
	// privately outside a request. Call it before serving requests.
	RegisterNotifier(platform string, n Notifier)
}
