-- Passkeys (WebAuthn credentials) of users: a credential id is registered
-- once in a pool (the primary key); the credentials go with the user.
CREATE TABLE webauthn_credentials (
    pool_id                  TEXT COLLATE "C" NOT NULL,
    credential_id            TEXT COLLATE "C" NOT NULL,
    username_key             TEXT COLLATE "C" NOT NULL,
    public_key               TEXT COLLATE "C" NOT NULL,
    sign_count               BIGINT NOT NULL,
    friendly_name            TEXT COLLATE "C" NOT NULL,
    relying_party_id         TEXT COLLATE "C" NOT NULL,
    authenticator_attachment TEXT COLLATE "C",
    transports               TEXT COLLATE "C" NOT NULL,
    created                  BIGINT NOT NULL,
    PRIMARY KEY (pool_id, credential_id),
    FOREIGN KEY (pool_id, username_key) REFERENCES users (pool_id, username_key) ON DELETE CASCADE
);
CREATE INDEX webauthn_credentials_by_user ON webauthn_credentials (pool_id, username_key);
