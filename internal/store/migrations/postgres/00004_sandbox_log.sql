-- +goose Up
-- The Sandbox POS commits every change before it answers: a change is one row of its tenant's
-- log; sandbox_state is the snapshot the log is compacted into, log_seq the last change it holds.
ALTER TABLE sandbox_state ADD COLUMN log_seq BIGINT NOT NULL DEFAULT 0;
CREATE TABLE sandbox_log (
    key_hash  TEXT NOT NULL,
    seq       BIGINT NOT NULL,
    entry     TEXT NOT NULL,
    PRIMARY KEY (key_hash, seq)
);
-- A sandbox tenant belongs to the account its key was minted for.
CREATE TABLE sandbox_tenants (
    key_hash    TEXT PRIMARY KEY,
    account_id  TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    key_hint    TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX sandbox_tenants_account ON sandbox_tenants (account_id);

-- +goose Down
DROP TABLE sandbox_tenants;
DROP TABLE sandbox_log;
ALTER TABLE sandbox_state DROP COLUMN log_seq;
