-- +goose Up
-- A document whose push failed while automatic retries are still due is 'retrying': when the
-- next attempt is due and which attempt of how many it is, for the sync dialog and the API.
ALTER TABLE documents ADD COLUMN next_attempt_at BIGINT;
ALTER TABLE documents ADD COLUMN attempt INTEGER NOT NULL DEFAULT 0;
ALTER TABLE documents ADD COLUMN max_attempts INTEGER NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE documents DROP COLUMN max_attempts;
ALTER TABLE documents DROP COLUMN attempt;
ALTER TABLE documents DROP COLUMN next_attempt_at;
