-- +goose Up
-- Inbound webhook events acknowledged without being stored: the product, stock and customer
-- events of an integration that is not its account's catalog source (a web shop posbridge pushes
-- to echoes every product it creates), which nothing acts on. Counted per integration and topic so
-- that "View Webhook" can say how many were ignored and when the last came.
CREATE TABLE IF NOT EXISTS webhook_events_ignored (
    integration_id TEXT NOT NULL,
    topic TEXT NOT NULL,
    account_id TEXT NOT NULL,
    count BIGINT NOT NULL DEFAULT 0,
    last_at BIGINT NOT NULL,
    PRIMARY KEY (integration_id, topic)
);

-- +goose Down
DROP TABLE IF EXISTS webhook_events_ignored;
