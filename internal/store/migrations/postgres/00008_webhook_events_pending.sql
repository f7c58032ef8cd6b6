-- +goose NO TRANSACTION
-- +goose Up
-- Inbound webhook events waiting to be applied, per integration in arrival order: the
-- apply_webhook_events job drains them from here (a few rows of a large table). Built
-- CONCURRENTLY so that adding it to a busy hub's table never blocks the webhooks coming in.
CREATE INDEX CONCURRENTLY IF NOT EXISTS webhook_events_pending ON webhook_events (integration_id, received_at, id) WHERE status = 'received';

-- +goose Down
DROP INDEX CONCURRENTLY IF EXISTS webhook_events_pending;
