-- +goose Up
-- The overview's chart of sync activity reads one account's last 7 days of sync history.
CREATE INDEX sync_history_account_at ON sync_history (account_id, at);

-- +goose Down
DROP INDEX sync_history_account_at;
