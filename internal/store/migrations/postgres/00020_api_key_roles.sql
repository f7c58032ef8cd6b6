-- +goose Up
-- An API key acts with a role (a preset: admin = Store Admin, manager, staff; or a custom role's
-- id). Keys made before roles existed act as Store Admin, as they could do everything.
ALTER TABLE api_keys ADD COLUMN role TEXT NOT NULL DEFAULT 'admin';
CREATE INDEX api_keys_account_created ON api_keys (account_id, created_at);

-- +goose Down
DROP INDEX api_keys_account_created;
ALTER TABLE api_keys DROP COLUMN role;
