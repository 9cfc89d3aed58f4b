package jsonhttp

import (
	"errors"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestDecode(t *testing.T) {
	type body struct {
		Name string    `json:"name"`
		N    int       `json:"n"`
		At   time.Time `json:"at"`
	}
	cases := []struct {
		in, want string // want: "" for success, else a part of the message
		tooLarge bool
	}{
		{`{"name":"a","n":1}`, "", false},
		{``, "empty", false},
		{`{"name":`, "truncated", false},
		{`{"name" 1}`, "malformed JSON at byte", false},
		{`{"n":"x"}`, `field "n" must be a JSON number`, false},
		{`[1]`, "must be a JSON object", false},
		{`{"at":"yesterday"}`, "RFC 3339", false},
		{`{"other":1}`, `unknown field "other"`, false},
		{`{} {}`, "single JSON object", false},
		{`{"name":"` + strings.Repeat("x", 200) + `"}`, "exceeds 100 bytes", true},
	}
	for _, c := range cases {
		r := httptest.NewRequest("POST", "/", strings.NewReader(c.in))
		var b body
		err := Decode(httptest.NewRecorder(), r, &b, 100)
		if c.want == "" {
			if err != nil {
				t.Errorf("Decode(%s): %v", c.in, err)
			}
			continue
		}
		je, ok := errors.AsType[*Error](err)
		if !ok || !strings.Contains(je.Msg, c.want) || errors.Is(err, ErrTooLarge) != c.tooLarge || errors.Is(err, ErrBadRequest) == c.tooLarge {
			t.Errorf("Decode(%.40s) = %v, want an *Error with %q (too large %v)", c.in, err, c.want, c.tooLarge)
		}
	}
}

// publicErr is a domain error with a client-safe message, as people.Error is.
type publicErr struct{ kind error }

func (e publicErr) Error() string         { return "domain: " + e.kind.Error() }
func (e publicErr) Unwrap() error         { return e.kind }
func (e publicErr) PublicMessage() string { return "shown" }

func TestClassify(t *testing.T) {
	errDomain := errors.New("domain not found")
	errInvalid := errors.New("domain invalid")
	aliases := []Alias{{Err: errDomain, Kind: ErrNotFound}, {Err: errInvalid, Kind: ErrBadRequest, OwnText: true}}
	cases := []struct {
		err       error
		status    int
		code, msg string
	}{
		{Errorf(ErrBadRequest, "title is required"), 400, CodeBadRequest, "title is required"},
		{Errorf(ErrUnauthorized, "sign in"), 401, CodeUnauthorized, "sign in"},
		{ErrForbidden, 403, CodeForbidden, "forbidden"},
		{fmt.Errorf("wrapped: %w", Errorf(ErrNotFound, "no session with this id")), 404, CodeNotFound, "no session with this id"},
		{ErrMethodNotAllowed, 405, CodeMethodNotAllowed, "method not allowed"},
		{ErrConflict, 409, CodeConflict, "conflict"},
		{ErrTooLarge, 413, CodeTooLarge, "request body too large"},
		{ErrUnavailable, 503, CodeUnavailable, "service unavailable"},
		{fmt.Errorf("store: session %q: %w", "x", errDomain), 404, CodeNotFound, "not found"},
		{publicErr{errDomain}, 404, CodeNotFound, "shown"},
		{fmt.Errorf("%w: url must be https", errInvalid), 400, CodeBadRequest, "domain invalid: url must be https"},
		{errors.New("disk on fire"), 500, CodeInternal, "internal error"},
	}
	for _, c := range cases {
		got := Classify(c.err, aliases)
		if got.Status != c.status || got.Code != c.code || got.Message != c.msg {
			t.Errorf("Classify(%v) = %+v, want %d %s %q", c.err, got, c.status, c.code, c.msg)
		}
	}
}

func TestWriteError(t *testing.T) {
	rec := httptest.NewRecorder()
	WriteError(rec, Classify(Errorf(ErrUnauthorized, "sign in"), nil))
	if rec.Code != 401 || rec.Header().Get("WWW-Authenticate") != `Bearer realm="ringside"` ||
		strings.TrimSpace(rec.Body.String()) != `{"error":{"code":"unauthorized","message":"sign in"}}` {
		t.Errorf("WriteError: %d %v %s", rec.Code, rec.Header(), rec.Body)
	}
	rec = httptest.NewRecorder()
	WriteError(rec, Classify(ErrNotFound, nil))
	if rec.Code != 404 || rec.Header().Get("WWW-Authenticate") != "" {
		t.Errorf("WriteError 404: %d %v", rec.Code, rec.Header())
	}
}
