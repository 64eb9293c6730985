-- 0001: members, their chats (Argon2id verifier, never the secret) and the
-- chats' messages (XChaCha20-Poly1305 sealed). Times are Unix nanoseconds.

CREATE TABLE members (
	id        INTEGER PRIMARY KEY AUTOINCREMENT,
	platform  TEXT    NOT NULL,
	user_id   TEXT    NOT NULL,
	nickname  TEXT    NOT NULL,
	created   INTEGER NOT NULL,
	UNIQUE (platform, user_id)
) STRICT;

-- AUTOINCREMENT: a chat id is never reused, so a ChatKey of a deleted chat
-- can never address a later chat.
CREATE TABLE chats (
	id          INTEGER PRIMARY KEY AUTOINCREMENT,
	member_id   INTEGER NOT NULL REFERENCES members (id) ON DELETE CASCADE,
	name        TEXT    NOT NULL,
	kdf_salt    BLOB    NOT NULL,
	kdf_memory  INTEGER NOT NULL,
	kdf_time    INTEGER NOT NULL,
	kdf_threads INTEGER NOT NULL,
	verifier    BLOB    NOT NULL,
	created     INTEGER NOT NULL,
	last_used   INTEGER NOT NULL,
	UNIQUE (member_id, name)
) STRICT;

-- sealed = 24-byte XChaCha20 nonce || ciphertext of (username, pointer,
-- CLM nonce, text); the clear columns are bound into the AEAD as associated
-- data. The CLM nonce is sealed because it is a hash of the signed text: in
-- clear, with the chat name and nickname, it would confirm guesses of a
-- message.
-- pointer_hash = SHA-256 of the pointer text: the idempotency key.
-- Message ids are never reused, like AUTOINCREMENT, without its write to
-- sqlite_sequence on every insert (a quarter of a save's cost): inserts
-- take max(max(id), message_id_floor.floor) + 1, and the trigger below
-- raises the floor whenever the highest id is deleted.
CREATE TABLE messages (
	id             INTEGER PRIMARY KEY,
	chat_id        INTEGER NOT NULL REFERENCES chats (id) ON DELETE CASCADE,
	pointer_hash   BLOB    NOT NULL,
	direction      TEXT    NOT NULL CHECK (direction IN ('sent', 'received')),
	epoch          INTEGER NOT NULL,
	authenticated  INTEGER NOT NULL CHECK (authenticated IN (0, 1)),
	src_platform   TEXT    NOT NULL,
	src_channel    TEXT    NOT NULL,
	src_message_id TEXT    NOT NULL,
	sealed         BLOB    NOT NULL,
	saved          INTEGER NOT NULL,
	deleted_at     INTEGER,
	UNIQUE (chat_id, pointer_hash)
) STRICT;

CREATE INDEX messages_live ON messages (chat_id, id) WHERE deleted_at IS NULL;
CREATE INDEX messages_trash ON messages (chat_id, id) WHERE deleted_at IS NOT NULL;

CREATE TABLE message_id_floor (
	floor INTEGER NOT NULL
) STRICT;
INSERT INTO message_id_floor (floor) VALUES (0);

CREATE TRIGGER messages_id_floor AFTER DELETE ON messages
WHEN OLD.id > (SELECT floor FROM message_id_floor)
BEGIN
	UPDATE message_id_floor SET floor = OLD.id;
END;
