-- Ringside's initial schema. It is written once for both engines, so it uses only the types
-- that mean the same on SQLite and PostgreSQL: TEXT, BIGINT and BOOLEAN. Every instant is a
-- BIGINT of Unix milliseconds in UTC (see times.go for why). References to a participant or an
-- invite are nullable because some rows have none; the store maps NULL to "" and back.

-- +goose Up
CREATE TABLE settings (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE sessions (
    id           TEXT PRIMARY KEY,
    title        TEXT NOT NULL,
    rep_name     TEXT NOT NULL,
    partner_name TEXT NOT NULL,
    state        TEXT NOT NULL CHECK (state IN ('created', 'live', 'ended', 'interrupted')),
    recorded     BOOLEAN NOT NULL DEFAULT FALSE,
    created_at   BIGINT NOT NULL,
    started_at   BIGINT,
    ended_at     BIGINT
);
CREATE INDEX sessions_created_at ON sessions (created_at);
CREATE INDEX sessions_state ON sessions (state);

CREATE TABLE invites (
    id         TEXT PRIMARY KEY,
    session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    role       TEXT NOT NULL CHECK (role IN ('rep', 'partner', 'coach')),
    name       TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    expires_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX invites_session_id ON invites (session_id);

CREATE TABLE participants (
    id         TEXT PRIMARY KEY,
    session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    invite_id  TEXT REFERENCES invites (id) ON DELETE SET NULL,
    role       TEXT NOT NULL,
    name       TEXT NOT NULL,
    joined_at  BIGINT NOT NULL,
    left_at    BIGINT
);
CREATE INDEX participants_session_id ON participants (session_id);

CREATE TABLE tracks (
    id             TEXT PRIMARY KEY,
    session_id     TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    participant_id TEXT REFERENCES participants (id) ON DELETE SET NULL,
    role           TEXT NOT NULL,
    kind           TEXT NOT NULL CHECK (kind IN ('audio', 'video')),
    codec          TEXT NOT NULL,
    whisper        BOOLEAN NOT NULL DEFAULT FALSE,
    file           TEXT NOT NULL,
    started_at     BIGINT NOT NULL,
    ended_at       BIGINT,
    offset_ms      BIGINT NOT NULL,
    duration_ms    BIGINT NOT NULL,
    status         TEXT NOT NULL
);
CREATE INDEX tracks_session_id ON tracks (session_id);

CREATE TABLE mode_changes (
    id             TEXT PRIMARY KEY,
    session_id     TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    participant_id TEXT REFERENCES participants (id) ON DELETE SET NULL,
    mode           TEXT NOT NULL,
    target         TEXT NOT NULL,
    at             BIGINT NOT NULL,
    offset_ms      BIGINT NOT NULL
);
CREATE INDEX mode_changes_session_id ON mode_changes (session_id);

CREATE TABLE markers (
    id             TEXT PRIMARY KEY,
    session_id     TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    participant_id TEXT REFERENCES participants (id) ON DELETE SET NULL,
    note           TEXT NOT NULL,
    at             BIGINT NOT NULL,
    offset_ms      BIGINT NOT NULL
);
CREATE INDEX markers_session_id ON markers (session_id);

CREATE TABLE comments (
    id         TEXT PRIMARY KEY,
    session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    author     TEXT NOT NULL,
    text       TEXT NOT NULL,
    offset_ms  BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX comments_session_id ON comments (session_id);

-- +goose Down
DROP TABLE comments;
DROP TABLE markers;
DROP TABLE mode_changes;
DROP TABLE tracks;
DROP TABLE participants;
DROP TABLE invites;
DROP TABLE sessions;
DROP TABLE settings;
