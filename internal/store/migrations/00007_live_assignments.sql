-- The call set up for a live assignment (POST /api/assignments/{id}/live): the session made for
-- its rep, with rep, partner and coach invites. When that session ends, the assignment is
-- handed in with it (docs/coaching.md, "Assignments"). NULL until a call is set up; a session
-- belongs to one assignment at most. Deleting the session unlinks it.

-- +goose Up
ALTER TABLE assignments ADD COLUMN live_session_id TEXT REFERENCES sessions (id) ON DELETE SET NULL;
CREATE UNIQUE INDEX assignments_live_session_id ON assignments (live_session_id);

-- +goose Down
DROP INDEX assignments_live_session_id;
ALTER TABLE assignments DROP COLUMN live_session_id;
