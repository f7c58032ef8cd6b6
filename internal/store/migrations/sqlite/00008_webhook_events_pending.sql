-- +goose Up
-- Inbound webhook events waiting to be applied, per integration in arrival order: the
-- apply_webhook_events job drains them from here (a few rows of a large table).
CREATE INDEX IF NOT EXISTS webhook_events_pending ON webhook_events (integration_id, received_at, id) WHERE status = 'received';

-- +goose Down
DROP INDEX IF EXISTS webhook_events_pending;
