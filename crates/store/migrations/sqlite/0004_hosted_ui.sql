-- Hosted UI and OAuth code flow: authorization codes (single use), the
-- OAuth scopes a refresh token was granted with, server-wide secrets (the
-- session-cookie key, shared by every instance on this database) and UI
-- customization (SetUICustomization) per client or pool-wide ('ALL').
CREATE TABLE authorization_codes (
    code_hash TEXT PRIMARY KEY,
    pool_id   TEXT NOT NULL REFERENCES user_pools(id) ON DELETE CASCADE,
    expires   INTEGER NOT NULL,
    data      TEXT NOT NULL
);
CREATE INDEX authorization_codes_by_expiry ON authorization_codes (expires);

ALTER TABLE refresh_tokens ADD COLUMN scope TEXT;

CREATE TABLE server_secrets (
    name  TEXT PRIMARY KEY,
    value BLOB NOT NULL
);

CREATE TABLE ui_customizations (
    pool_id   TEXT NOT NULL REFERENCES user_pools(id) ON DELETE CASCADE,
    client_id TEXT NOT NULL,
    css       TEXT,
    image     BLOB,
    created   INTEGER NOT NULL,
    modified  INTEGER NOT NULL,
    PRIMARY KEY (pool_id, client_id)
);
