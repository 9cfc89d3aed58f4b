package coachapi_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"ringside/internal/app"
	"ringside/internal/app/apptest"
	"ringside/internal/coachapi"
	"ringside/internal/httpapi"
)

// postgresEnv names the PostgreSQL server the tests use (scripts/test.sh starts one). It must
// allow CREATE DATABASE: each test gets a database of its own.
const postgresEnv = "RINGSIDE_TEST_POSTGRES"

// forEachEngine runs fn against a whole server on SQLite and another on PostgreSQL.
func forEachEngine(t *testing.T, fn func(t *testing.T, s *apptest.Server)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) { fn(t, apptest.Start(t)) })
	t.Run("postgres", func(t *testing.T) { fn(t, apptest.Start(t, apptest.WithDB(postgresDSN(t)))) })
}

// postgresDSN creates an empty database, dropped when the test ends, and returns its URL. A
// missing server fails the test: a run that never touched PostgreSQL proves nothing about it.
func postgresDSN(t *testing.T) string {
	t.Helper()
	admin := os.Getenv(postgresEnv)
	if admin == "" {
		t.Fatalf("%s is not set: run `make test`, which starts a throwaway PostgreSQL", postgresEnv)
	}
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatalf("%s: %v", postgresEnv, err)
	}
	db, err := sql.Open("pgx", admin)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	name := "rs_" + strings.ReplaceAll(uuid.NewString(), "-", "")
	if _, err := db.ExecContext(context.Background(), "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		if _, err := db.ExecContext(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("drop test database: %v", err)
		}
	})
	u.Path = "/" + name
	return u.String()
}

// caller is who sends a request: nobody, a cookie, or a bearer token.
type caller struct {
	cookie string // the session cookie's value
	bearer string
}

var anonymous = caller{}

// world is a server with two teams, a rep and a coach in each, an admin user, a session made
// with the admin token, rep A's session (made by coach A, with invites and a recording on
// disk), a scorecard and scenario by coach A, and an assignment of it to rep A.
type world struct {
	t       *testing.T
	s       *apptest.Server
	hc      *http.Client
	callers map[string]caller // anon, repA, repB, coachA, coachB, admin, token; repInvite, partnerInvite, coachInvite
	keys    map[string]caller // after withKeys, an API key of each user: repA, repB, coachA, coachB, admin
	ids     map[string]string // teamA, teamB, repA, …, session, sessionA, repFile, scorecard, criterion, scenario, assignment, webhook
}

func newWorld(t *testing.T, s *apptest.Server) *world {
	t.Helper()
	transport := &http.Transport{}
	t.Cleanup(transport.CloseIdleConnections)
	w := &world{
		t: t, s: s,
		hc: &http.Client{Transport: transport, Timeout: 30 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
		callers: map[string]caller{"anon": anonymous, "token": {bearer: s.AdminToken}},
		keys:    map[string]caller{},
		ids:     map[string]string{},
	}
	token := w.callers["token"]
	for _, team := range []string{"A", "B"} {
		var tm coachapi.Team
		w.mustJSON(token, "POST", "/api/teams", `{"name":"Team `+team+`"}`, http.StatusCreated, &tm)
		w.ids["team"+team] = tm.ID
	}
	for _, u := range []struct{ who, role, team string }{
		{"repA", "rep", "A"}, {"repB", "rep", "B"}, {"coachA", "coach", "A"}, {"coachB", "coach", "B"}, {"admin", "admin", ""},
	} {
		teams := "[]"
		if u.team != "" {
			teams = `["` + w.ids["team"+u.team] + `"]`
		}
		inv := w.invite(u.who+"@example.com", u.role, teams)
		w.ids[u.who] = inv.User.ID
		w.callers[u.who] = w.signIn(linkToken(t, inv.SignInURL))
	}
	sess, err := s.API.CreateSession(t.Context(), httpapi.CreateSessionRequest{Title: "Practice"})
	if err != nil {
		t.Fatal(err)
	}
	w.ids["session"] = sess.ID
	repSession := w.sessionOfRepA()
	w.ids["sessionA"] = repSession.ID
	for who, link := range map[string]string{"repInvite": repSession.Invites.Rep, "partnerInvite": repSession.Invites.Partner,
		"coachInvite": repSession.Invites.Coach} {
		w.callers[who] = caller{bearer: link[strings.LastIndex(link, "/join/")+len("/join/"):]}
	}
	w.ids["repFile"] = w.recording(repSession.ID)
	coachA := w.callers["coachA"]
	var card coachapi.Scorecard
	w.mustJSON(coachA, "POST", "/api/scorecards", `{"title":"Discovery","criteria":[
		{"label":"Open questions","kind":"rating","weight":3},{"label":"Next step","kind":"yesno"},{"label":"Notes","kind":"comment"}]}`,
		http.StatusCreated, &card)
	w.ids["scorecard"], w.ids["criterion"] = card.ID, card.Criteria[0].ID
	var scen coachapi.Scenario
	w.mustJSON(coachA, "POST", "/api/scenarios", `{"title":"Price objection","persona":"CFO","objections":["too dear"],
		"goodLooksLike":"value first","scorecardId":"`+card.ID+`"}`, http.StatusCreated, &scen)
	w.ids["scenario"] = scen.ID
	w.ids["assignment"] = w.assignment(false)
	var hook coachapi.NewWebhook
	w.mustJSON(token, "POST", "/api/webhooks", `{"url":"http://127.0.0.1:9/hook","events":["feedback.posted"]}`, http.StatusCreated, &hook)
	w.ids["webhook"] = hook.ID
	return w
}

// withKeys gives each user of the world an API key, in w.keys.
func (w *world) withKeys() {
	w.t.Helper()
	for _, who := range []string{"repA", "repB", "coachA", "coachB", "admin"} {
		var key coachapi.NewAPIKey
		w.mustJSON(w.callers[who], "POST", "/api/auth/keys", `{"name":"matrix"}`, http.StatusCreated, &key)
		w.keys[who] = caller{bearer: key.Key}
	}
}

// sessionOfRepA has coach A create a session for rep A, with its cookie.
func (w *world) sessionOfRepA() httpapi.CreateSessionResponse {
	w.t.Helper()
	var sess httpapi.CreateSessionResponse
	w.mustJSON(w.callers["coachA"], "POST", "/api/sessions", `{"title":"Rep A's call","repId":"`+w.ids["repA"]+`"}`,
		http.StatusCreated, &sess)
	return sess
}

// recording writes a recording of session id into the server's recordings directory, as the
// recorder would have: the rep's audio, and a coach's whisper to the partner, which the rep may
// not see. It returns the rep's file.
func (w *world) recording(id string) string {
	w.t.Helper()
	const repFile, coachFile = "rep-0000000a-audio-1.webm", "coach-0000000c-audio-1.webm"
	start := time.Now().Add(-time.Hour).UTC()
	manifest := fmt.Sprintf(`{"version": 1, "sessionId": %q, "startedAt": %q, "endedAt": %q, "status": "complete",
		"tracks": [
			{"id": "t-rep", "participantId": "p-rep", "role": "rep", "name": "Rep A", "kind": "audio", "codec": "opus",
			 "file": %q, "startOffsetMs": 0, "durationMs": 60000, "whisper": false, "status": "complete"},
			{"id": "t-coach", "participantId": "p-coach", "role": "coach", "name": "Coach A", "kind": "audio", "codec": "opus",
			 "file": %q, "startOffsetMs": 10000, "durationMs": 5000, "whisper": true, "status": "complete"}],
		"modeChanges": [{"participantId": "p-coach", "mode": "whisper", "target": "p-partner", "offsetMs": 10000},
			{"participantId": "p-coach", "mode": "silent", "offsetMs": 15000}],
		"markers": []}`, id, start.Format(time.RFC3339Nano), start.Add(time.Minute).Format(time.RFC3339Nano), repFile, coachFile)
	dir := filepath.Join(w.s.DataDir, app.RecordingsDir, id)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		w.t.Fatal(err)
	}
	for name, data := range map[string]string{"manifest.json": manifest, repFile: "rep's sound", coachFile: "coach's whisper"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o600); err != nil {
			w.t.Fatal(err)
		}
	}
	return repFile
}

// invite invites someone with the admin token and returns the invitation.
func (w *world) invite(email, role, teamIDs string) coachapi.Invitation {
	w.t.Helper()
	var inv coachapi.Invitation
	w.mustJSON(w.callers["token"], "POST", "/api/users",
		`{"email":"`+email+`","role":"`+role+`","teamIds":`+teamIDs+`}`, http.StatusCreated, &inv)
	return inv
}

// clone signs in a new user with the role and teams of the user who.
func (w *world) clone(who string) caller {
	w.t.Helper()
	var u coachapi.User
	w.mustJSON(w.callers["token"], "GET", "/api/users/"+w.ids[who], "", http.StatusOK, &u)
	teams, _ := json.Marshal(u.TeamIDs)
	inv := w.invite(fmt.Sprintf("clone-%s-%d@example.com", who, time.Now().UnixNano()), u.Role, string(teams))
	return w.signIn(linkToken(w.t, inv.SignInURL))
}

// freshLink issues a new sign-in link for the user who and returns its token.
func (w *world) freshLink(who string) string {
	w.t.Helper()
	var inv coachapi.Invitation
	w.mustJSON(w.callers["token"], "POST", "/api/users/"+w.ids[who]+"/signin-link", "", http.StatusCreated, &inv)
	return linkToken(w.t, inv.SignInURL)
}

// signIn uses a sign-in link's token and returns the caller holding the session cookie.
func (w *world) signIn(token string) caller {
	w.t.Helper()
	resp, body := w.do(anonymous, "POST", "/api/auth/signin", `{"token":"`+token+`"}`)
	if resp.StatusCode != http.StatusOK {
		w.t.Fatalf("sign in: %d %s", resp.StatusCode, body)
	}
	for _, c := range resp.Cookies() {
		if c.Name == coachapi.CookieName && c.Value != "" {
			return caller{cookie: c.Value}
		}
	}
	w.t.Fatalf("sign in set no %s cookie: %v", coachapi.CookieName, resp.Header["Set-Cookie"])
	return caller{}
}

// assignment has coach A assign the scenario to rep A, submitted by rep A when submitted.
func (w *world) assignment(submitted bool) string {
	w.t.Helper()
	var list coachapi.AssignmentList
	due := time.Now().Add(48 * time.Hour).UTC().Format(time.RFC3339)
	w.mustJSON(w.callers["coachA"], "POST", "/api/assignments",
		`{"scenarioId":"`+w.ids["scenario"]+`","repIds":["`+w.ids["repA"]+`"],"dueAt":"`+due+`"}`, http.StatusCreated, &list)
	id := list.Assignments[0].ID
	if submitted {
		w.mustJSON(w.callers["repA"], "POST", "/api/assignments/"+id+"/submit", `{"sessionId":"`+w.ids["sessionA"]+`"}`, http.StatusOK, nil)
	}
	return id
}

// soloAssignment has coach A assign the scenario to rep A, to be recorded solo.
func (w *world) soloAssignment() string {
	w.t.Helper()
	var list coachapi.AssignmentList
	due := time.Now().Add(48 * time.Hour).UTC().Format(time.RFC3339)
	w.mustJSON(w.callers["coachA"], "POST", "/api/assignments",
		`{"scenarioId":"`+w.ids["scenario"]+`","repIds":["`+w.ids["repA"]+`"],"dueAt":"`+due+`","mode":"solo"}`, http.StatusCreated, &list)
	return list.Assignments[0].ID
}

// liveAssignment has coach A assign the scenario to rep A, to be done in a live call.
func (w *world) liveAssignment() string {
	w.t.Helper()
	var list coachapi.AssignmentList
	due := time.Now().Add(48 * time.Hour).UTC().Format(time.RFC3339)
	w.mustJSON(w.callers["coachA"], "POST", "/api/assignments",
		`{"scenarioId":"`+w.ids["scenario"]+`","repIds":["`+w.ids["repA"]+`"],"dueAt":"`+due+`","mode":"live"}`, http.StatusCreated, &list)
	return list.Assignments[0].ID
}

// do sends a request as c and returns the response and its body.
func (w *world) do(c caller, method, path, body string) (*http.Response, string) {
	w.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(w.t.Context(), method, w.s.URL+path, rd)
	if err != nil {
		w.t.Fatal(err)
	}
	if c.cookie != "" {
		req.AddCookie(&http.Cookie{Name: coachapi.CookieName, Value: c.cookie})
	}
	if c.bearer != "" {
		req.Header.Set("Authorization", "Bearer "+c.bearer)
	}
	resp, err := w.hc.Do(req)
	if err != nil {
		w.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		w.t.Fatal(err)
	}
	return resp, string(b)
}

// mustJSON sends a request, fails the test unless the status is want, and decodes the body
// into out (when not nil).
func (w *world) mustJSON(c caller, method, path, body string, want int, out any) {
	w.t.Helper()
	resp, b := w.do(c, method, path, body)
	if resp.StatusCode != want {
		w.t.Fatalf("%s %s: status %d, want %d; body %s", method, path, resp.StatusCode, want, b)
	}
	if out != nil {
		if err := json.Unmarshal([]byte(b), out); err != nil {
			w.t.Fatalf("%s %s: decode %q: %v", method, path, b, err)
		}
	}
}

// linkToken is the token at the end of a sign-in URL.
func linkToken(t *testing.T, signInURL string) string {
	t.Helper()
	_, token, ok := strings.Cut(signInURL, "/api/auth/link/")
	if !ok || token == "" {
		t.Fatalf("sign-in URL %q has no /api/auth/link/<token>", signInURL)
	}
	return token
}
