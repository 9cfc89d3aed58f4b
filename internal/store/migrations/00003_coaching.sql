-- Coaching cadence: scorecards (weighted criteria), scenarios (role-play briefs), assignments
-- of a scenario to a rep with a due date and an optional recurrence, and the scores coaches
-- give. A reference to a user who acted (created_by, claimed_by, reviewed_by, coach_id) is
-- NULL when the admin token acted, which has no user; the store maps NULL to "".

-- +goose Up
CREATE TABLE scorecards (
    id         TEXT PRIMARY KEY,
    title      TEXT NOT NULL,
    created_by TEXT REFERENCES users (id) ON DELETE SET NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE scorecard_criteria (
    id           TEXT PRIMARY KEY,
    scorecard_id TEXT NOT NULL REFERENCES scorecards (id) ON DELETE CASCADE,
    position     BIGINT NOT NULL,
    label        TEXT NOT NULL,
    description  TEXT NOT NULL,
    kind         TEXT NOT NULL CHECK (kind IN ('rating', 'yesno', 'comment')),
    weight       BIGINT NOT NULL CHECK (weight >= 0)
);
CREATE INDEX scorecard_criteria_scorecard_id ON scorecard_criteria (scorecard_id);

CREATE TABLE scenarios (
    id              TEXT PRIMARY KEY,
    title           TEXT NOT NULL,
    persona         TEXT NOT NULL,
    objections      TEXT NOT NULL, -- a JSON array of strings
    good_looks_like TEXT NOT NULL,
    scorecard_id    TEXT REFERENCES scorecards (id) ON DELETE SET NULL,
    created_by      TEXT REFERENCES users (id) ON DELETE SET NULL,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);

CREATE TABLE assignments (
    id               TEXT PRIMARY KEY,
    series_id        TEXT NOT NULL, -- shared by the instances of one recurring assignment
    scenario_id      TEXT NOT NULL REFERENCES scenarios (id) ON DELETE CASCADE,
    rep_id           TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    assigned_by      TEXT REFERENCES users (id) ON DELETE SET NULL,
    mode             TEXT NOT NULL CHECK (mode IN ('live', 'solo')),
    recurrence       TEXT NOT NULL CHECK (recurrence IN ('none', 'weekly', 'biweekly')),
    state            TEXT NOT NULL CHECK (state IN ('assigned', 'submitted', 'reviewed')),
    due_at           BIGINT NOT NULL,
    session_id       TEXT REFERENCES sessions (id) ON DELETE SET NULL,
    submitted_at     BIGINT,
    claimed_by       TEXT REFERENCES users (id) ON DELETE SET NULL,
    claimed_at       BIGINT,
    reviewed_by      TEXT REFERENCES users (id) ON DELETE SET NULL,
    reviewed_at      BIGINT,
    next_created     BOOLEAN NOT NULL DEFAULT FALSE, -- the next instance of the series exists
    overdue_notified BOOLEAN NOT NULL DEFAULT FALSE, -- assignment.overdue has been emitted
    created_at       BIGINT NOT NULL
);
CREATE INDEX assignments_rep_id ON assignments (rep_id);
CREATE INDEX assignments_state_submitted ON assignments (state, submitted_at);
CREATE INDEX assignments_due_at ON assignments (due_at);

CREATE TABLE scores (
    id            TEXT PRIMARY KEY,
    scorecard_id  TEXT NOT NULL REFERENCES scorecards (id) ON DELETE CASCADE,
    session_id    TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    rep_id        TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    coach_id      TEXT REFERENCES users (id) ON DELETE SET NULL,
    assignment_id TEXT REFERENCES assignments (id) ON DELETE SET NULL,
    created_at    BIGINT NOT NULL
);
CREATE INDEX scores_scorecard_id ON scores (scorecard_id, rep_id);

CREATE TABLE score_ratings (
    score_id     TEXT NOT NULL REFERENCES scores (id) ON DELETE CASCADE,
    criterion_id TEXT NOT NULL REFERENCES scorecard_criteria (id) ON DELETE CASCADE,
    value        BIGINT, -- 1-5 for a rating, 1 or 0 for yes/no, NULL for a comment
    comment      TEXT NOT NULL,
    PRIMARY KEY (score_id, criterion_id)
);

-- +goose Down
DROP TABLE score_ratings;
DROP TABLE scores;
DROP TABLE assignments;
DROP TABLE scenarios;
DROP TABLE scorecard_criteria;
DROP TABLE scorecards;
