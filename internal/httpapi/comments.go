package httpapi

import (
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"ringside/internal/store"
)

// Comments are the coach's (or the admin's) timestamped feedback on a recorded session; the
// session's rep reads them in the replay. See docs/api.md, "Comments".

// listComments answers GET /api/sessions/{id}/comments, in recording order.
func (a *api) listComments(w http.ResponseWriter, r *http.Request, c Caller) error {
	id := r.PathValue("id")
	if _, _, err := a.sessionViewer(r.Context(), c, id); err != nil {
		return err
	}
	comments, err := a.store.Comments(r.Context(), id)
	if err != nil {
		return fmt.Errorf("session %s comments: %w", id, err)
	}
	writeJSON(w, http.StatusOK, CommentList{Comments: convert(comments, commentFrom)})
	return nil
}

// addComment answers POST /api/sessions/{id}/comments: the coach or the admin pins a note to
// a time of the recording, signed with their name. A rep reads comments but does not write
// them.
func (a *api) addComment(w http.ResponseWriter, r *http.Request, c Caller) error {
	id := r.PathValue("id")
	v, _, err := a.sessionViewer(r.Context(), c, id)
	if err != nil {
		return err
	}
	if !v.canComment() {
		return forbidden("only the coach or the admin writes comments")
	}
	var req AddCommentRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	text := strings.TrimSpace(req.Text)
	switch {
	case req.OffsetMs == nil:
		return badRequest("offsetMs is required")
	case *req.OffsetMs < 0 || *req.OffsetMs > maxCommentOffsetMs:
		return badRequest("offsetMs must be from 0 to %d", maxCommentOffsetMs)
	case text == "":
		return badRequest("text is required")
	case utf8.RuneCountInString(text) > maxCommentRunes:
		return badRequest("text is longer than %d characters", maxCommentRunes)
	}
	cid, err := newID()
	if err != nil {
		return err
	}
	cm := store.Comment{
		ID:        cid,
		SessionID: id,
		Author:    v.name,
		Text:      text,
		OffsetMs:  *req.OffsetMs,
		CreatedAt: a.now().UTC().Truncate(time.Millisecond),
	}
	if err := a.store.AddComment(r.Context(), cm); err != nil {
		return fmt.Errorf("add comment to %s: %w", id, err)
	}
	a.log.Info("comment added", "session", id, "by", v.role, "user", c.UserID, "offset_ms", cm.OffsetMs)
	writeJSON(w, http.StatusCreated, commentFrom(cm))
	return nil
}
