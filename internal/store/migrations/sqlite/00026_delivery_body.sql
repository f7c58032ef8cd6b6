-- +goose Up
-- Outbound webhook deliveries keep their signed body (for "redeliver") and when the next
-- automatic attempt is due; listed per endpoint, newest first.
ALTER TABLE webhook_deliveries ADD COLUMN body TEXT NOT NULL DEFAULT '';
ALTER TABLE webhook_deliveries ADD COLUMN next_attempt_at BIGINT;
CREATE INDEX IF NOT EXISTS webhook_deliveries_endpoint ON webhook_deliveries (account_id, endpoint_id, created_at);

-- +goose Down
DROP INDEX IF EXISTS webhook_deliveries_endpoint;
ALTER TABLE webhook_deliveries DROP COLUMN next_attempt_at;
ALTER TABLE webhook_deliveries DROP COLUMN body;
