// Package storage is each member's per-chat store on SQLite, encrypted at
// rest: chats hold an Argon2id verifier (never the secret), messages hold
// text sealed with XChaCha20-Poly1305 under a key derived from the chat
// secret. It knows nothing of platforms beyond an opaque member reference.
package storage
