-- People and sign-in: users with a role, teams, one-time magic links, browser sessions and API
-- keys. As in 00001, instants are BIGINT Unix milliseconds and every secret is stored as the
-- hex SHA-256 of a random token (store.HashToken), never the token itself.

-- +goose Up
CREATE TABLE users (
    id          TEXT PRIMARY KEY,
    email       TEXT NOT NULL UNIQUE, -- lower-cased by the caller
    name        TEXT NOT NULL,
    role        TEXT NOT NULL CHECK (role IN ('admin', 'coach', 'rep')),
    created_at  BIGINT NOT NULL,
    disabled_at BIGINT
);

CREATE TABLE teams (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL
);

CREATE TABLE team_members (
    team_id TEXT NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    PRIMARY KEY (team_id, user_id)
);
CREATE INDEX team_members_user_id ON team_members (user_id);

CREATE TABLE magic_links (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at    BIGINT
);
CREATE INDEX magic_links_user_id ON magic_links (user_id);

CREATE TABLE user_sessions (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash   TEXT NOT NULL UNIQUE,
    user_agent   TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    revoked_at   BIGINT
);
CREATE INDEX user_sessions_user_id ON user_sessions (user_id);

CREATE TABLE api_keys (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    prefix       TEXT NOT NULL, -- the first characters of the key, to tell keys apart
    token_hash   TEXT NOT NULL UNIQUE,
    created_at   BIGINT NOT NULL,
    last_used_at BIGINT,
    revoked_at   BIGINT
);
CREATE INDEX api_keys_user_id ON api_keys (user_id);

-- +goose Down
DROP TABLE api_keys;
DROP TABLE user_sessions;
DROP TABLE magic_links;
DROP TABLE team_members;
DROP TABLE teams;
DROP TABLE users;
