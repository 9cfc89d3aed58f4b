// Package web serves Ringside's browser client: the dashboard at "/", the join page at
// "/join/{token}" (the phone call UI for a rep or partner, the coach console for a coach), the
// replay page, the signed-in pages ("/signin", a rep's "/me" and "/solo", a coach's "/team"), the static
// assets under "/static/", and QR codes of invite links at "/qr".
//
// Everything is plain HTML, CSS and JavaScript modules embedded in the binary; there is no
// build step. The pages speak the HTTP API (docs/api.md) and the signaling websocket
// (docs/protocol.md) like any other client. This package holds no server logic and imports no
// other Ringside package: it must not learn about sessions, invites or the store.
package web

import (
	"bytes"
	"embed"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	qrcode "github.com/skip2/go-qrcode"
)

// files holds the pages and, under static/, the assets served under /static/.
//
//go:embed static
var files embed.FS

// Handler serves the web client. Mount it at "/"; it answers 404 for paths it does not own.
func Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", page("dashboard.html"))
	mux.HandleFunc("GET /join/{token}", page("join.html"))
	mux.HandleFunc("GET /sessions/{id}/replay", page("replay.html"))
	mux.HandleFunc("GET /replay/{token}", page("replay.html"))
	mux.HandleFunc("GET /signin", page("signin.html"))
	mux.HandleFunc("GET /me", page("me.html"))
	mux.HandleFunc("GET /team", page("team.html"))
	mux.HandleFunc("GET /solo", page("solo.html"))
	mux.HandleFunc("GET /static/", serveAsset)
	mux.HandleFunc("GET /qr", serveQR)
	return securityHeaders(mux)
}

// page serves one HTML page of the static tree. Pages are never cached: the join page's URL
// holds an invite token.
func page(name string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, err := fs.ReadFile(files, "static/"+name)
		if err != nil {
			http.Error(w, "page missing from the build", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(body))
	}
}

// serveAsset serves a file of the static tree (no directory listings). Assets carry no
// version in their names, so browsers revalidate them.
func serveAsset(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimPrefix(r.URL.Path, "/static/")
	if !fs.ValidPath(name) || name == "." {
		http.NotFound(w, r)
		return
	}
	f, err := files.Open("static/" + name)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || st.IsDir() {
		http.NotFound(w, r)
		return
	}
	rs, ok := f.(io.ReadSeeker)
	if !ok {
		http.Error(w, "asset not seekable", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Cache-Control", "no-cache")
	http.ServeContent(w, r, name, time.Time{}, rs)
}

// inviteTokenPath matches the path of an invite URL: an optional prefix (a server published
// under a sub-path) and /join/<token>, the token being base64url.
var inviteTokenPath = regexp.MustCompile(`^(/[A-Za-z0-9._~%-]+)*/(join|api/auth/link)/[A-Za-z0-9_-]{16,128}$`)

// maxQRData bounds what /qr encodes; an invite URL is well under it.
const maxQRData = 512

// errNotInvite is why /qr refuses its data.
var errNotInvite = errors.New("data must be an invite or sign-in link: http(s)://host/join/<token> or http(s)://host/api/auth/link/<token>")

// checkInviteURL accepts only what the dashboard asks for: an http(s) invite URL, with no
// credentials, query or fragment. /qr is thus no general-purpose QR service.
func checkInviteURL(data string) error {
	if len(data) > maxQRData {
		return errNotInvite
	}
	u, err := url.Parse(data)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
		u.User != nil || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" ||
		strings.ContainsAny(data, "?# \t\r\n") || !inviteTokenPath.MatchString(u.EscapedPath()) {
		return errNotInvite
	}
	return nil
}

// qrSize is the side of a QR code image in pixels.
const qrSize = 320

// serveQR draws an invite link as a PNG QR code, so that a phone can scan it off the
// dashboard. The image holds a live token, so it is never cached.
func serveQR(w http.ResponseWriter, r *http.Request) {
	data := r.URL.Query().Get("data")
	if err := checkInviteURL(data); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	png, err := qrcode.Encode(data, qrcode.Medium, qrSize)
	if err != nil {
		http.Error(w, "cannot draw this link", http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(png)
}

// hostPattern is what a Host header may hold to be echoed into the CSP (the Go server has
// already refused malformed ones; this keeps the header safe whatever serves us).
var hostPattern = regexp.MustCompile(`^[A-Za-z0-9.\-\[\]:]+$`)

// securityHeaders sets the headers every response of the web client carries.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		// 'self' covers same-origin websockets in current browsers; older Safari needs them named.
		connect := "'self'"
		if hostPattern.MatchString(r.Host) {
			connect += " ws://" + r.Host + " wss://" + r.Host
		}
		h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; "+
			"img-src 'self' data: blob:; media-src 'self' blob: mediastream:; connect-src "+connect+"; "+
			"object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Permissions-Policy", "camera=(self), microphone=(self), screen-wake-lock=(self)")
		next.ServeHTTP(w, r)
	})
}
