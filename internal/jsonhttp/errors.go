package jsonhttp

import (
	"errors"
	"fmt"
	"net/http"
)

// Kinds of failure at the HTTP edge. Each is answered with one status and one stable code
// (docs/api.md, "Errors"); an API's handlers return errors of these kinds (see Errorf), or
// errors of their domain packages that an Alias maps to one of them.
var (
	ErrBadRequest       = errors.New("bad request")
	ErrUnauthorized     = errors.New("unauthorized")
	ErrForbidden        = errors.New("forbidden")
	ErrNotFound         = errors.New("not found")
	ErrMethodNotAllowed = errors.New("method not allowed")
	ErrConflict         = errors.New("conflict")
	ErrTooLarge         = errors.New("request body too large")
	ErrUnavailable      = errors.New("unavailable")
)

// Codes of the JSON error body. They are stable: clients may switch on them.
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

// ErrorBody is the "error" member of every error response.
type ErrorBody struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// ErrorResponse is the body of every error response.
type ErrorResponse struct {
	Error ErrorBody `json:"error"`
}

// Error is a failure whose message is safe to show to the client. Kind, one of the kinds
// above, decides the answer's status and code.
type Error struct {
	Kind error
	Msg  string
}

func (e *Error) Error() string         { return e.Msg }
func (e *Error) Unwrap() error         { return e.Kind }
func (e *Error) PublicMessage() string { return e.Msg }

// Errorf returns an *Error of kind with a formatted, client-safe message.
func Errorf(kind error, format string, args ...any) error {
	return &Error{Kind: kind, Msg: fmt.Sprintf(format, args...)}
}

// Public is an error whose message is safe to show to the client who caused it. A domain
// package's error type implements it (without importing this package) to have its own message
// shown rather than its kind's.
type Public interface {
	error
	PublicMessage() string
}

// Alias says which kind a domain package's sentinel error is: store.ErrNotFound is a 404.
type Alias struct {
	Err  error
	Kind error // one of the kinds above
	// OwnText: the error's whole text is safe to show when it carries no Public message.
	OwnText bool
}

// Answer is the status, code and client-facing message an error is answered with.
type Answer struct {
	Status  int
	Code    string
	Message string
}

// answers is the one table of how each kind is answered. The message is the default, shown
// when the error carries no client-safe message of its own.
var answers = [...]struct {
	kind error
	Answer
}{
	{ErrBadRequest, Answer{http.StatusBadRequest, CodeBadRequest, "bad request"}},
	{ErrUnauthorized, Answer{http.StatusUnauthorized, CodeUnauthorized,
		"sign in, or send the admin token or an API key (Authorization: Bearer <token>)"}},
	{ErrForbidden, Answer{http.StatusForbidden, CodeForbidden, "forbidden"}},
	{ErrNotFound, Answer{http.StatusNotFound, CodeNotFound, "not found"}},
	{ErrMethodNotAllowed, Answer{http.StatusMethodNotAllowed, CodeMethodNotAllowed, "method not allowed"}},
	{ErrConflict, Answer{http.StatusConflict, CodeConflict, "conflict"}},
	{ErrTooLarge, Answer{http.StatusRequestEntityTooLarge, CodeTooLarge, "request body too large"}},
	{ErrUnavailable, Answer{http.StatusServiceUnavailable, CodeUnavailable, "service unavailable"}},
}

// internalAnswer is the answer to anything not classified: it says nothing of the cause.
var internalAnswer = Answer{http.StatusInternalServerError, CodeInternal, "internal error"}

// Classify answers err: by the kind it wraps, or else by the first of aliases it matches;
// anything else is a 500 whose message says nothing of the cause (the caller logs it). The
// message is err's Public one, if it has one, else the alias's own text rule, else the
// kind's default.
func Classify(err error, aliases []Alias) Answer {
	kind, ownText := kindOf(err, aliases)
	if kind == nil {
		return internalAnswer
	}
	for _, a := range answers {
		if a.kind != kind {
			continue
		}
		ans := a.Answer
		if p, ok := errors.AsType[Public](err); ok {
			ans.Message = p.PublicMessage()
		} else if ownText {
			ans.Message = err.Error()
		}
		return ans
	}
	return internalAnswer
}

// kindOf is the kind err is answered as, nil for none.
func kindOf(err error, aliases []Alias) (kind error, ownText bool) {
	for _, a := range answers {
		if errors.Is(err, a.kind) {
			return a.kind, false
		}
	}
	for _, a := range aliases {
		if errors.Is(err, a.Err) {
			return a.Kind, a.OwnText
		}
	}
	return nil, false
}

// WriteError writes ans as the JSON error body. A 401 carries WWW-Authenticate.
func WriteError(w http.ResponseWriter, ans Answer) {
	if ans.Status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="ringside"`)
	}
	Write(w, ans.Status, ErrorResponse{Error: ErrorBody{Code: ans.Code, Message: ans.Message}})
}
