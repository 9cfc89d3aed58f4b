-- Integrations and oversight: webhook subscriptions with their delivery log, and the audit log
-- of coaches' monitoring. The audit log refers to sessions and participants by id without
-- foreign keys, so that an entry outlives what it names.

-- +goose Up
CREATE TABLE webhooks (
    id         TEXT PRIMARY KEY,
    url        TEXT NOT NULL,
    secret     TEXT NOT NULL, -- the HMAC key; kept as is, since signing needs it
    events     TEXT NOT NULL, -- comma-separated event types
    created_by TEXT REFERENCES users (id) ON DELETE SET NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE webhook_deliveries (
    id           TEXT PRIMARY KEY,
    webhook_id   TEXT NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    event_id     TEXT NOT NULL,
    event        TEXT NOT NULL,
    payload      TEXT NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed', 'dropped')),
    attempts     BIGINT NOT NULL,
    last_code    BIGINT NOT NULL, -- HTTP status of the last attempt, 0 if none came back
    last_error   TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    delivered_at BIGINT
);
CREATE INDEX webhook_deliveries_webhook_id ON webhook_deliveries (webhook_id, created_at);

CREATE TABLE audit_log (
    id          TEXT PRIMARY KEY,
    at          BIGINT NOT NULL,
    session_id  TEXT NOT NULL,
    actor_id    TEXT NOT NULL,
    actor_name  TEXT NOT NULL,
    action      TEXT NOT NULL,
    target_id   TEXT NOT NULL,
    target_name TEXT NOT NULL,
    detail      TEXT NOT NULL
);
CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_session_id ON audit_log (session_id, at);

-- +goose Down
DROP TABLE audit_log;
DROP TABLE webhook_deliveries;
DROP TABLE webhooks;
