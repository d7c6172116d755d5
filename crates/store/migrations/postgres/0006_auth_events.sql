-- A user's recorded authentication events (AdminListUserAuthEvents): the
-- newest few per user, gone with the user.
CREATE TABLE auth_events (
    pool_id           TEXT COLLATE "C" NOT NULL,
    username_key      TEXT COLLATE "C" NOT NULL,
    event_id          TEXT COLLATE "C" NOT NULL,
    created           BIGINT NOT NULL,
    data              TEXT NOT NULL,
    feedback_value    TEXT COLLATE "C",
    feedback_provider TEXT COLLATE "C",
    feedback_date     BIGINT,
    PRIMARY KEY (pool_id, username_key, event_id),
    FOREIGN KEY (pool_id, username_key) REFERENCES users (pool_id, username_key) ON DELETE CASCADE
);
CREATE INDEX auth_events_by_time ON auth_events (pool_id, username_key, created);
