-- +goose NO TRANSACTION
-- +goose Up
-- Retention deletes history older than its window in small batches, oldest first: each batch
-- finds its rows through one of these indexes instead of reading the whole table. Built
-- CONCURRENTLY so that adding them to a busy hub's large tables never blocks writes.
-- Webhook events still waiting to be applied (status 'received') are never pruned, so they are
-- left out of the index and of every batch.
CREATE INDEX CONCURRENTLY IF NOT EXISTS webhook_events_age ON webhook_events (received_at) WHERE status <> 'received';
CREATE INDEX CONCURRENTLY IF NOT EXISTS webhook_deliveries_age ON webhook_deliveries (created_at);
CREATE INDEX CONCURRENTLY IF NOT EXISTS timeline_age ON timeline (at);
CREATE INDEX CONCURRENTLY IF NOT EXISTS sync_history_age ON sync_history (at);

-- +goose Down
DROP INDEX CONCURRENTLY IF EXISTS sync_history_age;
DROP INDEX CONCURRENTLY IF EXISTS timeline_age;
DROP INDEX CONCURRENTLY IF EXISTS webhook_deliveries_age;
DROP INDEX CONCURRENTLY IF EXISTS webhook_events_age;
