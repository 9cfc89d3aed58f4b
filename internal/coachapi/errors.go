package coachapi

import (
	"ringside/internal/audit"
	"ringside/internal/jsonhttp"
	"ringside/internal/people"
	"ringside/internal/store"
	"ringside/internal/webhook"
)

// The HTTP edge's own kinds are jsonhttp's, shared with the session API, which also holds the
// one table of their statuses and codes; these names keep the handlers short.
var (
	errBadRequest = jsonhttp.ErrBadRequest
	errNotFound   = jsonhttp.ErrNotFound
)

// Error codes of the JSON error body, the same as the session API's (jsonhttp's). They are
// stable: clients may switch on them.
const (
	CodeBadRequest       = jsonhttp.CodeBadRequest
	CodeUnauthorized     = jsonhttp.CodeUnauthorized
	CodeForbidden        = jsonhttp.CodeForbidden
	CodeNotFound         = jsonhttp.CodeNotFound
	CodeMethodNotAllowed = jsonhttp.CodeMethodNotAllowed
	CodeConflict         = jsonhttp.CodeConflict
	CodeTooLarge         = jsonhttp.CodeTooLarge
	CodeInternal         = jsonhttp.CodeInternal
)

func badRequest(format string, args ...any) error {
	return jsonhttp.Errorf(errBadRequest, format, args...)
}

// errorAliases say which kind each error of the domain packages is; the first that an error
// matches wins. Their messages are client-safe where they are a people.Error (its Message) or
// where the row says so.
var errorAliases = []jsonhttp.Alias{
	{Err: people.ErrInvalid, Kind: jsonhttp.ErrBadRequest},
	{Err: webhook.ErrInvalid, Kind: jsonhttp.ErrBadRequest, OwnText: true},
	{Err: audit.ErrInvalid, Kind: jsonhttp.ErrBadRequest, OwnText: true},
	{Err: store.ErrInvalid, Kind: jsonhttp.ErrBadRequest},
	{Err: people.ErrUnauthenticated, Kind: jsonhttp.ErrUnauthorized},
	{Err: people.ErrForbidden, Kind: jsonhttp.ErrForbidden},
	{Err: people.ErrNotFound, Kind: jsonhttp.ErrNotFound},
	{Err: store.ErrNotFound, Kind: jsonhttp.ErrNotFound},
	{Err: people.ErrConflict, Kind: jsonhttp.ErrConflict},
	{Err: store.ErrConflict, Kind: jsonhttp.ErrConflict},
}

// classify maps err to its answer. Anything unknown is a 500 whose message says nothing of
// the cause; the caller logs the real error.
func classify(err error) jsonhttp.Answer {
	return jsonhttp.Classify(err, errorAliases)
}
