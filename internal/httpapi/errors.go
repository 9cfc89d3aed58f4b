package httpapi

import (
	"errors"
	"fmt"
	"net/http"

	"ringside/internal/store"
)

// Sentinel errors of the HTTP edge. Handlers wrap them (see requestError) so that the one
// table in classify turns any error into a status, a stable code and a message.
var (
	errBadRequest       = errors.New("bad request")
	errUnauthorized     = errors.New("unauthorized")
	errForbidden        = errors.New("forbidden")
	errNotFound         = errors.New("not found")
	errMethodNotAllowed = errors.New("method not allowed")
	errConflict         = errors.New("conflict")
	errTooLarge         = errors.New("request body too large")
	errUnavailable      = errors.New("unavailable")
)

// Error codes of the JSON error body. They are stable: clients may switch on them.
const (
	CodeBadRequest       = "bad_request"
	CodeUnauthorized     = "unauthorized"
	CodeForbidden        = "forbidden"
	CodeNotFound         = "not_found"
	CodeMethodNotAllowed = "method_not_allowed"
	CodeConflict         = "conflict"
	CodeTooLarge         = "too_large"
	CodeUnavailable      = "unavailable"
	CodeInternal         = "internal"
)

// requestError is an error whose message is safe to show to the client. kind is one of the
// sentinels above (or a store sentinel) and decides the status.
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
	message string // shown when the error carries no client-safe message of its own
}

// classify maps err to its HTTP status, code and client-facing message. This is the only
// place where store and HTTP-edge errors meet status codes. Anything unknown is a 500 whose
// message says nothing of the cause; the caller logs the real error.
func classify(err error) (status int, code, message string) {
	table := [...]errorMapping{
		{errBadRequest, http.StatusBadRequest, CodeBadRequest, "bad request"},
		{store.ErrInvalid, http.StatusBadRequest, CodeBadRequest, "invalid request"},
		{errUnauthorized, http.StatusUnauthorized, CodeUnauthorized, "a valid admin token is required (Authorization: Bearer <token>)"},
		{errForbidden, http.StatusForbidden, CodeForbidden, "forbidden"},
		{errNotFound, http.StatusNotFound, CodeNotFound, "not found"},
		{store.ErrNotFound, http.StatusNotFound, CodeNotFound, "not found"},
		{errMethodNotAllowed, http.StatusMethodNotAllowed, CodeMethodNotAllowed, "method not allowed"},
		{errConflict, http.StatusConflict, CodeConflict, "conflict"},
		{store.ErrConflict, http.StatusConflict, CodeConflict, "conflict"},
		{errTooLarge, http.StatusRequestEntityTooLarge, CodeTooLarge, fmt.Sprintf("request body exceeds %d bytes", maxBodyBytes)},
		{errUnavailable, http.StatusServiceUnavailable, CodeUnavailable, "service unavailable"},
	}
	for _, m := range table {
		if !errors.Is(err, m.err) {
			continue
		}
		message = m.message
		if re, ok := errors.AsType[*requestError](err); ok {
			message = re.msg
		}
		return m.status, m.code, message
	}
	return http.StatusInternalServerError, CodeInternal, "internal error"
}
