-- +goose Up
-- Retention deletes history older than its window in small batches, oldest first: each batch
-- finds its rows through one of these indexes instead of reading the whole table. Webhook
-- events still waiting to be applied (status 'received') are never pruned, so they are left
-- out of the index and of every batch.
CREATE INDEX IF NOT EXISTS webhook_events_age ON webhook_events (received_at) WHERE status <> 'received';
CREATE INDEX IF NOT EXISTS webhook_deliveries_age ON webhook_deliveries (created_at);
CREATE INDEX IF NOT EXISTS timeline_age ON timeline (at);
CREATE INDEX IF NOT EXISTS sync_history_age ON sync_history (at);

-- +goose Down
DROP INDEX IF EXISTS sync_history_age;
DROP INDEX IF EXISTS timeline_age;
DROP INDEX IF EXISTS webhook_deliveries_age;
DROP INDEX IF EXISTS webhook_events_age;
