-- External identities linked to native users (AdminLinkProviderForUser):
-- one identity (provider, attribute name and value) is linked to one user
-- of a pool at most (the primary key); the links go with the user.
CREATE TABLE user_identities (
    pool_id         TEXT COLLATE "C" NOT NULL,
    provider_name   TEXT COLLATE "C" NOT NULL,
    attribute_name  TEXT COLLATE "C" NOT NULL,
    attribute_value TEXT COLLATE "C" NOT NULL,
    username_key    TEXT COLLATE "C" NOT NULL,
    created         BIGINT NOT NULL,
    PRIMARY KEY (pool_id, provider_name, attribute_name, attribute_value),
    FOREIGN KEY (pool_id, username_key) REFERENCES users (pool_id, username_key) ON DELETE CASCADE
);
CREATE INDEX user_identities_by_user ON user_identities (pool_id, username_key);
