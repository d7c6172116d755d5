-- Key rotation: each signing key has a signing window and a publication
-- window. Existing keys sign from their creation and are published until a
-- rotation replaces them.
ALTER TABLE signing_keys ADD COLUMN signs_from INTEGER NOT NULL DEFAULT 0;
ALTER TABLE signing_keys ADD COLUMN signs_until INTEGER;
ALTER TABLE signing_keys ADD COLUMN published_until INTEGER;
UPDATE signing_keys SET signs_from = created;
CREATE INDEX signing_keys_by_retirement ON signing_keys (published_until);
