-- Whose a session is: the rep user it is for (rep_id) and the user who created it (created_by),
-- so that the session API shows a rep their own sessions and a coach those of their reps and
-- their own (docs/api.md, "Who sees what"). Both are NULL where nobody is known: sessions the
-- admin token created for no one, and those made before this migration. A session handed in
-- for assignments of one rep only, before this, is that rep's.

-- +goose Up
ALTER TABLE sessions ADD COLUMN rep_id TEXT REFERENCES users (id) ON DELETE SET NULL;
ALTER TABLE sessions ADD COLUMN created_by TEXT REFERENCES users (id) ON DELETE SET NULL;
CREATE INDEX sessions_rep_id ON sessions (rep_id);
CREATE INDEX sessions_created_by ON sessions (created_by);
UPDATE sessions SET rep_id = (
    SELECT MIN(a.rep_id) FROM assignments a WHERE a.session_id = sessions.id
) WHERE rep_id IS NULL
  AND (SELECT COUNT(DISTINCT a.rep_id) FROM assignments a WHERE a.session_id = sessions.id) = 1;

-- +goose Down
DROP INDEX sessions_created_by;
DROP INDEX sessions_rep_id;
ALTER TABLE sessions DROP COLUMN created_by;
ALTER TABLE sessions DROP COLUMN rep_id;
