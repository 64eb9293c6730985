package storage

// CONTRACT SCAFFOLD: the exported API other packages code against. The
// storage helper replaces every stub body (and may move code to other files)
// but keeps these names and signatures unless the lead agrees otherwise.

import (
	"context"
	"errors"
	"io"
	"time"
)

// Sentinel errors, checked with errors.Is.
var (
	ErrNotFound    = errors.New("storage: not found")
	ErrExists      = errors.New("storage: already exists")
	ErrWrongSecret = errors.New("storage: wrong secret for this chat")
	ErrInvalid     = errors.New("storage: invalid input")
	ErrClosed      = errors.New("storage: store is closed")
	ErrCorrupt     = errors.New("storage: message cannot be opened (corrupt or moved)")
)

var errTODO = errors.New("storage: not implemented yet")

// Argon2Params are the Argon2id cost parameters of one chat's verifier.
type Argon2Params struct {
	MemoryKiB uint32
	Time      uint32
	Threads   uint8
}

// Options configure Open. The zero value is production-ready.
type Options struct {
	// Argon2 is the cost for new chats and rekeys (zero: the default).
	// Tests pass a cheap one.
	Argon2 Argon2Params
	// MaxConcurrentKDF caps Argon2id runs at once (zero: the default).
	MaxConcurrentKDF int
}

// Store is the per-member, per-chat store, encrypted at rest.
type Store struct{}

// Open opens (creating and migrating if needed) the SQLite store at path.
func Open(ctx context.Context, path string, opts Options) (*Store, error) { return nil, errTODO }

// Close closes the store.
func (s *Store) Close() error { return errTODO }

// MemberRef is a member's platform identity, opaque to storage.
type MemberRef struct {
	Platform string
	UserID   string
}

// Member is a stored member.
type Member struct {
	ID       int64
	Ref      MemberRef
	Nickname string
	Created  time.Time
}

// EnsureMember returns the member for ref, creating it with nickname when new.
func (s *Store) EnsureMember(ctx context.Context, ref MemberRef, nickname string) (Member, error) {
	return Member{}, errTODO
}

// SetNickname changes the nickname a member signs with.
func (s *Store) SetNickname(ctx context.Context, memberID int64, nickname string) error {
	return errTODO
}

// DeleteMember deletes a member and all their chats and messages.
func (s *Store) DeleteMember(ctx context.Context, memberID int64) error { return errTODO }

// ChatKey is an unlocked chat: its identity and the key derived from its
// secret. It prints as redacted; Wipe overwrites the key.
type ChatKey struct{}

// ChatID returns the chat's row id.
func (k *ChatKey) ChatID() int64 { return 0 }

// MemberID returns the owning member's id.
func (k *ChatKey) MemberID() int64 { return 0 }

// Name returns the chat's name.
func (k *ChatKey) Name() string { return "" }

// Wipe overwrites the key material; the ChatKey is unusable afterwards.
func (k *ChatKey) Wipe() {}

// CreateChat creates the member's chat name with secret (ErrExists if the
// member already has a chat of that name) and returns it unlocked.
func (s *Store) CreateChat(ctx context.Context, memberID int64, name string, secret []byte) (*ChatKey, error) {
	return nil, errTODO
}

// UnlockChat verifies secret for the member's chat name (ErrNotFound,
// ErrWrongSecret) and returns it unlocked.
func (s *Store) UnlockChat(ctx context.Context, memberID int64, name string, secret []byte) (*ChatKey, error) {
	return nil, errTODO
}

// Rekey changes the chat's secret, re-sealing every message in one
// transaction, and returns the new key (the old one is wiped).
func (s *Store) Rekey(ctx context.Context, key *ChatKey, newSecret []byte) (*ChatKey, error) {
	return nil, errTODO
}

// ChatSummary describes a chat without needing its key.
type ChatSummary struct {
	ID       int64
	Name     string
	Messages int // not in the trash
	Trashed  int
	Created  time.Time
	LastUsed time.Time
}

// ListChats lists a member's chats by name.
func (s *Store) ListChats(ctx context.Context, memberID int64) ([]ChatSummary, error) {
	return nil, errTODO
}

// DeleteChat deletes the member's chat name with all its messages.
func (s *Store) DeleteChat(ctx context.Context, memberID int64, name string) error {
	return errTODO
}

// Direction says whether the member sent or received a message.
type Direction string

const (
	Sent     Direction = "sent"
	Received Direction = "received"
)

// Source is where a pointer was seen (all optional).
type Source struct {
	Platform  string
	Channel   string
	MessageID string
}

// NewMessage is a message to save.
type NewMessage struct {
	Direction     Direction
	Epoch         int64
	Nonce         string
	Pointer       string // the public pointer text
	Authenticated bool
	Username      string // the sender's nickname (sealed)
	Text          string // the message (sealed)
	Source        Source
}

// Message is a stored message, opened with the chat's key.
type Message struct {
	ID int64
	NewMessage
	Saved     time.Time
	DeletedAt *time.Time // in the trash when not nil
}

// SaveMessage seals and saves m in the key's chat. Saving the same pointer
// again in the same chat returns the existing id and created=false.
func (s *Store) SaveMessage(ctx context.Context, key *ChatKey, m NewMessage) (id int64, created bool, err error) {
	return 0, false, errTODO
}

// Page selects a page of history: newest first, Size messages, Page from 0.
type Page struct {
	Size int
	Page int
}

// History returns messages not in the trash, newest first.
func (s *Store) History(ctx context.Context, key *ChatKey, p Page) ([]Message, error) {
	return nil, errTODO
}

// Search returns up to limit messages whose text contains query (case
// insensitive), newest first, not in the trash.
func (s *Store) Search(ctx context.Context, key *ChatKey, query string, limit int) ([]Message, error) {
	return nil, errTODO
}

// ListTrash returns the chat's trashed messages, newest first.
func (s *Store) ListTrash(ctx context.Context, key *ChatKey) ([]Message, error) {
	return nil, errTODO
}

// Trash moves a message to the trash.
func (s *Store) Trash(ctx context.Context, key *ChatKey, id int64) error { return errTODO }

// Restore takes a message out of the trash.
func (s *Store) Restore(ctx context.Context, key *ChatKey, id int64) error { return errTODO }

// Purge deletes a message for good.
func (s *Store) Purge(ctx context.Context, key *ChatKey, id int64) error { return errTODO }

// ClearChat deletes every message of the chat (the chat stays).
func (s *Store) ClearChat(ctx context.Context, key *ChatKey) error { return errTODO }

// Export writes the chat's history, decrypted, as JSON to w.
func (s *Store) Export(ctx context.Context, key *ChatKey, w io.Writer) error { return errTODO }
