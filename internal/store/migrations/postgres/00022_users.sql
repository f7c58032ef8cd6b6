-- +goose Up
-- Console users get a name, an invitation state and deactivation; one-time links (invitations
-- and password resets) are kept by their token's hash until used or expired.
ALTER TABLE users ADD COLUMN name TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN invited_by TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN activated_at BIGINT;
ALTER TABLE users ADD COLUMN deactivated_at BIGINT;
UPDATE users SET activated_at = created_at;

CREATE TABLE user_tokens (
    token_hash  TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users(id),
    account_id  TEXT NOT NULL REFERENCES accounts(id),
    kind        TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    used_at     BIGINT
);
CREATE INDEX user_tokens_user ON user_tokens (user_id);
CREATE INDEX sessions_user ON sessions (user_id);

-- +goose Down
DROP INDEX sessions_user;
DROP TABLE user_tokens;
ALTER TABLE users DROP COLUMN deactivated_at;
ALTER TABLE users DROP COLUMN activated_at;
ALTER TABLE users DROP COLUMN invited_by;
ALTER TABLE users DROP COLUMN name;
