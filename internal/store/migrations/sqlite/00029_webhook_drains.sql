-- +goose Up
-- An integration has a row here while an apply_webhook_events job of its is queued or running and
-- has not yet made its drain's last look: the webhook intake then needs no job insert of its own
-- (River's unique insert would wait on the other intake transaction inserting the same job).
CREATE TABLE IF NOT EXISTS webhook_drains (
    integration_id TEXT PRIMARY KEY
);

-- +goose Down
DROP TABLE IF EXISTS webhook_drains;
