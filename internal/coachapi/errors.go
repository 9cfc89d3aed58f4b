package coachapi

import (
	"errors"
	"fmt"
	"net/http"

	"ringside/internal/audit"
	"ringside/internal/people"
	"ringside/internal/store"
	"ringside/internal/webhook"
)

// Sentinel errors of the HTTP edge itself. The domain packages bring their own kinds
// (people.ErrNotFound and the rest); classify maps both.
var (
	errBadRequest       = errors.New("bad request")
	errNotFound         = errors.New("not found")
	errMethodNotAllowed = errors.New("method not allowed")
	errTooLarge         = errors.New("request body too large")
)

// Error codes of the JSON error body, the same as the session API's plus forbidden. They are
// stable: clients may switch on them.
const (
	CodeBadRequest       = "bad_request"
	CodeUnauthorized     = "unauthorized"
	CodeForbidden        = "forbidden"
	CodeNotFound         = "not_found"
	CodeMethodNotAllowed = "method_not_allowed"
	CodeConflict         = "conflict"
	CodeTooLarge         = "too_large"
	CodeInternal         = "internal"
)

// requestError is an HTTP-edge error whose message is safe to show.
type requestError struct {
	kind error
	msg  string
}

func (e *requestError) Error() string { return e.msg }
func (e *requestError) Unwrap() error { return e.kind }

func badRequest(format string, args ...any) error {
	return &requestError{kind: errBadRequest, msg: fmt.Sprintf(format, args...)}
}

// errorMapping is one row of the table that turns errors into HTTP responses.
type errorMapping struct {
	err     error
	status  int
	code    string
	message string // shown when the error carries no client-safe message
	ownText bool   // the error's own text is client-safe
}

// errorTable is the only place where errors meet status codes. Order matters: the first row
// the error matches wins.
var errorTable = [...]errorMapping{
	{errBadRequest, http.StatusBadRequest, CodeBadRequest, "bad request", false},
	{people.ErrInvalid, http.StatusBadRequest, CodeBadRequest, "invalid request", false},
	{webhook.ErrInvalid, http.StatusBadRequest, CodeBadRequest, "invalid webhook", true},
	{audit.ErrInvalid, http.StatusBadRequest, CodeBadRequest, "invalid setting", true},
	{store.ErrInvalid, http.StatusBadRequest, CodeBadRequest, "invalid request", false},
	{people.ErrUnauthenticated, http.StatusUnauthorized, CodeUnauthorized, "sign in first", false},
	{people.ErrForbidden, http.StatusForbidden, CodeForbidden, "forbidden", false},
	{errNotFound, http.StatusNotFound, CodeNotFound, "not found", false},
	{people.ErrNotFound, http.StatusNotFound, CodeNotFound, "not found", false},
	{store.ErrNotFound, http.StatusNotFound, CodeNotFound, "not found", false},
	{errMethodNotAllowed, http.StatusMethodNotAllowed, CodeMethodNotAllowed, "method not allowed", false},
	{people.ErrConflict, http.StatusConflict, CodeConflict, "conflict", false},
	{store.ErrConflict, http.StatusConflict, CodeConflict, "conflict", false},
	{errTooLarge, http.StatusRequestEntityTooLarge, CodeTooLarge, fmt.Sprintf("request body exceeds %d bytes", maxBodyBytes), false},
}

// classify maps err to its status, code and client-facing message. Anything unknown is a 500
// whose message says nothing of the cause; the caller logs the real error.
func classify(err error) (status int, code, message string) {
	for _, m := range errorTable {
		if !errors.Is(err, m.err) {
			continue
		}
		message = m.message
		if re, ok := errors.AsType[*requestError](err); ok {
			message = re.msg
		} else if pe, ok := errors.AsType[*people.Error](err); ok {
			message = pe.Message
		} else if m.ownText {
			message = err.Error()
		}
		return m.status, m.code, message
	}
	return http.StatusInternalServerError, CodeInternal, "internal error"
}
