-- App clients are written by compare-and-swap on a version, as pools and
-- users are: concurrent changes of one client (secrets, settings) retry
-- instead of overwriting each other.
ALTER TABLE app_clients ADD COLUMN version BIGINT NOT NULL DEFAULT 0;
