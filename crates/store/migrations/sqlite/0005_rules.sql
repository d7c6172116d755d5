-- The store keeps the rules itself.
--  * Users and pools carry a version for compare-and-swap writes.
--  * The hot state of a user moves out of its document: the sign-out instant
--    and the last accepted TOTP step become columns changed by conditional
--    statements; failed sign-ins and revoked sessions get their own tables.
--  * Sign-in aliases (email, phone_number, preferred_username) are UNIQUE
--    per pool in user_aliases; the rows are filled from the documents by
--    the migration's Rust step (it needs each pool's alias settings).
--  * Everything that refers to a user goes with it (foreign keys with
--    cascade): codes, refresh tokens, group memberships, aliases, failures,
--    revoked sessions.
--  * ListUsers filters read indexes of (pool, column, username_key); the
--    case-insensitive columns hold values folded by the application.

ALTER TABLE user_pools ADD COLUMN version INTEGER NOT NULL DEFAULT 1;

ALTER TABLE users ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE users ADD COLUMN tokens_valid_after INTEGER;
ALTER TABLE users ADD COLUMN totp_last_step INTEGER;
UPDATE users SET
    tokens_valid_after = json_extract(data, '$.tokens_valid_after'),
    totp_last_step = json_extract(data, '$.totp_last_step');

CREATE TABLE sign_in_failures (
    pool_id      TEXT NOT NULL,
    username_key TEXT NOT NULL,
    failures     INTEGER NOT NULL,
    last_failed  INTEGER NOT NULL,
    locked_until INTEGER,
    PRIMARY KEY (pool_id, username_key),
    FOREIGN KEY (pool_id, username_key) REFERENCES users (pool_id, username_key) ON DELETE CASCADE
);
INSERT INTO sign_in_failures (pool_id, username_key, failures, last_failed, locked_until)
SELECT pool_id, username_key,
       coalesce(json_extract(data, '$.failed_sign_ins'), 0),
       coalesce(json_extract(data, '$.last_failed_sign_in'), 0),
       json_extract(data, '$.locked_until')
FROM users
WHERE coalesce(json_extract(data, '$.failed_sign_ins'), 0) > 0
   OR json_extract(data, '$.locked_until') IS NOT NULL;

CREATE TABLE revoked_sessions (
    pool_id      TEXT NOT NULL,
    origin_jti   TEXT NOT NULL,
    username_key TEXT NOT NULL,
    until        INTEGER NOT NULL,
    PRIMARY KEY (pool_id, origin_jti),
    FOREIGN KEY (pool_id, username_key) REFERENCES users (pool_id, username_key) ON DELETE CASCADE
);
CREATE INDEX revoked_sessions_by_user ON revoked_sessions (pool_id, username_key);
CREATE INDEX revoked_sessions_by_expiry ON revoked_sessions (until);
INSERT OR IGNORE INTO revoked_sessions (pool_id, origin_jti, username_key, until)
SELECT u.pool_id, json_extract(r.value, '$.origin_jti'), u.username_key, json_extract(r.value, '$.until')
FROM users u, json_each(u.data, '$.revoked_origins') r
WHERE json_extract(r.value, '$.origin_jti') IS NOT NULL;

CREATE TABLE user_aliases (
    pool_id      TEXT NOT NULL,
    kind         TEXT NOT NULL,
    value        TEXT NOT NULL,
    username_key TEXT NOT NULL,
    PRIMARY KEY (pool_id, kind, value),
    FOREIGN KEY (pool_id, username_key) REFERENCES users (pool_id, username_key) ON DELETE CASCADE
);
CREATE INDEX user_aliases_by_user ON user_aliases (pool_id, username_key);

-- Tables that refer to users get foreign keys (SQLite adds them only by
-- rebuilding the table); rows of users that no longer exist are dropped.
CREATE TABLE group_members_new (
    pool_id      TEXT NOT NULL,
    group_name   TEXT NOT NULL,
    username_key TEXT NOT NULL,
    PRIMARY KEY (pool_id, group_name, username_key),
    FOREIGN KEY (pool_id, group_name) REFERENCES groups (pool_id, name) ON DELETE CASCADE,
    FOREIGN KEY (pool_id, username_key) REFERENCES users (pool_id, username_key) ON DELETE CASCADE
);
INSERT INTO group_members_new SELECT m.pool_id, m.group_name, m.username_key
FROM group_members m JOIN users u ON u.pool_id = m.pool_id AND u.username_key = m.username_key;
DROP TABLE group_members;
ALTER TABLE group_members_new RENAME TO group_members;
CREATE INDEX group_members_by_user ON group_members (pool_id, username_key);

CREATE TABLE codes_new (
    pool_id      TEXT NOT NULL,
    username_key TEXT NOT NULL,
    purpose      TEXT NOT NULL,
    code_hash    TEXT NOT NULL,
    expires      INTEGER NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (pool_id, username_key, purpose),
    FOREIGN KEY (pool_id, username_key) REFERENCES users (pool_id, username_key) ON DELETE CASCADE
);
INSERT INTO codes_new SELECT c.pool_id, c.username_key, c.purpose, c.code_hash, c.expires, c.attempts
FROM codes c JOIN users u ON u.pool_id = c.pool_id AND u.username_key = c.username_key;
DROP TABLE codes;
ALTER TABLE codes_new RENAME TO codes;
CREATE INDEX codes_by_expiry ON codes (expires);

CREATE TABLE refresh_tokens_new (
    token_hash   TEXT PRIMARY KEY,
    pool_id      TEXT NOT NULL,
    client_id    TEXT NOT NULL,
    username_key TEXT NOT NULL,
    sub          TEXT NOT NULL,
    origin_jti   TEXT NOT NULL,
    auth_time    INTEGER NOT NULL,
    created      INTEGER NOT NULL,
    expires      INTEGER NOT NULL,
    revoked      INTEGER NOT NULL DEFAULT 0,
    scope        TEXT,
    FOREIGN KEY (pool_id, username_key) REFERENCES users (pool_id, username_key) ON DELETE CASCADE
);
INSERT INTO refresh_tokens_new SELECT t.token_hash, t.pool_id, t.client_id, t.username_key, t.sub,
    t.origin_jti, t.auth_time, t.created, t.expires, t.revoked, t.scope
FROM refresh_tokens t JOIN users u ON u.pool_id = t.pool_id AND u.username_key = t.username_key;
DROP TABLE refresh_tokens;
ALTER TABLE refresh_tokens_new RENAME TO refresh_tokens;
CREATE INDEX refresh_tokens_by_user ON refresh_tokens (pool_id, username_key);
CREATE INDEX refresh_tokens_by_expiry ON refresh_tokens (expires);

-- ListUsers: one index per filterable column, ending in the username key
-- so a page continues with an index seek.
DROP INDEX users_by_email;
DROP INDEX users_by_email_lower;
DROP INDEX users_by_phone;
DROP INDEX users_by_preferred_username;
DROP INDEX users_by_preferred_username_lower;
CREATE INDEX users_by_username ON users (pool_id, username, username_key);
CREATE INDEX users_by_email ON users (pool_id, email, username_key);
CREATE INDEX users_by_phone ON users (pool_id, phone_number, username_key);
CREATE INDEX users_by_name ON users (pool_id, name, username_key);
CREATE INDEX users_by_given_name ON users (pool_id, given_name, username_key);
CREATE INDEX users_by_family_name ON users (pool_id, family_name, username_key);
CREATE INDEX users_by_preferred_username ON users (pool_id, preferred_username, username_key);
CREATE INDEX users_by_status ON users (pool_id, status, username_key);
CREATE INDEX users_by_enabled ON users (pool_id, enabled, username_key);
