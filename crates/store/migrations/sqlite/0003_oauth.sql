-- Pool domains (hosted UI / OAuth endpoints) and resource servers.
CREATE TABLE pool_domains (
    domain  TEXT PRIMARY KEY,
    pool_id TEXT NOT NULL REFERENCES user_pools(id) ON DELETE CASCADE,
    data    TEXT NOT NULL
);
CREATE INDEX pool_domains_by_pool ON pool_domains (pool_id);

CREATE TABLE resource_servers (
    pool_id    TEXT NOT NULL REFERENCES user_pools(id) ON DELETE CASCADE,
    identifier TEXT NOT NULL,
    data       TEXT NOT NULL,
    PRIMARY KEY (pool_id, identifier)
);
