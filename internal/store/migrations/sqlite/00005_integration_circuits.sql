-- +goose Up
-- The circuit breaker of each integration's provider calls, shared by every worker process:
-- after repeated timeouts or 5xx answers the circuit opens and the integration's jobs wait until
-- next_attempt_at instead of holding a worker; then one trial call, claimed here, decides.
CREATE TABLE integration_circuits (
    integration_id       TEXT PRIMARY KEY REFERENCES integrations(id) ON DELETE CASCADE,
    account_id           TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    state                TEXT NOT NULL DEFAULT 'closed',
    reason               TEXT NOT NULL DEFAULT '',
    message              TEXT NOT NULL DEFAULT '',
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    opened_at            BIGINT,
    next_attempt_at      BIGINT,
    open_for             BIGINT NOT NULL DEFAULT 0,
    updated_at           BIGINT NOT NULL
);
CREATE INDEX integration_circuits_account ON integration_circuits (account_id);

-- +goose Down
DROP TABLE integration_circuits;
