-- +goose Up
-- Login attempts counted per key ("email:<address>" or "addr:<client address>") in a fixed
-- window, shared by every posbridge process on the database. An attempt is claimed (counted)
-- before the password is checked, so concurrent guesses cannot slip past the limit.
CREATE TABLE login_throttle (
    key           TEXT PRIMARY KEY,
    window_start  BIGINT NOT NULL,
    attempts      INTEGER NOT NULL
);
CREATE INDEX login_throttle_window ON login_throttle (window_start);

-- +goose Down
DROP TABLE login_throttle;
