// Package storage is each member's per-chat store, on SQLite ([Open]) or
// PostgreSQL ([OpenPostgres]), encrypted at rest: chats hold an Argon2id verifier (never the secret), messages hold
// text sealed with XChaCha20-Poly1305 under a key derived from the chat
// secret. It knows nothing of platforms beyond an opaque member reference.
//
// It is not a session cache: a [ChatKey] lives only as long as the caller
// keeps it, and the store never keeps one.
//
// # What is on disk
//
// Anyone who copies the database file (with its -wal and -shm files) learns
// metadata only: members (platform, platform user id, nickname), chat names,
// when chats were created and last unlocked, and per message its chat, its
// number in that chat, direction, epoch, whether it was authenticated,
// where it was seen (platform, channel, message id), when it was saved and
// trashed, and a hash of its public pointer. The sender's username, the text, the pointer and
// the CLM nonce are sealed. Never stored: a secret, the data key, the
// unsalted 2.0.2 chat hash. The pointer and the nonce are sealed, though
// public on the platform, because next to the chat name they would let a
// file thief test guessed secrets (the pointer) or guessed messages (the
// nonce, a hash of the signed text) at full speed, bypassing Argon2id.
//
// # Keys
//
// See crypto.go: Argon2id(secret, per-chat random salt, per-chat stored
// params) gives a master key; HKDF-SHA256 splits it into a verifier (stored,
// compared in constant time) and a 32-byte data key (never stored). Each
// message is sealed with a fresh random 24-byte nonce; its associated data
// binds the member id, chat id, the message's number in the chat, pointer
// hash, direction, epoch, authenticated flag and source (platform, channel,
// message id), so a row moved to another chat or member, swapped with
// another row, or edited in clear, fails to open. At most
// Options.MaxConcurrentKDF Argon2id runs proceed at once.
//
// # Message numbers
//
// A member sees and types a message's number in its chat (Message.ID): 1,
// 2, 3… per chat, and chats belong to one member, so nothing shown depends
// on what other members save (a shared global counter would show a member
// that someone else holds the chat she posts in). A number is never given
// twice in a chat, even after purge or clear. Rows sealed before numbers
// were bound (messages.ad_version 2, from schema version 1) still open;
// until a Rekey re-seals them with the current layout, which binds the
// number, two of them could trade numbers on disk unnoticed.
//
// # Damaged rows
//
// A row that fails to open (a flipped bit, or a row edited, moved or
// swapped) is no error: History, Search and ListTrash return it in its
// place marked Damaged, with no content; Export leaves it out and lists
// its number; Rekey re-seals the rest and reports it, leaving it as it is
// (still sealed under the old key, so a thief holding a burned secret and
// the file could still read what survives of it) until Purge removes it.
// Only when no message of a chat opens does Rekey refuse (ErrCorrupt):
// then the key is more likely wrong than every row damaged.
//
// # Durability and concurrency
//
// The database runs in WAL mode with foreign keys on. Writes go through a
// single connection, so writers queue in Go (honouring their context)
// instead of meeting SQLite's "database is locked"; reads use a pool of
// query-only connections that see consistent snapshots alongside the
// writer. synchronous=NORMAL is the default: a write acknowledged to the
// caller is in the WAL file before the call returns, so it survives the
// process being killed (the crash test SIGKILLs a saving child 24 times);
// an operating-system crash or power loss can lose the last commits but
// never corrupts the file. Options.FullSync (synchronous=FULL) closes that
// window at the cost of an fsync per commit. Schema changes are embedded
// SQL migrations applied in one transaction, versioned by PRAGMA
// user_version.
//
// # On PostgreSQL
//
// The same queries run on both (dialect.go holds the few differences), so
// the sealing, the associated data and every guarantee above are the
// same; what a pg_dump holds is what the SQLite file holds. Several
// processes may share one database: a write locks the chat row it
// touches (FOR UPDATE; the one-statement save FOR SHARE), so two saves
// never take one number and nothing is sealed under a key being changed;
// reads run in a REPEATABLE READ READ ONLY snapshot. Row ids come from a
// sequence (never reused). Migrations live in migrations/postgres,
// versioned by the schema_version table, each applied in one transaction
// under an advisory lock, so instances starting together migrate once. A
// commit is durable by the server's synchronous_commit (FullSync does not
// apply), and backups are the server's (pg_dump): Backup refuses.
package storage
