-- Refresh token rotation: a rotated-out token is refused from `rotated_until`
-- (the end of its client's retry grace period); a rotation family shares
-- its sign-in's `origin_jti`, and revoking one token revokes the family.
ALTER TABLE refresh_tokens ADD COLUMN rotated_until BIGINT;
CREATE INDEX refresh_tokens_by_origin ON refresh_tokens (pool_id, origin_jti);
