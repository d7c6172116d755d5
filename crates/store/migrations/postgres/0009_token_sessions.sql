-- Token sessions: the device a sign-in was bound to (its refresh tokens
-- refresh only with that DEVICE_KEY while the pool tracks devices), and
-- the last activity of a token (its sign-in, refresh or rotation), by
-- which MaxPerUser evicts a user's least recently used session.
ALTER TABLE refresh_tokens ADD COLUMN device_key TEXT COLLATE "C";
ALTER TABLE refresh_tokens ADD COLUMN last_active BIGINT NOT NULL DEFAULT 0;
UPDATE refresh_tokens SET last_active = created;
