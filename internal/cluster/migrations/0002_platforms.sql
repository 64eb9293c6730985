-- 0002: which platforms each instance serves. A member is owned only by an
-- instance that serves their platform (the owner answers them through that
-- platform's API), so instances may differ: two Discord shards and a
-- Telegram-only instance. An empty list (an instance of 0001) serves all.
ALTER TABLE cluster_instances ADD COLUMN platforms text[] NOT NULL DEFAULT '{}';
