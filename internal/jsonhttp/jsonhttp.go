// Package jsonhttp holds what Ringside's JSON APIs share at the HTTP edge: strict decoding of a
// request body into one JSON object with client-facing messages, writing a JSON response,
// recording the status a handler chose, and the one table of error kinds, their statuses and
// stable codes (errors.go) that both APIs answer with. It knows nothing of the APIs' routes or
// of the domain packages: an API tells it which of their errors are which kind (Alias).
package jsonhttp

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"reflect"
	"strings"
	"time"
)

func bad(format string, args ...any) error { return Errorf(ErrBadRequest, format, args...) }

// Decode reads r's body, at most maxBytes of it, as exactly one JSON object into dst. Unknown
// fields, wrong types and trailing data are an *Error of kind ErrBadRequest, an oversized body
// one of ErrTooLarge.
func Decode(w http.ResponseWriter, r *http.Request, dst any, maxBytes int64) error {
	r.Body = http.MaxBytesReader(w, r.Body, maxBytes)
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return decodeError(err, maxBytes)
	}
	err := dec.Decode(&struct{}{})
	switch {
	case errors.Is(err, io.EOF):
		return nil
	case err != nil:
		if _, tooBig := errors.AsType[*http.MaxBytesError](err); tooBig {
			return decodeError(err, maxBytes)
		}
	}
	return bad("request body must hold a single JSON object")
}

// decodeError turns a JSON decoding failure into a client-facing error.
func decodeError(err error, maxBytes int64) error {
	if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
		return Errorf(ErrTooLarge, "request body exceeds %d bytes", maxBytes)
	}
	if errors.Is(err, io.EOF) {
		return bad("request body is empty; a JSON object is required")
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return bad("request body is truncated JSON")
	}
	if se, ok := errors.AsType[*json.SyntaxError](err); ok {
		return bad("malformed JSON at byte %d", se.Offset)
	}
	if te, ok := errors.AsType[*json.UnmarshalTypeError](err); ok {
		if te.Field == "" {
			return bad("request body must be a JSON object")
		}
		return bad("field %q must be a JSON %s", te.Field, jsonType(te.Type.Kind()))
	}
	if _, ok := errors.AsType[*time.ParseError](err); ok {
		return bad("times must be RFC 3339, e.g. 2026-03-04T10:00:00Z")
	}
	if field, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return bad("unknown field %s", field)
	}
	return bad("malformed JSON")
}

// jsonType names a Go kind the way a JSON client would.
func jsonType(k reflect.Kind) string {
	switch k {
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean"
	case reflect.Struct, reflect.Map:
		return "object"
	case reflect.Slice, reflect.Array:
		return "array"
	default:
		return "number"
	}
}

// Write writes v as the JSON response body with the given status.
func Write(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	// The status is on the wire already; a failed write means the client went away.
	_ = json.NewEncoder(w).Encode(v)
}

// Serve routes r through mux with the headers every API answer carries. A request that
// matches no route gets the mux's 404 or 405 status (and its Allow header) but in the API's
// JSON error shape: miss is called with ErrNotFound or ErrMethodNotAllowed to write it.
func Serve(mux *http.ServeMux, w http.ResponseWriter, r *http.Request, miss func(error)) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	h, pattern := mux.Handler(r)
	if pattern != "" {
		mux.ServeHTTP(w, r)
		return
	}
	// The mux's own handler for a miss only sets headers and a status; keep those, drop its
	// plain-text body.
	rec := &statusRecorder{header: w.Header()}
	h.ServeHTTP(rec, r)
	if rec.status == http.StatusMethodNotAllowed {
		miss(ErrMethodNotAllowed)
		return
	}
	miss(ErrNotFound)
}

// BaseURL is the scheme://host that links handed out start with: publicURL when set (the
// server is behind a proxy, whose Host need not be the public one), else r's host and scheme.
func BaseURL(publicURL string, r *http.Request) string {
	if publicURL != "" {
		return publicURL
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// statusRecorder captures the status a handler sets and discards its body.
type statusRecorder struct {
	header http.Header
	status int
}

func (s *statusRecorder) Header() http.Header { return s.header }

func (s *statusRecorder) Write(p []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return len(p), nil
}

func (s *statusRecorder) WriteHeader(status int) {
	if s.status == 0 {
		s.status = status
	}
}
