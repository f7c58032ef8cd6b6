-- +goose NO TRANSACTION
-- +goose Up
-- An integration's webhook events in arrival order ("View Webhook", counts), without account_id in
-- front: integration ids are unique, and an index that starts with account_id led PostgreSQL to
-- finish a batch of applied events (UPDATE ... FROM unnest(ids) WHERE account_id = $1 AND id = ...)
-- by reading every event of the account and hash-joining them, a cost that grew with each event
-- stored. Without it, the only way in is the primary key: one look-up per event. Built CONCURRENTLY
-- so that a busy hub's webhooks keep coming in meanwhile.
CREATE INDEX CONCURRENTLY IF NOT EXISTS webhook_events_integration ON webhook_events (integration_id, received_at, id);
DROP INDEX CONCURRENTLY IF EXISTS webhook_events_list;

-- +goose Down
CREATE INDEX CONCURRENTLY IF NOT EXISTS webhook_events_list ON webhook_events (account_id, integration_id, received_at);
DROP INDEX CONCURRENTLY IF EXISTS webhook_events_integration;
