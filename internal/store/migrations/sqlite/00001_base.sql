-- +goose Up
CREATE TABLE accounts (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);

CREATE TABLE users (
    id             TEXT PRIMARY KEY,
    account_id     TEXT NOT NULL REFERENCES accounts(id),
    email          TEXT NOT NULL UNIQUE,
    role           TEXT NOT NULL,
    password_hash  TEXT NOT NULL,
    created_at     BIGINT NOT NULL
);
CREATE INDEX users_account ON users (account_id);

CREATE TABLE api_keys (
    id            TEXT PRIMARY KEY,
    account_id    TEXT NOT NULL REFERENCES accounts(id),
    name          TEXT NOT NULL,
    prefix        TEXT NOT NULL,
    hash          TEXT NOT NULL UNIQUE,
    created_at    BIGINT NOT NULL,
    last_used_at  BIGINT,
    revoked_at    BIGINT
);
CREATE INDEX api_keys_account ON api_keys (account_id);

CREATE TABLE sessions (
    token_hash  TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users(id),
    account_id  TEXT NOT NULL REFERENCES accounts(id),
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL
);

CREATE TABLE integrations (
    id                     TEXT PRIMARY KEY,
    account_id             TEXT NOT NULL REFERENCES accounts(id),
    type                   TEXT NOT NULL,
    nickname               TEXT NOT NULL DEFAULT '',
    status                 TEXT NOT NULL,
    status_reason          TEXT NOT NULL DEFAULT '',
    consecutive_failures   INTEGER NOT NULL DEFAULT 0,
    store_id               TEXT NOT NULL DEFAULT '',
    credentials            TEXT NOT NULL,
    webhook_secret         TEXT NOT NULL DEFAULT '',
    last_check_at          BIGINT,
    last_success_at        BIGINT,
    last_sales_check_at    BIGINT,
    last_sale_imported_at  BIGINT,
    next_check_at          BIGINT,
    created_at             BIGINT NOT NULL,
    updated_at             BIGINT NOT NULL,
    deactivated_at         BIGINT
);
CREATE INDEX integrations_account ON integrations (account_id, status);
CREATE INDEX integrations_due ON integrations (next_check_at);

CREATE TABLE integration_stores (
    integration_id  TEXT NOT NULL REFERENCES integrations(id),
    account_id      TEXT NOT NULL REFERENCES accounts(id),
    store_id        TEXT NOT NULL,
    name            TEXT NOT NULL,
    currency        TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (integration_id, store_id)
);

CREATE TABLE timeline (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id      TEXT NOT NULL REFERENCES accounts(id),
    at              BIGINT NOT NULL,
    kind            TEXT NOT NULL,
    integration_id  TEXT NOT NULL DEFAULT '',
    actor           TEXT NOT NULL,
    message         TEXT NOT NULL
);
CREATE INDEX timeline_account ON timeline (account_id, id);

CREATE TABLE webhook_endpoints (
    id           TEXT PRIMARY KEY,
    account_id   TEXT NOT NULL REFERENCES accounts(id),
    url          TEXT NOT NULL,
    description  TEXT NOT NULL DEFAULT '',
    events       TEXT NOT NULL DEFAULT '[]',
    secret       TEXT NOT NULL,
    created_at   BIGINT NOT NULL
);
CREATE INDEX webhook_endpoints_account ON webhook_endpoints (account_id);

CREATE TABLE webhook_deliveries (
    id            TEXT PRIMARY KEY,
    account_id    TEXT NOT NULL REFERENCES accounts(id),
    endpoint_id   TEXT NOT NULL,
    event_type    TEXT NOT NULL,
    status        TEXT NOT NULL,
    attempts      INTEGER NOT NULL DEFAULT 0,
    last_status   INTEGER NOT NULL DEFAULT 0,
    last_error    TEXT NOT NULL DEFAULT '',
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);
CREATE INDEX webhook_deliveries_account ON webhook_deliveries (account_id, created_at);

CREATE TABLE sandbox_state (
    key_hash    TEXT PRIMARY KEY,
    state       TEXT NOT NULL,
    updated_at  BIGINT NOT NULL
);

-- +goose Down
DROP TABLE sandbox_state;
DROP TABLE webhook_deliveries;
DROP TABLE webhook_endpoints;
DROP TABLE timeline;
DROP TABLE integration_stores;
DROP TABLE integrations;
DROP TABLE sessions;
DROP TABLE api_keys;
DROP TABLE users;
DROP TABLE accounts;
