-- +goose Up
-- An integration's webhook events in arrival order ("View Webhook", counts), without account_id in
-- front (integration ids are unique): the same index as on PostgreSQL, where one that starts with
-- account_id made finishing a batch of applied events read every event of the account.
CREATE INDEX IF NOT EXISTS webhook_events_integration ON webhook_events (integration_id, received_at, id);
DROP INDEX IF EXISTS webhook_events_list;

-- +goose Down
CREATE INDEX IF NOT EXISTS webhook_events_list ON webhook_events (account_id, integration_id, received_at);
DROP INDEX IF EXISTS webhook_events_integration;
