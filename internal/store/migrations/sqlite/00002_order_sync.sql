-- +goose Up
CREATE TABLE documents (
    account_id       TEXT NOT NULL REFERENCES accounts(id),
    kind             TEXT NOT NULL,
    ref              TEXT NOT NULL,
    status           TEXT NOT NULL,
    content          TEXT NOT NULL,
    hash             TEXT NOT NULL,
    version          BIGINT NOT NULL,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL,
    sync_status      TEXT NOT NULL DEFAULT 'not_sent',
    integration_id   TEXT NOT NULL DEFAULT '',
    external_id      TEXT NOT NULL DEFAULT '',
    external_url     TEXT NOT NULL DEFAULT '',
    auto_sync        INTEGER NOT NULL DEFAULT 1,
    last_synced_at   BIGINT,
    last_error       TEXT NOT NULL DEFAULT '',
    synced_version   BIGINT NOT NULL DEFAULT 0,
    generation       INTEGER NOT NULL DEFAULT 0,
    sync_action      TEXT NOT NULL DEFAULT '',
    lease_until      BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (account_id, kind, ref)
);
CREATE INDEX documents_external ON documents (integration_id, external_id);
CREATE INDEX documents_list ON documents (account_id, kind, updated_at);

CREATE TABLE sync_history (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id   TEXT NOT NULL REFERENCES accounts(id),
    kind         TEXT NOT NULL,
    ref          TEXT NOT NULL,
    at           BIGINT NOT NULL,
    action       TEXT NOT NULL,
    outcome      TEXT NOT NULL,
    summary      TEXT NOT NULL DEFAULT '',
    error        TEXT NOT NULL DEFAULT ''
);
CREATE INDEX sync_history_doc ON sync_history (account_id, kind, ref, id);

CREATE TABLE order_sync_settings (
    account_id  TEXT PRIMARY KEY REFERENCES accounts(id),
    settings    TEXT NOT NULL,
    updated_at  BIGINT NOT NULL
);

CREATE TABLE webhook_events (
    id                 TEXT PRIMARY KEY,
    account_id         TEXT NOT NULL REFERENCES accounts(id),
    integration_id     TEXT NOT NULL,
    provider_event_id  TEXT NOT NULL,
    type               TEXT NOT NULL,
    topic              TEXT NOT NULL,
    object_id          TEXT NOT NULL,
    status             TEXT NOT NULL,
    reason             TEXT NOT NULL DEFAULT '',
    payload            TEXT NOT NULL DEFAULT '',
    received_at        BIGINT NOT NULL,
    processed_at       BIGINT,
    UNIQUE (integration_id, provider_event_id)
);
CREATE INDEX webhook_events_list ON webhook_events (account_id, integration_id, received_at);

ALTER TABLE integrations ADD COLUMN webhook_subscription_id TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE integrations DROP COLUMN webhook_subscription_id;
DROP TABLE webhook_events;
DROP TABLE order_sync_settings;
DROP TABLE sync_history;
DROP TABLE documents;
