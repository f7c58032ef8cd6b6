-- +goose Up
-- Inbound webhook events no longer check account_id against accounts: the intake takes it from the
-- verified integration's own row (which does reference accounts, and accounts are never deleted),
-- and the check was a trigger query per event plus a KEY SHARE lock on the account's row taken by
-- every intake transaction (8% of the database's CPU at a few thousand webhooks a second).
ALTER TABLE webhook_events DROP CONSTRAINT IF EXISTS webhook_events_account_id_fkey;

-- +goose Down
ALTER TABLE webhook_events ADD CONSTRAINT webhook_events_account_id_fkey FOREIGN KEY (account_id) REFERENCES accounts(id) NOT VALID;
