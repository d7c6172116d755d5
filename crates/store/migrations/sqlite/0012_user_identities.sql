-- External identities linked to native users (AdminLinkProviderForUser):
-- one identity (provider, attribute name and value) is linked to one user
-- of a pool at most (the primary key); the links go with the user.
CREATE TABLE user_identities (
    pool_id         TEXT NOT NULL,
    provider_name   TEXT NOT NULL,
    attribute_name  TEXT NOT NULL,
    attribute_value TEXT NOT NULL,
    username_key    TEXT NOT NULL,
    created         INTEGER NOT NULL,
    PRIMARY KEY (pool_id, provider_name, attribute_name, attribute_value),
    FOREIGN KEY (pool_id, username_key) REFERENCES users (pool_id, username_key) ON DELETE CASCADE
);
CREATE INDEX user_identities_by_user ON user_identities (pool_id, username_key);
