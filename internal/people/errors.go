package people

import (
	"errors"
	"fmt"
)

// Kinds of failure. Methods return an *Error of one of these kinds (test with errors.Is); the
// HTTP edge maps each kind to a status. The coaching package uses the same kinds, so that the
// rules of who may see what speak one language.
var (
	// ErrUnauthenticated: no credential, or one that is unknown, expired, revoked or used.
	ErrUnauthenticated = errors.New("not signed in")
	// ErrForbidden: the caller may see the thing but not do this to it (a rep creating a
	// scenario, a coach inviting people).
	ErrForbidden = errors.New("forbidden")
	// ErrNotFound: no such thing, or one the caller may not see; the two are never told apart.
	ErrNotFound = errors.New("not found")
	// ErrInvalid: a value that breaks a rule (an email without @, an unknown role).
	ErrInvalid = errors.New("invalid")
	// ErrConflict: the thing exists already, or its state does not allow this.
	ErrConflict = errors.New("conflict")
)

// Error is a failure whose message is safe to show to the caller who caused it.
type Error struct {
	Kind    error // one of the kinds above
	Message string
}

func (e *Error) Error() string { return e.Message }
func (e *Error) Unwrap() error { return e.Kind }

// PublicMessage is Message: the HTTP edges show it instead of their kind's default text.
func (e *Error) PublicMessage() string { return e.Message }

// Errorf returns an *Error of kind with a formatted, client-safe message.
func Errorf(kind error, format string, args ...any) error {
	return &Error{Kind: kind, Message: fmt.Sprintf(format, args...)}
}

func unauthenticated(format string, args ...any) error {
	return Errorf(ErrUnauthenticated, format, args...)
}

func forbidden(format string, args ...any) error { return Errorf(ErrForbidden, format, args...) }

func notFound(format string, args ...any) error { return Errorf(ErrNotFound, format, args...) }

func invalid(format string, args ...any) error { return Errorf(ErrInvalid, format, args...) }
