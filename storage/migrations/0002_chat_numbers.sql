-- 0002: per-chat message numbers and a per-row seal version.
--
-- num is the message's number in its chat (1, 2, 3… per chat, so per
-- member): the only message number a member sees or types. It used to be
-- the global row id, shared by every member's store, so a member's own
-- numbers jumped when someone else saved a message, which told her who
-- else holds a chat. Existing rows are numbered per chat in the order they
-- were saved (their id order).
--
-- ad_version is the associated-data layout the row is sealed with: 2
-- ("ad2", every row before this migration) or 3 ("ad3", which also binds
-- num, so swapping two rows' numbers or contents fails to open). Rekey
-- re-seals version 2 rows as version 3.
--
-- chats.num_floor is the highest number ever deleted from the chat, so a
-- number a member saw never names another message later (as
-- message_id_floor does for ids).

ALTER TABLE messages ADD COLUMN num INTEGER NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN ad_version INTEGER NOT NULL DEFAULT 2;
ALTER TABLE chats ADD COLUMN num_floor INTEGER NOT NULL DEFAULT 0;

UPDATE messages SET num = n.num
FROM (SELECT id, row_number() OVER (PARTITION BY chat_id ORDER BY id) AS num FROM messages) AS n
WHERE messages.id = n.id;

CREATE UNIQUE INDEX messages_num ON messages (chat_id, num);

CREATE TRIGGER messages_num_floor AFTER DELETE ON messages
WHEN OLD.num > (SELECT num_floor FROM chats WHERE id = OLD.chat_id)
BEGIN
	UPDATE chats SET num_floor = OLD.num WHERE id = OLD.chat_id;
END;
