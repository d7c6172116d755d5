-- The whole schema, equivalent to SQLite's after its migrations 0001-0006.
-- The SQL of the two engines is shared where it can be, so:
--  * integers are BIGINT, booleans BIGINT 0/1, blobs BYTEA, documents the
--    domain does not index are TEXT holding JSON (`data`);
--  * every TEXT column that is compared or ordered uses COLLATE "C", so
--    ordering and the ListUsers prefix ranges (`col >= v AND col < v||U+10FFFF`)
--    are byte order, as in SQLite, whatever the database's locale;
--  * everything that refers to a user or a pool goes with it (foreign keys
--    with ON DELETE CASCADE).
-- Plain SQL only (no extensions, functions or advisory locks), so that it
-- also runs on PostgreSQL-compatible databases.

CREATE TABLE user_pools (
    id      TEXT COLLATE "C" PRIMARY KEY,
    name    TEXT COLLATE "C" NOT NULL,
    created BIGINT NOT NULL,
    data    TEXT NOT NULL,
    version BIGINT NOT NULL DEFAULT 1
);

CREATE TABLE signing_keys (
    pool_id         TEXT COLLATE "C" NOT NULL REFERENCES user_pools (id) ON DELETE CASCADE,
    kid             TEXT COLLATE "C" NOT NULL,
    purpose         TEXT COLLATE "C" NOT NULL,
    pkcs8           BYTEA NOT NULL,
    created         BIGINT NOT NULL,
    signs_from      BIGINT NOT NULL DEFAULT 0,
    signs_until     BIGINT,
    published_until BIGINT,
    PRIMARY KEY (pool_id, kid)
);
CREATE INDEX signing_keys_by_retirement ON signing_keys (published_until);

CREATE TABLE app_clients (
    client_id TEXT COLLATE "C" PRIMARY KEY,
    pool_id   TEXT COLLATE "C" NOT NULL REFERENCES user_pools (id) ON DELETE CASCADE,
    data      TEXT NOT NULL
);
CREATE INDEX app_clients_by_pool ON app_clients (pool_id, client_id);

CREATE TABLE users (
    pool_id            TEXT COLLATE "C" NOT NULL REFERENCES user_pools (id) ON DELETE CASCADE,
    username_key       TEXT COLLATE "C" NOT NULL,
    username           TEXT COLLATE "C" NOT NULL,
    sub                TEXT COLLATE "C" NOT NULL,
    status             TEXT COLLATE "C" NOT NULL,
    enabled            BIGINT NOT NULL,
    email              TEXT COLLATE "C",
    phone_number       TEXT COLLATE "C",
    preferred_username TEXT COLLATE "C",
    name               TEXT COLLATE "C",
    given_name         TEXT COLLATE "C",
    family_name        TEXT COLLATE "C",
    data               TEXT NOT NULL,
    version            BIGINT NOT NULL DEFAULT 1,
    tokens_valid_after BIGINT,
    totp_last_step     BIGINT,
    PRIMARY KEY (pool_id, username_key)
);
CREATE UNIQUE INDEX users_by_sub ON users (pool_id, sub);
-- ListUsers: one index per filterable column, ending in the username key
-- so a page continues with an index seek.
CREATE INDEX users_by_username ON users (pool_id, username, username_key);
CREATE INDEX users_by_email ON users (pool_id, email, username_key);
CREATE INDEX users_by_phone ON users (pool_id, phone_number, username_key);
CREATE INDEX users_by_name ON users (pool_id, name, username_key);
CREATE INDEX users_by_given_name ON users (pool_id, given_name, username_key);
CREATE INDEX users_by_family_name ON users (pool_id, family_name, username_key);
CREATE INDEX users_by_preferred_username ON users (pool_id, preferred_username, username_key);
CREATE INDEX users_by_status ON users (pool_id, status, username_key);
CREATE INDEX users_by_enabled ON users (pool_id, enabled, username_key);

-- Sign-in aliases (email, phone_number, preferred_username), UNIQUE per pool.
CREATE TABLE user_aliases (
    pool_id      TEXT COLLATE "C" NOT NULL,
    kind         TEXT COLLATE "C" NOT NULL,
    value        TEXT COLLATE "C" NOT NULL,
    username_key TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (pool_id, kind, value),
    FOREIGN KEY (pool_id, username_key) REFERENCES users (pool_id, username_key) ON DELETE CASCADE
);
CREATE INDEX user_aliases_by_user ON user_aliases (pool_id, username_key);

-- The hot state of a user outside its document.
CREATE TABLE sign_in_failures (
    pool_id      TEXT COLLATE "C" NOT NULL,
    username_key TEXT COLLATE "C" NOT NULL,
    failures     BIGINT NOT NULL,
    last_failed  BIGINT NOT NULL,
    locked_until BIGINT,
    PRIMARY KEY (pool_id, username_key),
    FOREIGN KEY (pool_id, username_key) REFERENCES users (pool_id, username_key) ON DELETE CASCADE
);

CREATE TABLE revoked_sessions (
    pool_id      TEXT COLLATE "C" NOT NULL,
    origin_jti   TEXT COLLATE "C" NOT NULL,
    username_key TEXT COLLATE "C" NOT NULL,
    until        BIGINT NOT NULL,
    PRIMARY KEY (pool_id, origin_jti),
    FOREIGN KEY (pool_id, username_key) REFERENCES users (pool_id, username_key) ON DELETE CASCADE
);
CREATE INDEX revoked_sessions_by_user ON revoked_sessions (pool_id, username_key);
CREATE INDEX revoked_sessions_by_expiry ON revoked_sessions (until);

CREATE TABLE codes (
    pool_id      TEXT COLLATE "C" NOT NULL,
    username_key TEXT COLLATE "C" NOT NULL,
    purpose      TEXT COLLATE "C" NOT NULL,
    code_hash    TEXT COLLATE "C" NOT NULL,
    expires      BIGINT NOT NULL,
    attempts     BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (pool_id, username_key, purpose),
    FOREIGN KEY (pool_id, username_key) REFERENCES users (pool_id, username_key) ON DELETE CASCADE
);
CREATE INDEX codes_by_expiry ON codes (expires);

CREATE TABLE challenge_sessions (
    handle_hash TEXT COLLATE "C" PRIMARY KEY,
    pool_id     TEXT COLLATE "C" NOT NULL REFERENCES user_pools (id) ON DELETE CASCADE,
    expires     BIGINT NOT NULL,
    data        TEXT NOT NULL
);
CREATE INDEX challenge_sessions_by_expiry ON challenge_sessions (expires);
-- (Not in SQLite: lets deleting a pool find its rows without a scan.)
CREATE INDEX challenge_sessions_by_pool ON challenge_sessions (pool_id);

CREATE TABLE refresh_tokens (
    token_hash   TEXT COLLATE "C" PRIMARY KEY,
    pool_id      TEXT COLLATE "C" NOT NULL,
    client_id    TEXT COLLATE "C" NOT NULL,
    username_key TEXT COLLATE "C" NOT NULL,
    sub          TEXT COLLATE "C" NOT NULL,
    origin_jti   TEXT COLLATE "C" NOT NULL,
    auth_time    BIGINT NOT NULL,
    created      BIGINT NOT NULL,
    expires      BIGINT NOT NULL,
    revoked      BIGINT NOT NULL DEFAULT 0,
    scope        TEXT,
    FOREIGN KEY (pool_id, username_key) REFERENCES users (pool_id, username_key) ON DELETE CASCADE
);
CREATE INDEX refresh_tokens_by_user ON refresh_tokens (pool_id, username_key);
CREATE INDEX refresh_tokens_by_expiry ON refresh_tokens (expires);

CREATE TABLE groups (
    pool_id TEXT COLLATE "C" NOT NULL REFERENCES user_pools (id) ON DELETE CASCADE,
    name    TEXT COLLATE "C" NOT NULL,
    data    TEXT NOT NULL,
    PRIMARY KEY (pool_id, name)
);

CREATE TABLE group_members (
    pool_id      TEXT COLLATE "C" NOT NULL,
    group_name   TEXT COLLATE "C" NOT NULL,
    username_key TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (pool_id, group_name, username_key),
    FOREIGN KEY (pool_id, group_name) REFERENCES groups (pool_id, name) ON DELETE CASCADE,
    FOREIGN KEY (pool_id, username_key) REFERENCES users (pool_id, username_key) ON DELETE CASCADE
);
CREATE INDEX group_members_by_user ON group_members (pool_id, username_key);

CREATE TABLE pool_domains (
    domain  TEXT COLLATE "C" PRIMARY KEY,
    pool_id TEXT COLLATE "C" NOT NULL REFERENCES user_pools (id) ON DELETE CASCADE,
    data    TEXT NOT NULL
);
CREATE INDEX pool_domains_by_pool ON pool_domains (pool_id);

CREATE TABLE resource_servers (
    pool_id    TEXT COLLATE "C" NOT NULL REFERENCES user_pools (id) ON DELETE CASCADE,
    identifier TEXT COLLATE "C" NOT NULL,
    data       TEXT NOT NULL,
    PRIMARY KEY (pool_id, identifier)
);

CREATE TABLE authorization_codes (
    code_hash TEXT COLLATE "C" PRIMARY KEY,
    pool_id   TEXT COLLATE "C" NOT NULL REFERENCES user_pools (id) ON DELETE CASCADE,
    expires   BIGINT NOT NULL,
    data      TEXT NOT NULL
);
CREATE INDEX authorization_codes_by_expiry ON authorization_codes (expires);
-- (Not in SQLite: lets deleting a pool find its rows without a scan.)
CREATE INDEX authorization_codes_by_pool ON authorization_codes (pool_id);

CREATE TABLE server_secrets (
    name  TEXT COLLATE "C" PRIMARY KEY,
    value BYTEA NOT NULL
);

CREATE TABLE ui_customizations (
    pool_id   TEXT COLLATE "C" NOT NULL REFERENCES user_pools (id) ON DELETE CASCADE,
    client_id TEXT COLLATE "C" NOT NULL,
    css       TEXT,
    image     BYTEA,
    created   BIGINT NOT NULL,
    modified  BIGINT NOT NULL,
    PRIMARY KEY (pool_id, client_id)
);
