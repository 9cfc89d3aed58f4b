-- Talk analytics: one row per session, written when its live room closes (internal/analytics).
-- The figures are what the replay and the progress pages show; the talk intervals (milliseconds
-- from the session's start, as the recording's manifest counts them) draw the replay's talk
-- timeline. Intervals are JSON arrays, kept compact: [[startMs, endMs], …] for each side, and
-- [[startMs, endMs, "rep" | "partner" | ""], …] for the overlaps with who interrupted.

-- +goose Up
CREATE TABLE talk_analytics (
    session_id                 TEXT PRIMARY KEY REFERENCES sessions (id) ON DELETE CASCADE,
    duration_ms                BIGINT NOT NULL, -- the analysed extent, from the session's start
    rep_measured               BOOLEAN NOT NULL, -- the rep's audio carried audio levels
    partner_measured           BOOLEAN NOT NULL,
    rep_talk_ms                BIGINT NOT NULL,
    partner_talk_ms            BIGINT NOT NULL,
    overlap_ms                 BIGINT NOT NULL,
    rep_interruptions          BIGINT NOT NULL,
    partner_interruptions      BIGINT NOT NULL,
    rep_monologue_start_ms     BIGINT NOT NULL, -- the rep's longest monologue; 0, 0: none
    rep_monologue_end_ms       BIGINT NOT NULL,
    partner_monologue_start_ms BIGINT NOT NULL,
    partner_monologue_end_ms   BIGINT NOT NULL,
    rep_intervals              TEXT NOT NULL,
    partner_intervals          TEXT NOT NULL,
    overlap_intervals          TEXT NOT NULL, -- "overlaps" is reserved in PostgreSQL
    updated_at                 BIGINT NOT NULL
);

-- +goose Down
DROP TABLE talk_analytics;
