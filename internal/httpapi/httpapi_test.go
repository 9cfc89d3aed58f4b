package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"ringside/internal/jsonhttp"
	"ringside/internal/store"
)

const testAdminToken = "test-admin-token-0123456789abcdef"

// fakeLive records the sessions the API asked the live plane to end.
type fakeLive struct {
	mu    sync.Mutex
	ended []string
	err   error                                      // returned by EndSession when set
	hook  func(ctx context.Context, id string) error // run by EndSession when set
}

func (f *fakeLive) EndSession(ctx context.Context, id string) error {
	f.mu.Lock()
	f.ended = append(f.ended, id)
	err, hook := f.err, f.hook
	f.mu.Unlock()
	if hook != nil {
		return hook(ctx, id)
	}
	return err
}

func (f *fakeLive) calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.ended...)
}

// fakeAuth stands in for the coaching API's authenticator (internal/coachapi): it knows bearer
// tokens only, each one a caller, and which reps each coach coaches.
type fakeAuth struct {
	callers map[string]Caller   // by bearer token
	reps    map[string][]string // coach id → rep ids
}

func (f *fakeAuth) Authenticate(r *http.Request) (Caller, error) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return Caller{}, nil
	}
	scheme, token, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return Caller{}, jsonhttp.Errorf(jsonhttp.ErrUnauthorized, "the Authorization header must be: Bearer <token>")
	}
	c, ok := f.callers[strings.TrimSpace(token)]
	if !ok {
		return Caller{}, jsonhttp.Errorf(jsonhttp.ErrUnauthorized, "unknown bearer token")
	}
	return c, nil
}

func (f *fakeAuth) Refused(http.ResponseWriter, *http.Request) {}

func (f *fakeAuth) RepsOf(_ context.Context, coachID string) ([]string, error) {
	return f.reps[coachID], nil
}

// Users of the fixture's world: reps A and B (teams A and B), their coaches, an admin user.
const (
	repAToken   = "rep-a-key"
	repBToken   = "rep-b-key"
	coachAToken = "coach-a-key"
	coachBToken = "coach-b-key"
	adminToken  = "admin-user-key"
)

type fixture struct {
	h      http.Handler
	store  *store.Store
	live   *fakeLive
	dbPath string
	now    time.Time
	users  map[string]string // user ids by name: repA, repB, coachA, coachB, admin
}

func newFixture(t testing.TB, mod ...func(*Config)) *fixture {
	t.Helper()
	dbPath := filepath.Join(t.TempDir(), "ringside.db")
	st, err := store.Open(t.Context(), dbPath)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	f := &fixture{store: st, live: &fakeLive{}, dbPath: dbPath, now: time.Date(2026, 3, 4, 10, 0, 0, 123456789, time.UTC),
		users: map[string]string{}}
	auth := &fakeAuth{callers: map[string]Caller{testAdminToken: {Name: "Admin", Role: RoleAdmin}}, reps: map[string][]string{}}
	for _, u := range []struct{ key, name, display, role string }{
		{repAToken, "repA", "Ana", store.RoleRep}, {repBToken, "repB", "Bo", store.RoleRep},
		{coachAToken, "coachA", "Cleo", store.RoleCoach}, {coachBToken, "coachB", "Dan", store.RoleCoach},
		{adminToken, "admin", "Ada", store.RoleAdmin},
	} {
		id := "u-" + u.name
		must(t, st.CreateUser(t.Context(), store.User{ID: id, Email: u.name + "@example.com", Name: u.display, Role: u.role}))
		f.users[u.name] = id
		auth.callers[u.key] = Caller{UserID: id, Name: u.display, Role: u.role}
	}
	auth.reps["u-coachA"], auth.reps["u-coachB"] = []string{"u-repA"}, []string{"u-repB"}
	cfg := Config{
		Store:     st,
		Live:      f.live,
		PublicURL: "https://ringside.example/",
		Auth:      auth,
		Now:       func() time.Time { return f.now },
	}
	for _, m := range mod {
		m(&cfg)
	}
	f.h = New(cfg)
	return f
}

// do sends a request with the admin token unless auth is "-" (none) or another value.
func (f *fixture) do(t testing.TB, method, path, body string, auth ...string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequestWithContext(t.Context(), method, path, strings.NewReader(body))
	switch {
	case len(auth) == 0:
		req.Header.Set("Authorization", "Bearer "+testAdminToken)
	case auth[0] != "-":
		req.Header.Set("Authorization", auth[0])
	}
	rec := httptest.NewRecorder()
	f.h.ServeHTTP(rec, req)
	return rec
}

func decode[T any](t testing.TB, rec *httptest.ResponseRecorder) T {
	t.Helper()
	var v T
	dec := json.NewDecoder(rec.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("decode %T from %q: %v", v, rec.Body.String(), err)
	}
	return v
}

// wantError checks status, JSON content type and error code.
func wantError(t *testing.T, rec *httptest.ResponseRecorder, status int, code string) ErrorBody {
	t.Helper()
	if rec.Code != status {
		t.Fatalf("status = %d, want %d; body %s", rec.Code, status, rec.Body)
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
	body := decode[errorResponse](t, rec)
	if body.Error.Code != code {
		t.Errorf("error code = %q, want %q (message %q)", body.Error.Code, code, body.Error.Message)
	}
	if body.Error.Message == "" {
		t.Error("error message is empty")
	}
	return body.Error
}

func (f *fixture) create(t *testing.T, body string) CreateSessionResponse {
	t.Helper()
	rec := f.do(t, "POST", "/api/sessions", body)
	if rec.Code != http.StatusCreated {
		t.Fatalf("create: status %d, body %s", rec.Code, rec.Body)
	}
	return decode[CreateSessionResponse](t, rec)
}

func TestHealth(t *testing.T) {
	f := newFixture(t)
	rec := f.do(t, "GET", "/healthz", "", "-")
	if rec.Code != http.StatusOK {
		t.Fatalf("status = %d, body %s", rec.Code, rec.Body)
	}
	if got := strings.TrimSpace(rec.Body.String()); got != `{"status":"ok"}` {
		t.Errorf("body = %s", got)
	}

	f.store.Close()
	rec = f.do(t, "GET", "/healthz", "", "-")
	if rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("with the database closed: status = %d, body %s", rec.Code, rec.Body)
	}
	if got := decode[healthResponse](t, rec); got.Status != "unavailable" || got.Error == nil || got.Error.Code != CodeUnavailable {
		t.Errorf("body = %+v", got)
	}
}

func TestCreateSession(t *testing.T) {
	f := newFixture(t)
	got := f.create(t, `{"title":"  Discovery call  ","repName":"Ana","partnerName":"Ben","coachName":"Cleo"}`)

	if got.ID == "" || got.Title != "Discovery call" || got.RepName != "Ana" || got.PartnerName != "Ben" {
		t.Errorf("session = %+v", got.Session)
	}
	if got.State != store.SessionCreated || !got.Recorded {
		t.Errorf("state %q recorded %v, want created and recorded by default", got.State, got.Recorded)
	}
	wantExpiry := f.now.Truncate(time.Millisecond).Add(DefaultInviteTTL)
	if !got.ExpiresAt.Equal(wantExpiry) {
		t.Errorf("expiresAt = %v, want %v", got.ExpiresAt, wantExpiry)
	}

	tokens := map[string]string{}
	for role, link := range map[string]string{"rep": got.Invites.Rep, "partner": got.Invites.Partner, "coach": got.Invites.Coach} {
		token, ok := strings.CutPrefix(link, "https://ringside.example/join/")
		if !ok {
			t.Fatalf("%s invite %q is not under PUBLIC_URL/join/", role, link)
		}
		if len(token) < 22 {
			t.Errorf("%s token %q is shorter than 22 characters", role, token)
		}
		tokens[role] = token
	}
	seen := map[string]bool{}
	for _, tok := range tokens {
		if seen[tok] {
			t.Errorf("token %q issued twice", tok)
		}
		seen[tok] = true
	}

	// Each token resolves, by its hash, to an invite for this session and its role.
	names := map[string]string{"rep": "Ana", "partner": "Ben", "coach": "Cleo"}
	for role, tok := range tokens {
		inv, err := f.store.InviteByTokenHash(t.Context(), store.HashToken(tok))
		if err != nil {
			t.Fatalf("%s invite by hash: %v", role, err)
		}
		if inv.SessionID != got.ID || inv.Role != role || inv.Name != names[role] {
			t.Errorf("%s invite = %+v", role, inv)
		}
		if inv.TokenHash == tok {
			t.Errorf("%s invite stores the raw token", role)
		}
		if !inv.ExpiresAt.Equal(wantExpiry) {
			t.Errorf("%s invite expires %v, want %v", role, inv.ExpiresAt, wantExpiry)
		}
	}

	// The raw tokens are nowhere in the database files, while their hashes are.
	f.store.Close()
	var all []byte
	for _, name := range []string{f.dbPath, f.dbPath + "-wal"} {
		data, err := os.ReadFile(name)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, data...)
	}
	for role, tok := range tokens {
		if bytes.Contains(all, []byte(tok)) {
			t.Errorf("raw %s token found in the database files", role)
		}
		if !bytes.Contains(all, []byte(store.HashToken(tok))) {
			t.Errorf("hash of the %s token not found in the database files", role)
		}
	}
}

func TestCreateSessionDefaults(t *testing.T) {
	ttl := 2 * time.Hour
	f := newFixture(t, func(c *Config) { c.InviteTTL = ttl })
	got := f.create(t, `{"title":"Cold call","record":false}`)
	if got.Recorded {
		t.Error("record:false was ignored")
	}
	if got.RepName != "Rep" || got.PartnerName != "Partner" {
		t.Errorf("default names = %q, %q", got.RepName, got.PartnerName)
	}
	if want := f.now.Truncate(time.Millisecond).Add(ttl); !got.ExpiresAt.Equal(want) {
		t.Errorf("expiresAt = %v, want %v", got.ExpiresAt, want)
	}
	sess, err := f.store.Session(t.Context(), got.ID)
	if err != nil || sess.Recorded {
		t.Fatalf("stored session = %+v, %v", sess, err)
	}
	invites, err := f.store.Invites(t.Context(), got.ID)
	if err != nil || len(invites) != 3 {
		t.Fatalf("invites = %+v, %v", invites, err)
	}
	for _, inv := range invites {
		if inv.Name == "" {
			t.Errorf("%s invite has no name", inv.Role)
		}
	}
}

func TestCreateSessionPublicURLFromRequest(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.PublicURL = "" })
	got := f.create(t, `{"title":"t"}`)
	if !strings.HasPrefix(got.Invites.Rep, "http://example.com/join/") {
		t.Errorf("rep invite = %q, want it built from the request's host", got.Invites.Rep)
	}
}

func TestCreateSessionErrors(t *testing.T) {
	f := newFixture(t)
	long := strings.Repeat("é", 201)
	tests := []struct {
		name   string
		body   string
		status int
		code   string
	}{
		{"empty body", "", 400, CodeBadRequest},
		{"malformed", `{"title":`, 400, CodeBadRequest},
		{"syntax", `{"title" "x"}`, 400, CodeBadRequest},
		{"not an object", `["x"]`, 400, CodeBadRequest},
		{"wrong type title", `{"title": 5}`, 400, CodeBadRequest},
		{"wrong type record", `{"title": "x", "record": "yes"}`, 400, CodeBadRequest},
		{"unknown field", `{"title": "x", "admin": true}`, 400, CodeBadRequest},
		{"trailing data", `{"title": "x"} {"title": "y"}`, 400, CodeBadRequest},
		{"missing title", `{"repName": "Ana"}`, 400, CodeBadRequest},
		{"blank title", `{"title": "   "}`, 400, CodeBadRequest},
		{"null", `null`, 400, CodeBadRequest},
		{"title too long", `{"title": "` + long + `"}`, 400, CodeBadRequest},
		{"rep name too long", `{"title": "x", "repName": "` + long[:202] + `"}`, 400, CodeBadRequest},
		{"partner name too long", `{"title": "x", "partnerName": "` + strings.Repeat("a", 101) + `"}`, 400, CodeBadRequest},
		{"coach name too long", `{"title": "x", "coachName": "` + strings.Repeat("a", 101) + `"}`, 400, CodeBadRequest},
		{"too large", `{"title": "` + strings.Repeat("a", 64<<10) + `"}`, 413, CodeTooLarge},
		{"too large trailing", `{"title": "x"}` + strings.Repeat(" ", 64<<10), 413, CodeTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantError(t, f.do(t, "POST", "/api/sessions", tt.body), tt.status, tt.code)
		})
	}
	if list, err := f.store.ListSessions(t.Context(), 0); err != nil || len(list) != 0 {
		t.Errorf("rejected requests stored sessions: %+v, %v", list, err)
	}
	// A title of exactly the limit is fine.
	f.create(t, `{"title": "`+strings.Repeat("é", 200)+`", "repName": "`+strings.Repeat("a", 100)+`"}`)
}

func TestUnauthorized(t *testing.T) {
	f := newFixture(t)
	id := f.create(t, `{"title":"x"}`).ID
	routes := []struct{ method, path, body string }{
		{"POST", "/api/sessions", `{"title":"x"}`},
		{"GET", "/api/sessions", ""},
		{"GET", "/api/sessions/" + id, ""},
		{"POST", "/api/sessions/" + id + "/end", ""},
	}
	auths := map[string]string{
		"none":         "-",
		"wrong token":  "Bearer not-the-token",
		"basic scheme": "Basic " + testAdminToken,
		"empty bearer": "Bearer ",
		"no scheme":    testAdminToken,
	}
	for _, rt := range routes {
		for name, auth := range auths {
			t.Run(rt.method+" "+rt.path+" "+name, func(t *testing.T) {
				rec := f.do(t, rt.method, rt.path, rt.body, auth)
				wantError(t, rec, http.StatusUnauthorized, CodeUnauthorized)
				if h := rec.Header().Get("WWW-Authenticate"); !strings.HasPrefix(h, "Bearer") {
					t.Errorf("WWW-Authenticate = %q", h)
				}
			})
		}
	}
	if calls := f.live.calls(); len(calls) != 0 {
		t.Errorf("live plane called without authorization: %v", calls)
	}
	// The scheme is case-insensitive.
	if rec := f.do(t, "GET", "/api/sessions", "", "bearer "+testAdminToken); rec.Code != http.StatusOK {
		t.Errorf("lower-case bearer: status %d", rec.Code)
	}
}

func TestNoAuthRejectsAll(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.Auth = nil })
	wantError(t, f.do(t, "GET", "/api/sessions", ""), http.StatusUnauthorized, CodeUnauthorized)
	wantError(t, f.do(t, "GET", "/api/sessions", "", "Bearer "), http.StatusUnauthorized, CodeUnauthorized)
	if rec := f.do(t, "GET", "/healthz", "", "-"); rec.Code != http.StatusOK {
		t.Errorf("healthz without Auth: %d", rec.Code)
	}
}

func TestListSessions(t *testing.T) {
	f := newFixture(t)
	rec := f.do(t, "GET", "/api/sessions", "")
	if rec.Code != http.StatusOK || strings.TrimSpace(rec.Body.String()) != `{"sessions":[]}` {
		t.Fatalf("empty list: %d %s", rec.Code, rec.Body)
	}
	var ids []string
	for _, title := range []string{"one", "two", "three"} {
		ids = append(ids, f.create(t, `{"title":"`+title+`"}`).ID)
		f.now = f.now.Add(time.Second)
	}
	list := decode[SessionList](t, f.do(t, "GET", "/api/sessions", ""))
	if len(list.Sessions) != 3 || list.Sessions[0].ID != ids[2] || list.Sessions[2].ID != ids[0] {
		t.Fatalf("list = %+v, want newest first %v", list, ids)
	}
	if list.Sessions[0].Title != "three" || list.Sessions[0].State != "created" {
		t.Errorf("first = %+v", list.Sessions[0])
	}
	list = decode[SessionList](t, f.do(t, "GET", "/api/sessions?limit=2", ""))
	if len(list.Sessions) != 2 {
		t.Errorf("limit=2 gave %d sessions", len(list.Sessions))
	}
	for _, bad := range []string{"0", "-1", "x", "501"} {
		wantError(t, f.do(t, "GET", "/api/sessions?limit="+bad, ""), 400, CodeBadRequest)
	}
}

func TestGetSession(t *testing.T) {
	f := newFixture(t)
	created := f.create(t, `{"title":"Demo","repName":"Ana"}`)
	id := created.ID

	rec := f.do(t, "GET", "/api/sessions/"+id, "")
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	for _, key := range []string{`"participants":[]`, `"tracks":[]`, `"modeChanges":[]`, `"markers":[]`, `"startedAt":null`} {
		if !strings.Contains(rec.Body.String(), key) {
			t.Errorf("body lacks %s: %s", key, rec.Body)
		}
	}

	// Fill in what a call would have recorded.
	ctx := t.Context()
	invites, err := f.store.Invites(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	at := f.now.Truncate(time.Millisecond).Add(time.Minute)
	left := at.Add(10 * time.Minute)
	must(t, f.store.AddParticipant(ctx, store.Participant{ID: "p-rep", SessionID: id, InviteID: invites[0].ID, Role: "rep", Name: "Ana", JoinedAt: at, LeftAt: &left}))
	must(t, f.store.AddParticipant(ctx, store.Participant{ID: "p-coach", SessionID: id, Role: "coach", Name: "Coach", JoinedAt: at.Add(time.Second)}))
	must(t, f.store.AddTrack(ctx, store.Track{ID: "t1", SessionID: id, ParticipantID: "p-rep", Role: "rep", Kind: "audio", Codec: "opus", File: "t1.webm", StartedAt: at, OffsetMs: 1500, DurationMs: 60000, Status: store.TrackComplete}))
	must(t, f.store.AddTrack(ctx, store.Track{ID: "t2", SessionID: id, ParticipantID: "p-coach", Role: "coach", Kind: "audio", Codec: "opus", Whisper: true, File: "t2.webm", StartedAt: at.Add(2 * time.Second), OffsetMs: 3000, DurationMs: 5000, Status: store.TrackComplete}))
	must(t, f.store.AddModeChange(ctx, store.ModeChange{ID: "m1", SessionID: id, ParticipantID: "p-coach", Mode: "whisper", Target: "p-rep", At: at.Add(2 * time.Second), OffsetMs: 3000}))
	must(t, f.store.AddMarker(ctx, store.Marker{ID: "k1", SessionID: id, ParticipantID: "p-coach", Note: "good question", At: at.Add(5 * time.Second), OffsetMs: 6000}))

	got := decode[SessionDetail](t, f.do(t, "GET", "/api/sessions/"+id, ""))
	if got.ID != id || got.Title != "Demo" || got.RepName != "Ana" {
		t.Errorf("session = %+v", got.Session)
	}
	if len(got.Invites) != 3 {
		t.Errorf("invites = %+v", got.Invites)
	}
	if len(got.Participants) != 2 || got.Participants[0].ID != "p-rep" || got.Participants[0].InviteID != invites[0].ID ||
		got.Participants[0].LeftAt == nil || !got.Participants[0].LeftAt.Equal(left) || got.Participants[1].LeftAt != nil {
		t.Errorf("participants = %+v", got.Participants)
	}
	if len(got.Tracks) != 2 || got.Tracks[0].OffsetMs != 1500 || got.Tracks[1].ParticipantID != "p-coach" || !got.Tracks[1].Whisper ||
		got.Tracks[0].Codec != "opus" || got.Tracks[0].File != "t1.webm" || got.Tracks[0].DurationMs != 60000 {
		t.Errorf("tracks = %+v", got.Tracks)
	}
	if len(got.ModeChanges) != 1 || got.ModeChanges[0].Mode != "whisper" || got.ModeChanges[0].Target != "p-rep" || got.ModeChanges[0].OffsetMs != 3000 {
		t.Errorf("modeChanges = %+v", got.ModeChanges)
	}
	if len(got.Markers) != 1 || got.Markers[0].Note != "good question" || got.Markers[0].OffsetMs != 6000 {
		t.Errorf("markers = %+v", got.Markers)
	}
	// The invite hashes never leave the server.
	if strings.Contains(f.do(t, "GET", "/api/sessions/"+id, "").Body.String(), invites[0].TokenHash) {
		t.Error("detail exposes an invite token hash")
	}

	wantError(t, f.do(t, "GET", "/api/sessions/no-such-id", ""), http.StatusNotFound, CodeNotFound)
}

func TestEndSession(t *testing.T) {
	f := newFixture(t)
	id := f.create(t, `{"title":"x"}`).ID
	f.now = f.now.Add(time.Hour)

	rec := f.do(t, "POST", "/api/sessions/"+id+"/end", "")
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	got := decode[Session](t, rec)
	if got.ID != id || got.State != store.SessionEnded || got.EndedAt == nil || !got.EndedAt.Equal(f.now.Truncate(time.Millisecond)) {
		t.Errorf("ended session = %+v", got)
	}
	if calls := f.live.calls(); len(calls) != 1 || calls[0] != id {
		t.Errorf("live EndSession calls = %v, want [%s]", calls, id)
	}
	if sess, err := f.store.Session(t.Context(), id); err != nil || sess.State != store.SessionEnded {
		t.Errorf("stored = %+v, %v", sess, err)
	}

	wantError(t, f.do(t, "POST", "/api/sessions/"+id+"/end", ""), http.StatusConflict, CodeConflict)
	if calls := f.live.calls(); len(calls) != 1 {
		t.Errorf("ending twice called the live plane again: %v", calls)
	}
	wantError(t, f.do(t, "POST", "/api/sessions/nope/end", ""), http.StatusNotFound, CodeNotFound)

	// An interrupted session is over too.
	id2 := f.create(t, `{"title":"y"}`).ID
	must(t, f.store.EndSession(t.Context(), id2, f.now, store.SessionInterrupted))
	wantError(t, f.do(t, "POST", "/api/sessions/"+id2+"/end", ""), http.StatusConflict, CodeConflict)
}

func TestEndSessionLiveFailure(t *testing.T) {
	f := newFixture(t)
	id := f.create(t, `{"title":"x"}`).ID
	f.live.err = errors.New("room exploded: secret detail")
	msg := wantError(t, f.do(t, "POST", "/api/sessions/"+id+"/end", ""), http.StatusInternalServerError, CodeInternal)
	if strings.Contains(msg.Message, "secret") {
		t.Errorf("500 message leaks the cause: %q", msg.Message)
	}
	if sess, _ := f.store.Session(t.Context(), id); sess.State != store.SessionCreated {
		t.Errorf("state = %q after a failed live end, want created", sess.State)
	}
}

func TestEndSessionLivePlaneRecordsEnd(t *testing.T) {
	f := newFixture(t)
	id := f.create(t, `{"title":"x"}`).ID
	f.live.hook = func(ctx context.Context, id string) error {
		return f.store.EndSession(ctx, id, f.now, store.SessionEnded)
	}
	rec := f.do(t, "POST", "/api/sessions/"+id+"/end", "")
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	if got := decode[Session](t, rec); got.State != store.SessionEnded {
		t.Errorf("state = %q", got.State)
	}
}

func TestRouting(t *testing.T) {
	f := newFixture(t)
	rec := f.do(t, "DELETE", "/api/sessions", "")
	wantError(t, rec, http.StatusMethodNotAllowed, CodeMethodNotAllowed)
	if allow := rec.Header().Get("Allow"); !strings.Contains(allow, "GET") || !strings.Contains(allow, "POST") {
		t.Errorf("Allow = %q", allow)
	}
	wantError(t, f.do(t, "GET", "/api/sessions/x/end", ""), http.StatusMethodNotAllowed, CodeMethodNotAllowed)
	wantError(t, f.do(t, "POST", "/healthz", ""), http.StatusMethodNotAllowed, CodeMethodNotAllowed)
	wantError(t, f.do(t, "GET", "/api/nothing-here", ""), http.StatusNotFound, CodeNotFound)
	if rec := f.do(t, "HEAD", "/healthz", "", "-"); rec.Code != http.StatusOK {
		t.Errorf("HEAD /healthz: %d", rec.Code)
	}
}

func TestClassify(t *testing.T) {
	tests := []struct {
		err    error
		status int
		code   string
	}{
		{badRequest("x"), 400, CodeBadRequest},
		{store.ErrInvalid, 400, CodeBadRequest},
		{jsonhttp.ErrUnauthorized, 401, CodeUnauthorized},
		{forbidden("x"), 403, CodeForbidden},
		{errNotFound, 404, CodeNotFound},
		{store.ErrNotFound, 404, CodeNotFound},
		{jsonhttp.ErrMethodNotAllowed, 405, CodeMethodNotAllowed},
		{jsonhttp.ErrConflict, 409, CodeConflict},
		{store.ErrConflict, 409, CodeConflict},
		{jsonhttp.ErrTooLarge, 413, CodeTooLarge},
		{jsonhttp.ErrUnavailable, 503, CodeUnavailable},
		{errors.New("disk on fire"), 500, CodeInternal},
	}
	for _, tt := range tests {
		got := classify(errors.Join(errors.New("context"), tt.err))
		if got.Status != tt.status || got.Code != tt.code || got.Message == "" {
			t.Errorf("classify(%v) = %+v, want %d %q", tt.err, got, tt.status, tt.code)
		}
	}
	if msg := classify(badRequest("title is required")).Message; msg != "title is required" {
		t.Errorf("client message = %q", msg)
	}
}

// TestOverHTTP runs the handler behind a real server once, with the Go client.
func TestOverHTTP(t *testing.T) {
	f := newFixture(t)
	srv := httptest.NewServer(f.h)
	defer srv.Close()
	c := NewClient(srv.URL, testAdminToken, srv.Client())
	ctx := t.Context()

	created, err := c.CreateSession(ctx, CreateSessionRequest{Title: "Over the wire", RepName: "Ana"})
	if err != nil {
		t.Fatal(err)
	}
	detail, err := c.Session(ctx, created.ID)
	if err != nil || detail.Title != "Over the wire" || len(detail.Invites) != 3 {
		t.Fatalf("detail = %+v, %v", detail, err)
	}
	list, err := c.ListSessions(ctx, 10)
	if err != nil || len(list) != 1 {
		t.Fatalf("list = %+v, %v", list, err)
	}
	ended, err := c.EndSession(ctx, created.ID)
	if err != nil || ended.State != store.SessionEnded {
		t.Fatalf("end = %+v, %v", ended, err)
	}
	_, err = c.EndSession(ctx, created.ID)
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.Status != http.StatusConflict || apiErr.Code != CodeConflict {
		t.Fatalf("second end: %v", err)
	}
	_, err = NewClient(srv.URL, "wrong", srv.Client()).ListSessions(ctx, 0)
	if !errors.As(err, &apiErr) || apiErr.Status != http.StatusUnauthorized {
		t.Fatalf("wrong token: %v", err)
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// FuzzCreateSession feeds arbitrary bodies to POST /api/sessions: the answer is always a
// created session or a client error, never a server error, and what is created obeys the
// rules.
func FuzzCreateSession(f *testing.F) {
	for _, seed := range []string{
		`{"title":"Discovery call","repName":"Ana","partnerName":"Ben","coachName":"Cleo","record":false}`,
		`{"title":"x"}`, `{"title":5}`, `{"title":"x","extra":1}`, `[]`, `null`, ``, `{"title":"x"} {}`,
		`{"title":"\u0000\ud800"}`, `{"title":"x","record":null}`,
	} {
		f.Add(seed)
	}
	fx := newFixture(f)
	f.Fuzz(func(t *testing.T, body string) {
		rec := fx.do(t, "POST", "/api/sessions", body)
		switch rec.Code {
		case http.StatusCreated:
			got := decode[CreateSessionResponse](t, rec)
			if got.Title == "" || utf8.RuneCountInString(got.Title) > maxTitleRunes ||
				utf8.RuneCountInString(got.RepName) > maxNameRunes || utf8.RuneCountInString(got.PartnerName) > maxNameRunes {
				t.Fatalf("created a session that breaks the rules: %+v", got.Session)
			}
			if got.Invites.Rep == "" || got.Invites.Partner == "" || got.Invites.Coach == "" {
				t.Fatalf("missing invites: %+v", got.Invites)
			}
		case http.StatusNotFound:
			if e := decode[errorResponse](t, rec).Error; e.Code != CodeNotFound || !strings.Contains(e.Message, "no rep with id") {
				t.Fatalf("404 that is not an unknown rep: %+v", e)
			}
		case http.StatusBadRequest, http.StatusRequestEntityTooLarge:
			if decode[errorResponse](t, rec).Error.Code == "" {
				t.Fatal("error without a code")
			}
		default:
			t.Fatalf("status %d for %q: %s", rec.Code, body, rec.Body)
		}
	})
}
