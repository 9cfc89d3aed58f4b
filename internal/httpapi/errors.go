package httpapi

import (
	"ringside/internal/jsonhttp"
	"ringside/internal/store"
)

// The kinds of failure are jsonhttp's, shared with the coaching API, and so is the one table
// of their statuses and codes. Handlers return jsonhttp.Errorf(kind, …) with a client-safe
// message, or store errors, which errorAliases map.
var (
	errNotFound = jsonhttp.ErrNotFound
)

// Error codes of the JSON error body (jsonhttp's). They are stable: clients may switch on them.
const (
	CodeBadRequest       = jsonhttp.CodeBadRequest
	CodeUnauthorized     = jsonhttp.CodeUnauthorized
	CodeForbidden        = jsonhttp.CodeForbidden
	CodeNotFound         = jsonhttp.CodeNotFound
	CodeMethodNotAllowed = jsonhttp.CodeMethodNotAllowed
	CodeConflict         = jsonhttp.CodeConflict
	CodeTooLarge         = jsonhttp.CodeTooLarge
	CodeUnavailable      = jsonhttp.CodeUnavailable
	CodeInternal         = jsonhttp.CodeInternal
)

// ErrorBody is the "error" member of every error response.
type ErrorBody = jsonhttp.ErrorBody

type errorResponse = jsonhttp.ErrorResponse

func badRequest(format string, args ...any) error {
	return jsonhttp.Errorf(jsonhttp.ErrBadRequest, format, args...)
}

func forbidden(format string, args ...any) error {
	return jsonhttp.Errorf(jsonhttp.ErrForbidden, format, args...)
}

// errorAliases say which kind each store error is.
var errorAliases = []jsonhttp.Alias{
	{Err: store.ErrInvalid, Kind: jsonhttp.ErrBadRequest},
	{Err: store.ErrNotFound, Kind: jsonhttp.ErrNotFound},
	{Err: store.ErrConflict, Kind: jsonhttp.ErrConflict},
}

// classify maps err to its answer. This is the only place where store errors meet HTTP
// statuses. Anything unknown is a 500 whose message says nothing of the cause; the caller
// logs the real error.
func classify(err error) jsonhttp.Answer { return jsonhttp.Classify(err, errorAliases) }
