-- The first schema: pools with their keys and clients, users, and the
-- short-lived state of sign-in. Documents the domain does not index are
-- kept as JSON in `data`.
CREATE TABLE user_pools (
    id      TEXT PRIMARY KEY,
    name    TEXT NOT NULL,
    created INTEGER NOT NULL,
    data    TEXT NOT NULL
);

CREATE TABLE signing_keys (
    pool_id TEXT NOT NULL REFERENCES user_pools(id) ON DELETE CASCADE,
    kid     TEXT NOT NULL,
    purpose TEXT NOT NULL,
    pkcs8   BLOB NOT NULL,
    created INTEGER NOT NULL,
    PRIMARY KEY (pool_id, kid)
);

CREATE TABLE app_clients (
    client_id TEXT PRIMARY KEY,
    pool_id   TEXT NOT NULL REFERENCES user_pools(id) ON DELETE CASCADE,
    data      TEXT NOT NULL
);
CREATE INDEX app_clients_by_pool ON app_clients (pool_id, client_id);

CREATE TABLE users (
    pool_id            TEXT NOT NULL REFERENCES user_pools(id) ON DELETE CASCADE,
    username_key       TEXT NOT NULL,
    username           TEXT NOT NULL,
    sub                TEXT NOT NULL,
    status             TEXT NOT NULL,
    enabled            INTEGER NOT NULL,
    email              TEXT,
    phone_number       TEXT,
    preferred_username TEXT,
    name               TEXT,
    given_name         TEXT,
    family_name        TEXT,
    data               TEXT NOT NULL,
    PRIMARY KEY (pool_id, username_key)
);
CREATE UNIQUE INDEX users_by_sub ON users (pool_id, sub);
CREATE INDEX users_by_email ON users (pool_id, email);
CREATE INDEX users_by_email_lower ON users (pool_id, lower(email));
CREATE INDEX users_by_phone ON users (pool_id, phone_number);
CREATE INDEX users_by_preferred_username ON users (pool_id, preferred_username);
CREATE INDEX users_by_preferred_username_lower ON users (pool_id, lower(preferred_username));

CREATE TABLE codes (
    pool_id      TEXT NOT NULL REFERENCES user_pools(id) ON DELETE CASCADE,
    username_key TEXT NOT NULL,
    purpose      TEXT NOT NULL,
    code_hash    TEXT NOT NULL,
    expires      INTEGER NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (pool_id, username_key, purpose)
);

CREATE TABLE challenge_sessions (
    handle_hash TEXT PRIMARY KEY,
    pool_id     TEXT NOT NULL REFERENCES user_pools(id) ON DELETE CASCADE,
    expires     INTEGER NOT NULL,
    data        TEXT NOT NULL
);
CREATE INDEX challenge_sessions_by_expiry ON challenge_sessions (expires);

CREATE TABLE refresh_tokens (
    token_hash   TEXT PRIMARY KEY,
    pool_id      TEXT NOT NULL REFERENCES user_pools(id) ON DELETE CASCADE,
    client_id    TEXT NOT NULL,
    username_key TEXT NOT NULL,
    sub          TEXT NOT NULL,
    origin_jti   TEXT NOT NULL,
    auth_time    INTEGER NOT NULL,
    created      INTEGER NOT NULL,
    expires      INTEGER NOT NULL,
    revoked      INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX refresh_tokens_by_user ON refresh_tokens (pool_id, sub);
CREATE INDEX refresh_tokens_by_expiry ON refresh_tokens (expires);
