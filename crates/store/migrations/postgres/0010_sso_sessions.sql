-- SSO sessions: hosted UI sign-ins while the pool tracks sessions. The
-- hosted UI's cookie names one, so deleting the row ends the cookie; they
-- go with their user. Refresh tokens granted through one name it (their
-- OriginSessionId), and every token session records the address and the
-- device of its last activity.
CREATE TABLE sso_sessions (
    pool_id      TEXT COLLATE "C" NOT NULL,
    session_id   TEXT COLLATE "C" NOT NULL,
    username_key TEXT COLLATE "C" NOT NULL,
    sub          TEXT COLLATE "C" NOT NULL,
    client_id    TEXT COLLATE "C" NOT NULL,
    created      BIGINT NOT NULL,
    last_active  BIGINT NOT NULL,
    expires      BIGINT NOT NULL,
    last_ip      TEXT COLLATE "C",
    last_device  TEXT COLLATE "C",
    PRIMARY KEY (pool_id, session_id),
    FOREIGN KEY (pool_id, username_key) REFERENCES users (pool_id, username_key) ON DELETE CASCADE
);
CREATE INDEX sso_sessions_by_user ON sso_sessions (pool_id, username_key);
CREATE INDEX sso_sessions_by_expiry ON sso_sessions (expires);

ALTER TABLE refresh_tokens ADD COLUMN sso_session_id TEXT COLLATE "C";
ALTER TABLE refresh_tokens ADD COLUMN last_ip TEXT COLLATE "C";
ALTER TABLE refresh_tokens ADD COLUMN last_device TEXT COLLATE "C";
CREATE INDEX refresh_tokens_by_sso_session ON refresh_tokens (pool_id, sso_session_id)
    WHERE sso_session_id IS NOT NULL;
