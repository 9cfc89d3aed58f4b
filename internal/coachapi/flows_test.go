package coachapi_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"ringside/internal/app/apptest"
	"ringside/internal/coachapi"
	"ringside/internal/store"
	"ringside/internal/webhook"
)

// sessionCookie returns the session cookie a response sets, or nil.
func sessionCookie(resp *http.Response) *http.Cookie {
	for _, c := range resp.Cookies() {
		if c.Name == coachapi.CookieName {
			return c
		}
	}
	return nil
}

func TestSignInLinkIsSingleUseAndSetsASafeCookie(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *apptest.Server) {
		w := newWorld(t, s)
		inv := w.invite("dee@example.com", "rep", `["`+w.ids["teamA"]+`"]`)
		if !strings.HasPrefix(inv.SignInURL, s.URL+"/api/auth/link/") || inv.User.Email != "dee@example.com" {
			t.Fatalf("invitation = %+v", inv)
		}
		path := strings.TrimPrefix(inv.SignInURL, s.URL)

		// Opening the link (as a chat preview would) shows a page and spends nothing.
		for range 2 {
			resp, body := w.do(anonymous, "GET", path, "")
			if resp.StatusCode != http.StatusOK || !strings.Contains(body, "dee@example.com") || !strings.Contains(body, `<form method="post">`) {
				t.Fatalf("link page: %d %s", resp.StatusCode, body)
			}
			if resp.Header.Get("Referrer-Policy") != "no-referrer" || !strings.Contains(resp.Header.Get("Content-Security-Policy"), "form-action 'self'") ||
				sessionCookie(resp) != nil {
				t.Fatalf("link page headers: %v", resp.Header)
			}
		}

		// Another site cannot post the form for the victim.
		req, _ := http.NewRequest("POST", inv.SignInURL, nil)
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		if resp, err := w.hc.Do(req); err != nil || resp.StatusCode != http.StatusForbidden {
			t.Fatalf("cross-site form post: %v %v", resp.StatusCode, err)
		} else {
			resp.Body.Close()
		}

		resp, _ := w.do(anonymous, "POST", path, "")
		c := sessionCookie(resp)
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/signin" || c == nil {
			t.Fatalf("form sign-in: %d, Location %q, cookie %v", resp.StatusCode, resp.Header.Get("Location"), c)
		}
		if !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.Secure || c.MaxAge < 29*24*3600 {
			t.Fatalf("cookie %+v: want HttpOnly, SameSite=Lax, Path=/, not Secure over plain HTTP, a month long", c)
		}
		var me coachapi.Me
		w.mustJSON(caller{cookie: c.Value}, "GET", "/api/auth/me", "", http.StatusOK, &me)
		if me.Via != "session" || me.User == nil || me.User.Email != "dee@example.com" || me.Role != "rep" {
			t.Fatalf("me = %+v", me)
		}

		// The link is spent: the form, the JSON sign-in and the page all refuse it now.
		if resp, body := w.do(anonymous, "POST", path, ""); resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "used already") {
			t.Fatalf("second use of the link: %d %s", resp.StatusCode, body)
		}
		token := linkToken(t, inv.SignInURL)
		if resp, body := w.do(anonymous, "POST", "/api/auth/signin", `{"token":"`+token+`"}`); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("JSON sign-in with a spent link: %d %s", resp.StatusCode, body)
		}
		if resp, _ := w.do(anonymous, "GET", path, ""); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("page of a spent link: %d", resp.StatusCode)
		}
		// Only hashes are stored.
		st := s.App.Store()
		if _, err := st.MagicLinkByTokenHash(t.Context(), token); err == nil {
			t.Fatal("the link's token is stored in the clear")
		}
		if _, err := st.UserSessionByTokenHash(t.Context(), c.Value); err == nil {
			t.Fatal("the cookie's token is stored in the clear")
		}
		if _, err := st.UserSessionByTokenHash(t.Context(), store.HashToken(c.Value)); err != nil {
			t.Fatalf("session by hash: %v", err)
		}
	})
}

func TestStolenCookieIsRevokedBySignOutEverywhere(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *apptest.Server) {
		w := newWorld(t, s)
		phone := w.signIn(w.freshLink("repA"))
		laptop := w.signIn(w.freshLink("repA"))
		stolen := phone // the thief copied the phone's cookie

		w.mustJSON(stolen, "GET", "/api/assignments", "", http.StatusOK, nil)
		var out coachapi.SignOutAllResponse
		w.mustJSON(laptop, "POST", "/api/auth/signout-all", "", http.StatusOK, &out)
		if out.Revoked != 3 { // the world's own session of rep A, the phone's and the laptop's
			t.Fatalf("revoked %d sessions, want 3", out.Revoked)
		}
		for name, c := range map[string]caller{"stolen": stolen, "laptop": laptop, "original": w.callers["repA"]} {
			resp, body := w.do(c, "GET", "/api/auth/me", "")
			if resp.StatusCode != http.StatusUnauthorized {
				t.Fatalf("%s cookie after sign-out everywhere: %d %s", name, resp.StatusCode, body)
			}
			if gone := sessionCookie(resp); gone == nil || gone.MaxAge >= 0 {
				t.Fatalf("%s: a dead cookie is not cleared: %v", name, resp.Header["Set-Cookie"])
			}
		}
		// Other people's sessions are untouched.
		w.mustJSON(w.callers["repB"], "GET", "/api/auth/me", "", http.StatusOK, nil)

		// Signing out one browser ends that session only.
		one, two := w.signIn(w.freshLink("coachA")), w.signIn(w.freshLink("coachA"))
		resp, _ := w.do(one, "POST", "/api/auth/signout", "")
		if resp.StatusCode != http.StatusNoContent || sessionCookie(resp) == nil || sessionCookie(resp).MaxAge >= 0 {
			t.Fatalf("sign out: %d %v", resp.StatusCode, resp.Header["Set-Cookie"])
		}
		w.mustJSON(one, "GET", "/api/auth/me", "", http.StatusUnauthorized, nil)
		w.mustJSON(two, "GET", "/api/auth/me", "", http.StatusOK, nil)

		// An admin ends someone's sessions; disabling does too.
		w.mustJSON(w.callers["admin"], "POST", "/api/users/"+w.ids["coachA"]+"/signout", "", http.StatusOK, nil)
		w.mustJSON(two, "GET", "/api/auth/me", "", http.StatusUnauthorized, nil)
		b := w.signIn(w.freshLink("coachB"))
		w.mustJSON(w.callers["token"], "PATCH", "/api/users/"+w.ids["coachB"], `{"disabled":true}`, http.StatusOK, nil)
		w.mustJSON(b, "GET", "/api/auth/me", "", http.StatusUnauthorized, nil)
		w.mustJSON(w.callers["token"], "POST", "/api/users/"+w.ids["coachB"]+"/signin-link", "", http.StatusConflict, nil)
	})
}

func TestCrossSiteCookieRequestsAreRefused(t *testing.T) {
	s := apptest.Start(t)
	w := newWorld(t, s)
	for name, header := range map[string][2]string{
		"Sec-Fetch-Site cross-site": {"Sec-Fetch-Site", "cross-site"},
		"Sec-Fetch-Site same-site":  {"Sec-Fetch-Site", "same-site"},
		"foreign Origin":            {"Origin", "https://evil.example"},
	} {
		req, _ := http.NewRequest("POST", s.URL+"/api/auth/keys", strings.NewReader(`{"name":"x"}`))
		req.AddCookie(&http.Cookie{Name: coachapi.CookieName, Value: w.callers["coachA"].cookie})
		req.Header.Set(header[0], header[1])
		resp, err := w.hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s: status %d, want 403", name, resp.StatusCode)
		}
	}
	req, _ := http.NewRequest("POST", s.URL+"/api/auth/keys", strings.NewReader(`{"name":"x"}`))
	req.AddCookie(&http.Cookie{Name: coachapi.CookieName, Value: w.callers["coachA"].cookie})
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	req.Header.Set("Origin", s.URL)
	resp, err := w.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("same-origin: status %d, want 201", resp.StatusCode)
	}
	// A same-origin form on a page sent with no-referrer posts with "Origin: null".
	req, _ = http.NewRequest("POST", s.URL+"/api/auth/keys", strings.NewReader(`{"name":"y"}`))
	req.AddCookie(&http.Cookie{Name: coachapi.CookieName, Value: w.callers["coachA"].cookie})
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	req.Header.Set("Origin", "null")
	if resp, err = w.hc.Do(req); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("same-origin with Origin null: status %d, want 201", resp.StatusCode)
	}
	// A bearer token is not a cookie: no browser sends it by itself, so no check applies.
	req, _ = http.NewRequest("POST", s.URL+"/api/teams", strings.NewReader(`{"name":"Z"}`))
	req.Header.Set("Authorization", "Bearer "+s.AdminToken)
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	if resp, err := w.hc.Do(req); err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("bearer cross-site: %v %v", resp.StatusCode, err)
	}
}

func TestAPIKeysAndTheAdminToken(t *testing.T) {
	s := apptest.Start(t)
	w := newWorld(t, s)
	var k coachapi.NewAPIKey
	w.mustJSON(w.callers["coachA"], "POST", "/api/auth/keys", `{"name":"CRM sync"}`, http.StatusCreated, &k)
	if !strings.HasPrefix(k.Key, "rsk_") || !strings.HasPrefix(k.Key, k.Prefix) || k.UserID != w.ids["coachA"] {
		t.Fatalf("new key = %+v", k)
	}
	key := caller{bearer: k.Key}
	var me coachapi.Me
	w.mustJSON(key, "GET", "/api/auth/me", "", http.StatusOK, &me)
	if me.Via != "key" || me.User.ID != w.ids["coachA"] || me.Role != "coach" {
		t.Fatalf("me with a key = %+v", me)
	}
	// A key acts with its user's rights, no more.
	w.mustJSON(key, "GET", "/api/users/"+w.ids["repB"], "", http.StatusNotFound, nil)
	var list coachapi.APIKeyList
	w.mustJSON(w.callers["coachA"], "GET", "/api/auth/keys", "", http.StatusOK, &list)
	if len(list.Keys) != 1 || list.Keys[0].Prefix != k.Prefix || list.Keys[0].LastUsedAt == nil {
		t.Fatalf("keys = %+v", list)
	}
	if strings.Contains(mustBody(t, w, w.callers["coachA"], "/api/auth/keys"), k.Key) {
		t.Fatal("the key is shown again after creation")
	}
	w.mustJSON(w.callers["coachA"], "DELETE", "/api/auth/keys/"+k.ID, "", http.StatusNoContent, nil)
	w.mustJSON(key, "GET", "/api/auth/me", "", http.StatusUnauthorized, nil)

	w.mustJSON(w.callers["token"], "GET", "/api/auth/me", "", http.StatusOK, &me)
	if !me.SuperAdmin || me.User != nil || me.Via != "token" || me.Role != "admin" {
		t.Fatalf("me with the admin token = %+v", me)
	}
	for _, bad := range []string{"Bearer nope", "Basic abc", "Bearer"} {
		req, _ := http.NewRequest("GET", s.URL+"/api/auth/me", nil)
		req.Header.Set("Authorization", bad)
		resp, err := w.hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("WWW-Authenticate") == "" {
			t.Errorf("Authorization %q: %d %v", bad, resp.StatusCode, resp.Header)
		}
	}
	// The session API of the live rooms still answers the admin token, beside this one.
	w.mustJSON(w.callers["token"], "GET", "/api/sessions", "", http.StatusOK, nil)
}

func mustBody(t *testing.T, w *world, c caller, path string) string {
	t.Helper()
	resp, body := w.do(c, "GET", path, "")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, resp.StatusCode, body)
	}
	return body
}

// TestEachSeesOnlyTheirOwn checks the contents of lists, which the matrix (statuses only)
// does not: a rep's lists hold their own items, a coach's their teams' reps'.
func TestEachSeesOnlyTheirOwn(t *testing.T) {
	s := apptest.Start(t)
	w := newWorld(t, s)
	w.assignment(true)
	w.mustJSON(w.callers["coachA"], "POST", "/api/scorecards/"+w.ids["scorecard"]+"/scores",
		`{"sessionId":"`+w.ids["session"]+`","repId":"`+w.ids["repA"]+`","ratings":[{"criterionId":"`+w.ids["criterion"]+`","value":5}]}`, http.StatusCreated, nil)

	count := func(who, path, field string) int {
		var m map[string]json.RawMessage
		var list []json.RawMessage
		if err := json.Unmarshal([]byte(mustBody(t, w, w.callers[who], path)), &m); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(m[field], &list); err != nil {
			t.Fatalf("GET %s: field %s: %v", path, field, err)
		}
		return len(list)
	}
	for _, tc := range []struct {
		who, path, field string
		want             int
	}{
		{"repA", "/api/users", "users", 1}, {"coachA", "/api/users", "users", 2}, {"coachB", "/api/users", "users", 2},
		{"admin", "/api/users", "users", 5}, {"token", "/api/users", "users", 5},
		{"repA", "/api/assignments", "assignments", 2}, {"repB", "/api/assignments", "assignments", 0},
		{"coachA", "/api/assignments", "assignments", 2}, {"coachB", "/api/assignments", "assignments", 0},
		{"repA", "/api/scenarios", "scenarios", 1}, {"repB", "/api/scenarios", "scenarios", 0}, {"coachB", "/api/scenarios", "scenarios", 1},
		{"repA", "/api/scorecards", "scorecards", 1}, {"repB", "/api/scorecards", "scorecards", 0},
		{"coachA", "/api/reviews", "reviews", 1}, {"coachB", "/api/reviews", "reviews", 0}, {"admin", "/api/reviews", "reviews", 1},
		{"coachA", "/api/scorecards/{scorecard}/scores", "scores", 1}, {"coachB", "/api/scorecards/{scorecard}/scores", "scores", 0},
		{"repA", "/api/scorecards/{scorecard}/rollup", "reps", 1}, {"coachB", "/api/scorecards/{scorecard}/rollup", "reps", 0},
		{"repA", "/api/teams", "teams", 1}, {"admin", "/api/teams", "teams", 2},
		{"repA", "/api/teams/{teamA}", "members", 1}, {"coachA", "/api/teams/{teamA}", "members", 2},
		{"repA", "/api/assignments?rep={repB}", "assignments", 0}, {"coachA", "/api/assignments?state=submitted", "assignments", 1},
	} {
		path := strings.NewReplacer("{scorecard}", w.ids["scorecard"], "{teamA}", w.ids["teamA"], "{repB}", w.ids["repB"]).Replace(tc.path)
		if got := count(tc.who, path, tc.field); got != tc.want {
			t.Errorf("GET %s as %s: %d %s, want %d", tc.path, tc.who, got, tc.field, tc.want)
		}
	}
	w.mustJSON(w.callers["repA"], "GET", "/api/assignments?state=late", "", http.StatusBadRequest, nil)
}

func TestDisclosureBannerForGuests(t *testing.T) {
	s := apptest.Start(t)
	w := newWorld(t, s)
	_, _, tokens := s.CreateSession(t, "Discovery call")

	read := func(query string, want int) coachapi.Disclosure {
		t.Helper()
		resp, body := w.do(anonymous, "GET", "/api/auth/disclosure"+query, "")
		if resp.StatusCode != want {
			t.Fatalf("disclosure%s: %d %s", query, resp.StatusCode, body)
		}
		var d coachapi.Disclosure
		dec := json.NewDecoder(strings.NewReader(body))
		dec.DisallowUnknownFields() // the banner says whether, never who or when
		if want == http.StatusOK {
			if err := dec.Decode(&d); err != nil {
				t.Fatalf("disclosure body %s: %v", body, err)
			}
		}
		return d
	}
	if d := read("?invite="+tokens["partner"], http.StatusOK); d.Enabled || d.Text != "" {
		t.Fatalf("default disclosure = %+v, want off", d)
	}
	w.mustJSON(w.callers["admin"], "PUT", "/api/audit/disclosure", `{"enabled":true,"text":"A coach may observe this call."}`, http.StatusOK, nil)
	for _, role := range []string{"rep", "partner", "coach"} {
		if d := read("?invite="+tokens[role], http.StatusOK); !d.Enabled || d.Text != "A coach may observe this call." {
			t.Fatalf("%s's banner = %+v", role, d)
		}
	}
	read("?invite=not-an-invite", http.StatusUnauthorized)
	read("", http.StatusUnauthorized)
	w.mustJSON(w.callers["token"], "PUT", "/api/audit/disclosure", `{"enabled":false,"text":"kept for later"}`, http.StatusOK, nil)
	if d := read("?invite="+tokens["rep"], http.StatusOK); d.Enabled || d.Text != "" {
		t.Fatalf("a disabled banner shows %+v", d)
	}
	var d coachapi.Disclosure
	w.mustJSON(w.callers["admin"], "GET", "/api/audit/disclosure", "", http.StatusOK, &d)
	if d.Enabled || d.Text != "kept for later" {
		t.Fatalf("admin's view = %+v", d)
	}
}

// TestReviewPostsSignedWebhook runs the cadence through the whole server: assign, submit,
// claim, review with a score; the review reaches an integration as a signed feedback.posted,
// and the delivery log, roll-up and statistics show it.
func TestReviewPostsSignedWebhook(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *apptest.Server) {
		var (
			mu  sync.Mutex
			got []*http.Request
			raw [][]byte
		)
		recv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			mu.Lock()
			got, raw = append(got, r), append(raw, body)
			mu.Unlock()
			rw.WriteHeader(http.StatusOK)
		}))
		defer recv.Close()
		w := newWorld(t, s)
		var hook coachapi.NewWebhook
		w.mustJSON(w.callers["admin"], "POST", "/api/webhooks", `{"url":"`+recv.URL+`/in","events":["feedback.posted"]}`, http.StatusCreated, &hook)
		if !strings.HasPrefix(hook.Secret, "whsec_") {
			t.Fatalf("webhook = %+v", hook)
		}

		id := w.assignment(true)
		var claimed coachapi.Assignment
		w.mustJSON(w.callers["coachA"], "POST", "/api/reviews/"+id+"/claim", "", http.StatusOK, &claimed)
		if !claimed.Claimed || claimed.ClaimedBy != w.ids["coachA"] || claimed.State != "submitted" {
			t.Fatalf("claimed = %+v", claimed)
		}
		w.mustJSON(w.callers["admin"], "POST", "/api/reviews/"+id+"/complete", `{}`, http.StatusConflict, nil)
		var done coachapi.Assignment
		w.mustJSON(w.callers["coachA"], "POST", "/api/reviews/"+id+"/complete",
			`{"comments":[{"offsetMs":4200,"text":"Nice recovery on price"}],"ratings":[{"criterionId":"`+w.ids["criterion"]+`","value":4}]}`,
			http.StatusOK, &done)
		if done.State != "reviewed" || done.ReviewedBy != w.ids["coachA"] || done.ReviewedAt == nil {
			t.Fatalf("reviewed = %+v", done)
		}

		deadline := time.Now().Add(10 * time.Second)
		for {
			mu.Lock()
			n := len(got)
			mu.Unlock()
			if n > 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("the integration never got feedback.posted")
			}
			time.Sleep(10 * time.Millisecond)
		}
		mu.Lock()
		req, body := got[0], raw[0]
		mu.Unlock()
		if err := webhook.Verify(hook.Secret, req.Header.Get(webhook.HeaderSignature), body, time.Now(), time.Minute); err != nil {
			t.Fatalf("signature: %v", err)
		}
		var env struct {
			Type string
			Data struct {
				AssignmentID string
				Scored       bool
			}
		}
		if err := json.Unmarshal(body, &env); err != nil || env.Type != "feedback.posted" || env.Data.AssignmentID != id || !env.Data.Scored {
			t.Fatalf("delivery %s: %+v, %v", body, env, err)
		}
		for deadline = time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
			var log coachapi.DeliveryList
			w.mustJSON(w.callers["admin"], "GET", "/api/webhooks/"+hook.ID+"/deliveries", "", http.StatusOK, &log)
			if len(log.Deliveries) == 1 && log.Deliveries[0].Status == "delivered" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("delivery log = %+v", log)
			}
		}

		var roll coachapi.Rollup
		w.mustJSON(w.callers["repA"], "GET", "/api/scorecards/"+w.ids["scorecard"]+"/rollup", "", http.StatusOK, &roll)
		if len(roll.Reps) != 1 || roll.Reps[0].Overall == nil || *roll.Reps[0].Overall != 75 {
			t.Fatalf("rollup = %+v", roll)
		}
		var stats coachapi.FeedbackStats
		w.mustJSON(w.callers["coachA"], "GET", "/api/reviews/stats", "", http.StatusOK, &stats)
		if len(stats.Coaches) != 1 || stats.Coaches[0].ID != w.ids["coachA"] || stats.Coaches[0].Reviews != 1 || len(stats.Teams) != 1 ||
			stats.Teams[0].ID != w.ids["teamA"] || stats.Pending != 0 {
			t.Fatalf("stats = %+v", stats)
		}
		comments, err := s.App.Store().Comments(t.Context(), w.ids["sessionA"])
		if err != nil || len(comments) != 1 || comments[0].Text != "Nice recovery on price" {
			t.Fatalf("replay comments = %+v, %v", comments, err)
		}
	})
}

func TestUnknownRoutesAnswerInJSON(t *testing.T) {
	s := apptest.Start(t)
	w := newWorld(t, s)
	for _, tc := range []struct {
		method, path string
		status       int
		code         string
	}{
		{"GET", "/api/users/x/y", http.StatusNotFound, "not_found"},
		{"GET", "/api/auth", http.StatusNotFound, "not_found"},
		{"PUT", "/api/users", http.StatusMethodNotAllowed, "method_not_allowed"},
		{"POST", "/api/teams", http.StatusBadRequest, "bad_request"},
		{"POST", "/api/teams/", http.StatusNotFound, "not_found"},
	} {
		resp, body := w.do(w.callers["token"], tc.method, tc.path, "")
		var e struct{ Error coachapi.ErrorBody }
		if err := json.Unmarshal([]byte(body), &e); err != nil || resp.StatusCode != tc.status || e.Error.Code != tc.code {
			t.Errorf("%s %s: %d %s", tc.method, tc.path, resp.StatusCode, body)
		}
	}
	resp, body := w.do(w.callers["token"], "POST", "/api/teams", `{"name":"X","extra":1}`)
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, `unknown field \"extra\"`) {
		t.Errorf("unknown field: %d %s", resp.StatusCode, body)
	}
}
