package coachapi

import (
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"time"

	"ringside/internal/jsonhttp"
	"ringside/internal/people"
)

// Authenticator is the one way Ringside's APIs learn who sends a request: this one, and the
// session API (internal/httpapi), to which internal/app hands it. A bearer token (the admin
// token or an API key) wins over the session cookie; a write with the cookie from another site
// is refused. It is safe for concurrent use; its fields are immutable after NewAuthenticator.
type Authenticator struct {
	people    *people.Service
	publicURL string // decides whether cookies are Secure
}

// NewAuthenticator returns the authenticator over svc. publicURL is the server's public base
// URL: an https:// one makes cookies Secure (a TLS proxy in front).
func NewAuthenticator(svc *people.Service, publicURL string) *Authenticator {
	return &Authenticator{people: svc, publicURL: strings.TrimRight(publicURL, "/")}
}

// Authenticate resolves the caller. No credential at all is the anonymous zero Principal and
// no error. A credential that is unknown, expired or revoked, or of a disabled user, is a
// *jsonhttp.Error of kind jsonhttp.ErrUnauthorized; a write with the session cookie from
// another site one of jsonhttp.ErrForbidden. Anything else is a server failure.
func (a *Authenticator) Authenticate(r *http.Request) (people.Principal, error) {
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, token, ok := strings.Cut(h, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") {
			return people.Principal{}, jsonhttp.Errorf(jsonhttp.ErrUnauthorized, "the Authorization header must be: Bearer <token>")
		}
		p, err := a.people.BearerPrincipal(r.Context(), strings.TrimSpace(token))
		return p, edgeError(err)
	}
	c, err := r.Cookie(CookieName)
	if err != nil {
		return people.Principal{}, nil
	}
	p, err := a.people.SessionPrincipal(r.Context(), c.Value)
	if err != nil {
		return people.Principal{}, edgeError(err)
	}
	if unsafeMethod(r.Method) && crossSite(r) {
		return people.Principal{}, jsonhttp.Errorf(jsonhttp.ErrForbidden, "cross-site requests may not use the session cookie")
	}
	return p, nil
}

// edgeError turns the people errors of resolving a credential into the HTTP edge's kind, so
// that every API answers them alike.
func edgeError(err error) error {
	if pe, ok := errors.AsType[*people.Error](err); ok && errors.Is(err, people.ErrUnauthenticated) {
		return &jsonhttp.Error{Kind: jsonhttp.ErrUnauthorized, Msg: pe.Message}
	}
	return err
}

// Refused prepares a 401 answer to r: a session cookie that came alone was the credential
// refused, so it is cleared and the browser stops sending it.
func (a *Authenticator) Refused(w http.ResponseWriter, r *http.Request) {
	if _, err := r.Cookie(CookieName); err == nil && r.Header.Get("Authorization") == "" {
		a.ClearCookie(w, r)
	}
}

// SetCookie sets the session cookie: HttpOnly, SameSite=Lax, Path=/, Secure over TLS.
func (a *Authenticator) SetCookie(w http.ResponseWriter, r *http.Request, token string, expires time.Time) {
	http.SetCookie(w, &http.Cookie{
		Name: CookieName, Value: token, Path: "/", Expires: expires,
		MaxAge: int(time.Until(expires).Seconds()), HttpOnly: true, Secure: a.secure(r), SameSite: http.SameSiteLaxMode,
	})
}

// ClearCookie tells the browser to drop the session cookie.
func (a *Authenticator) ClearCookie(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{
		Name: CookieName, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: a.secure(r), SameSite: http.SameSiteLaxMode,
	})
}

// secure reports whether cookies should be Secure: the request came over TLS, or the public
// URL says a TLS proxy is in front.
func (a *Authenticator) secure(r *http.Request) bool {
	return r.TLS != nil || strings.HasPrefix(a.publicURL, "https://")
}

func unsafeMethod(m string) bool {
	return m != http.MethodGet && m != http.MethodHead && m != http.MethodOptions
}

// crossSite reports whether a browser says the request comes from another site. SameSite=Lax
// already keeps the cookie off cross-site POSTs; this is the second lock on the door.
func crossSite(r *http.Request) bool {
	switch r.Header.Get("Sec-Fetch-Site") {
	case "cross-site", "same-site":
		return true
	case "same-origin", "none":
		// The browser vouches for the origin; a page sent with no-referrer posts with
		// "Origin: null", which must not count against it.
		return false
	}
	origin := r.Header.Get("Origin")
	if origin == "" {
		return false
	}
	u, err := url.Parse(origin)
	return err != nil || u.Host != r.Host
}

// linkPageCSP lets the sign-in page do nothing but show itself and post its one form.
const linkPageCSP = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// linkPage is what a sign-in link opens. Opening it does not use the link, so that chat and
// mail previews, which fetch links, do not spend it: the person taps "Sign in", which POSTs.
var linkPage = template.Must(template.New("link").Parse(`<!doctype html>
<html lang="en">
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Sign in to Ringside</title>
<style>
body { font: 17px/1.5 system-ui, sans-serif; max-width: 26rem; margin: 3rem auto; padding: 0 1.2rem; color: #1c1c1c; }
button { font: inherit; font-weight: 600; width: 100%; padding: .9rem; border: 0; border-radius: .6rem; background: #1f6feb; color: #fff; }
.muted { color: #666; }
</style>
<h1>Ringside</h1>
{{if .Problem}}<p>{{.Problem}}</p>
<p class="muted">Ask your admin for a new link.</p>
{{else}}<p>Sign in as <strong>{{.Name}}</strong> <span class="muted">({{.Email}})</span>?</p>
<form method="post"><button type="submit">Sign in</button></form>
<p class="muted">The link works once; this device stays signed in until you sign out.</p>
{{end}}</html>
`))

type linkPageData struct {
	Name, Email, Problem string
}

func writeLinkPage(w http.ResponseWriter, status int, d linkPageData) error {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", linkPageCSP)
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.Header().Set("X-Frame-Options", "DENY")
	w.WriteHeader(status)
	return linkPage.Execute(w, d)
}

// me answers GET /api/auth/me: who the caller is.
func (a *api) me(w http.ResponseWriter, r *http.Request, p people.Principal) error {
	m := meFrom(p)
	if p.UserID != "" {
		u, err := a.people.User(r.Context(), p, p.UserID)
		if err != nil {
			return err
		}
		full := userFrom(u)
		m.User = &full
	}
	writeJSON(w, http.StatusOK, m)
	return nil
}

// linkPage answers GET /api/auth/link/{token}: a page asking to sign in, without using the
// link.
func (a *api) linkPage(w http.ResponseWriter, r *http.Request, _ people.Principal) error {
	u, err := a.people.PeekLink(r.Context(), r.PathValue("token"))
	if pe, ok := errors.AsType[*people.Error](err); ok && errors.Is(err, people.ErrUnauthenticated) {
		return writeLinkPage(w, http.StatusUnauthorized, linkPageData{Problem: pe.Message})
	}
	if err != nil {
		return err
	}
	return writeLinkPage(w, http.StatusOK, linkPageData{Name: u.Name, Email: u.Email})
}

// linkSignIn answers POST /api/auth/link/{token}, the page's form: it uses the link, sets the
// session cookie and sends the browser to the start page.
func (a *api) linkSignIn(w http.ResponseWriter, r *http.Request, _ people.Principal) error {
	if crossSite(r) {
		// Another site posting a link of its own would sign the victim in as someone else.
		return writeLinkPage(w, http.StatusForbidden, linkPageData{Problem: "Sign in from the link itself, not from another site."})
	}
	in, err := a.people.Redeem(r.Context(), r.PathValue("token"), r.UserAgent())
	if pe, ok := errors.AsType[*people.Error](err); ok && errors.Is(err, people.ErrUnauthenticated) {
		return writeLinkPage(w, http.StatusUnauthorized, linkPageData{Problem: pe.Message})
	}
	if err != nil {
		return err
	}
	a.auth.SetCookie(w, r, in.Token, in.ExpiresAt)
	http.Redirect(w, r, "/signin", http.StatusSeeOther) // the sign-in page sends each role on
	return nil
}

// signIn answers POST /api/auth/signin {token}: the same as the page's form, for scripts and
// the web client, answering in JSON.
func (a *api) signIn(w http.ResponseWriter, r *http.Request, _ people.Principal) error {
	var req SignInRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	if crossSite(r) {
		return jsonhttp.Errorf(jsonhttp.ErrForbidden, "cross-site sign-in is refused")
	}
	in, err := a.people.Redeem(r.Context(), req.Token, r.UserAgent())
	if err != nil {
		return err
	}
	a.auth.SetCookie(w, r, in.Token, in.ExpiresAt)
	writeJSON(w, http.StatusOK, SignInResponse{User: userFrom(in.User), ExpiresAt: in.ExpiresAt})
	return nil
}

// signOut answers POST /api/auth/signout: this browser's session ends.
func (a *api) signOut(w http.ResponseWriter, r *http.Request, p people.Principal) error {
	if err := a.people.SignOut(r.Context(), p); err != nil {
		return err
	}
	a.auth.ClearCookie(w, r)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// signOutAll answers POST /api/auth/signout-all: every session of the caller's user ends,
// wherever it is (a stolen cookie too).
func (a *api) signOutAll(w http.ResponseWriter, r *http.Request, p people.Principal) error {
	n, err := a.people.SignOutEverywhere(r.Context(), p, p.UserID)
	if err != nil {
		return err
	}
	a.auth.ClearCookie(w, r)
	writeJSON(w, http.StatusOK, SignOutAllResponse{Revoked: n})
	return nil
}

// listKeys answers GET /api/auth/keys: the caller's API keys (everyone's for an admin).
func (a *api) listKeys(w http.ResponseWriter, r *http.Request, p people.Principal) error {
	keys, err := a.people.Keys(r.Context(), p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, APIKeyList{Keys: convert(keys, keyFrom)})
	return nil
}

// createKey answers POST /api/auth/keys {name}: a new key acting as the caller.
func (a *api) createKey(w http.ResponseWriter, r *http.Request, p people.Principal) error {
	var req CreateKeyRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	key, k, err := a.people.CreateKey(r.Context(), p, req.Name)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, NewAPIKey{APIKey: keyFrom(k), Key: key})
	return nil
}

// revokeKey answers DELETE /api/auth/keys/{id}.
func (a *api) revokeKey(w http.ResponseWriter, r *http.Request, p people.Principal) error {
	if err := a.people.RevokeKey(r.Context(), p, r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// publicDisclosure answers GET /api/auth/disclosure?invite=TOKEN: the observation banner for
// a join page, readable with a live session invite (guests have no account) or a sign-in. It
// says only whether sessions may be observed, never who observes or when.
func (a *api) publicDisclosure(w http.ResponseWriter, r *http.Request, p people.Principal) error {
	if !isSignedIn(p) {
		if err := a.people.CheckInvite(r.Context(), r.URL.Query().Get("invite")); err != nil {
			return err
		}
	}
	d, err := a.audit.Disclosure(r.Context())
	if err != nil {
		return err
	}
	if !d.Enabled {
		d.Text = ""
	}
	writeJSON(w, http.StatusOK, d)
	return nil
}
