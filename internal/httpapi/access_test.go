package httpapi

import (
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"ringside/internal/store"
)

// createAs creates a session with body as the caller holding key, wanting status want.
func (f *fixture) createAs(t *testing.T, key, body string, want int) CreateSessionResponse {
	t.Helper()
	rec := f.do(t, "POST", "/api/sessions", body, "Bearer "+key)
	if rec.Code != want {
		t.Fatalf("create %s as %s: %d, want %d: %s", body, key, rec.Code, want, rec.Body)
	}
	if want != http.StatusCreated {
		return CreateSessionResponse{}
	}
	return decode[CreateSessionResponse](t, rec)
}

// listIDs lists the sessions the caller holding key sees, sorted.
func (f *fixture) listIDs(t *testing.T, key string) []string {
	t.Helper()
	rec := f.do(t, "GET", "/api/sessions", "", "Bearer "+key)
	if rec.Code != http.StatusOK {
		t.Fatalf("list as %s: %d %s", key, rec.Code, rec.Body)
	}
	var ids []string
	for _, s := range decode[SessionList](t, rec).Sessions {
		ids = append(ids, s.ID)
	}
	slices.Sort(ids)
	return ids
}

func sorted(ids ...string) []string {
	slices.Sort(ids)
	return ids
}

// TestSessionsWhoSeesWhat: an admin sees every session; a coach those of the reps they coach
// and those they created; a rep their own. What a caller may not see is 404, as if it did not
// exist; what their role may not do is 403.
func TestSessionsWhoSeesWhat(t *testing.T) {
	f := newFixture(t)
	forA := f.createAs(t, coachAToken, `{"title":"Discovery call","repId":"u-repA"}`, http.StatusCreated)
	forB := f.createAs(t, adminToken, `{"title":"Cold call","repId":"u-repB","repName":"Bo B."}`, http.StatusCreated)
	coachOwn := f.createAs(t, coachAToken, `{"title":"Coach A's demo"}`, http.StatusCreated)
	adHoc := f.createAs(t, testAdminToken, `{"title":"Ad hoc"}`, http.StatusCreated)

	if forA.RepID != "u-repA" || forA.RepName != "Ana" {
		t.Errorf("a session for rep A: repId %q, repName %q (want the rep's name by default)", forA.RepID, forA.RepName)
	}
	if forB.RepName != "Bo B." || adHoc.RepID != "" {
		t.Errorf("repName given: %q; ad hoc repId %q", forB.RepName, adHoc.RepID)
	}
	if s, err := f.store.Session(t.Context(), coachOwn.ID); err != nil || s.CreatedBy != "u-coachA" || s.RepID != "" {
		t.Errorf("coach A's own session is stored as %+v, %v", s, err)
	}
	if s, err := f.store.Session(t.Context(), adHoc.ID); err != nil || s.CreatedBy != "" {
		t.Errorf("the admin token's session is stored as %+v, %v", s, err)
	}

	// Who may create what.
	for _, c := range []struct {
		key, body string
		want      int
	}{
		{repAToken, `{"title":"x"}`, http.StatusForbidden},
		{repAToken, `{"title":"x","repId":"u-repA"}`, http.StatusForbidden},
		{coachBToken, `{"title":"x","repId":"u-repA"}`, http.StatusNotFound},
		{coachAToken, `{"title":"x","repId":"u-coachB"}`, http.StatusNotFound},
		{testAdminToken, `{"title":"x","repId":"u-coachA"}`, http.StatusNotFound}, // not a rep
		{testAdminToken, `{"title":"x","repId":"nobody"}`, http.StatusNotFound},
		{coachAToken, `{"title":""}`, http.StatusBadRequest},
	} {
		f.createAs(t, c.key, c.body, c.want)
	}

	all := sorted(forA.ID, forB.ID, coachOwn.ID, adHoc.ID)
	for key, want := range map[string][]string{
		repAToken:      {forA.ID},
		repBToken:      {forB.ID},
		coachAToken:    sorted(forA.ID, coachOwn.ID),
		coachBToken:    {forB.ID},
		adminToken:     all,
		testAdminToken: all,
	} {
		if got := f.listIDs(t, key); !slices.Equal(got, want) {
			t.Errorf("%s lists %v, want %v", key, got, want)
		}
	}

	// GET and end: not seeing is 404 with the body of a session that does not exist.
	missing := f.do(t, "GET", "/api/sessions/no-such-session", "", "Bearer "+repAToken).Body.String()
	for _, c := range []struct {
		key, id string
		want    int
	}{
		{repAToken, forA.ID, 200}, {repAToken, forB.ID, 404}, {repAToken, coachOwn.ID, 404}, {repAToken, adHoc.ID, 404},
		{coachAToken, forA.ID, 200}, {coachAToken, coachOwn.ID, 200}, {coachAToken, forB.ID, 404}, {coachAToken, adHoc.ID, 404},
		{coachBToken, forA.ID, 404}, {coachBToken, coachOwn.ID, 404}, {coachBToken, forB.ID, 200},
		{adminToken, adHoc.ID, 200}, {adminToken, coachOwn.ID, 200},
	} {
		rec := f.do(t, "GET", "/api/sessions/"+c.id, "", "Bearer "+c.key)
		if rec.Code != c.want {
			t.Errorf("GET %s as %s: %d, want %d", c.id, c.key, rec.Code, c.want)
		}
		if c.want == 404 && rec.Body.String() != missing {
			t.Errorf("GET %s as %s: %s, not the answer for a session that does not exist (%s)", c.id, c.key, rec.Body, missing)
		}
	}
	for _, c := range []struct {
		key, id string
		want    int
	}{
		{repAToken, forA.ID, 403}, {repBToken, forA.ID, 404}, {coachBToken, forA.ID, 404},
		{coachAToken, forA.ID, 200}, {coachAToken, forA.ID, 409}, {adminToken, coachOwn.ID, 200},
	} {
		rec := f.do(t, "POST", "/api/sessions/"+c.id+"/end", "", "Bearer "+c.key)
		if rec.Code != c.want {
			t.Errorf("end %s as %s: %d, want %d: %s", c.id, c.key, rec.Code, c.want, rec.Body)
		}
	}
	if calls := f.live.calls(); !slices.Equal(calls, []string{forA.ID, coachOwn.ID}) {
		t.Errorf("the live plane ended %v", calls)
	}
}

// TestRepDetailHasNoTraceOfCoach: the session's rep gets its detail without the coach's
// invite, join, tracks, mode changes or who set the markers; its coach gets all of it.
func TestRepDetailHasNoTraceOfCoach(t *testing.T) {
	f := newFixture(t)
	id := f.createAs(t, coachAToken, `{"title":"Demo","repId":"u-repA","partnerName":"Ben","coachName":"Zed"}`, http.StatusCreated).ID
	ctx := t.Context()
	at := f.now.Truncate(time.Millisecond).Add(time.Minute)
	must(t, f.store.AddParticipant(ctx, store.Participant{ID: "p-rep", SessionID: id, Role: "rep", Name: "Ana", JoinedAt: at}))
	must(t, f.store.AddParticipant(ctx, store.Participant{ID: "p-partner", SessionID: id, Role: "partner", Name: "Ben", JoinedAt: at}))
	must(t, f.store.AddParticipant(ctx, store.Participant{ID: "p-zed", SessionID: id, Role: "coach", Name: "Zed", JoinedAt: at}))
	must(t, f.store.AddTrack(ctx, store.Track{ID: "t1", SessionID: id, ParticipantID: "p-rep", Role: "rep", Kind: "audio", Codec: "opus", File: "t1.webm", StartedAt: at, Status: store.TrackComplete}))
	must(t, f.store.AddTrack(ctx, store.Track{ID: "t2", SessionID: id, ParticipantID: "p-zed", Role: "coach", Kind: "audio", Codec: "opus", Whisper: true, File: "t2.webm", StartedAt: at, Status: store.TrackComplete}))
	must(t, f.store.AddModeChange(ctx, store.ModeChange{ID: "m1", SessionID: id, ParticipantID: "p-zed", Mode: "whisper", Target: "p-partner", At: at, OffsetMs: 3000}))
	must(t, f.store.AddMarker(ctx, store.Marker{ID: "k1", SessionID: id, ParticipantID: "p-zed", Note: "good question", At: at, OffsetMs: 6000}))

	rec := f.do(t, "GET", "/api/sessions/"+id, "", "Bearer "+repAToken)
	if rec.Code != http.StatusOK {
		t.Fatalf("rep A's own session: %d %s", rec.Code, rec.Body)
	}
	for _, trace := range []string{"p-zed", "Zed", `"coach"`, "t2.webm", `"whisper":true`} {
		if strings.Contains(rec.Body.String(), trace) {
			t.Errorf("the rep's detail holds %s: %s", trace, rec.Body)
		}
	}
	rep := decode[SessionDetail](t, rec)
	if len(rep.Invites) != 2 || len(rep.Participants) != 2 || len(rep.Tracks) != 1 || len(rep.ModeChanges) != 0 ||
		len(rep.Markers) != 1 || rep.Markers[0].Note != "good question" || rep.Markers[0].ParticipantID != "" {
		t.Errorf("the rep's detail: %+v", rep)
	}

	coach := decode[SessionDetail](t, f.do(t, "GET", "/api/sessions/"+id, "", "Bearer "+coachAToken))
	if len(coach.Invites) != 3 || len(coach.Participants) != 3 || len(coach.Tracks) != 2 || len(coach.ModeChanges) != 1 ||
		coach.Markers[0].ParticipantID != "p-zed" {
		t.Errorf("the coach's detail: %+v", coach)
	}
}

// TestSignedInViewersSeeWhatTheirInviteShows: rep A signed in gets the same replay as rep A's
// invite (the rep's view), coach A and an admin user the coach's and the admin's.
func TestSignedInViewersSeeWhatTheirInviteShows(t *testing.T) {
	r := newRecorded(t)
	for user, invite := range map[string]string{"repA": "rep", "coachA": "coach", "adminUser": "admin"} {
		got, want := r.replay(t, user), r.replay(t, invite)
		if got.Viewer.Role != want.Viewer.Role || got.Viewer.CanComment != want.Viewer.CanComment {
			t.Errorf("%s watches as %+v, want %+v", user, got.Viewer, want.Viewer)
		}
		got.Viewer, want.Viewer = Viewer{}, Viewer{}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s's replay differs from the %s's:\n%+v\n%+v", user, invite, got, want)
		}
	}
	if rp := r.replay(t, "repA"); rp.Viewer.Role != store.RoleRep || rp.Viewer.Name != "Ana" || len(rp.ModeChanges) != 0 {
		t.Errorf("rep A's replay: viewer %+v, %d mode changes", rp.Viewer, len(rp.ModeChanges))
	}
}

// TestCommentsCarryTheAuthorsName: a signed-in coach or admin signs with their name, the admin
// token as "Admin", a coach's invite with the invite's name.
func TestCommentsCarryTheAuthorsName(t *testing.T) {
	r := newRecorded(t)
	for who, author := range map[string]string{"coachA": "Cleo", "adminUser": "Ada", "admin": "Admin", "coach": "Cleo"} {
		rec := r.do(t, "POST", "/api/sessions/"+r.id+"/comments", `{"offsetMs":1000,"text":"by `+who+`"}`, r.auth(who))
		if rec.Code != http.StatusCreated {
			t.Fatalf("comment as %s: %d %s", who, rec.Code, rec.Body)
		}
		if c := decode[Comment](t, rec); c.Author != author {
			t.Errorf("%s's comment is signed %q, want %q", who, c.Author, author)
		}
	}
	// Dan (coach B) is not among the authors the rep reads.
	rec := r.do(t, "GET", "/api/sessions/"+r.id+"/comments", "", r.auth("repA"))
	if rec.Code != http.StatusOK || len(decode[CommentList](t, rec).Comments) != 4 {
		t.Errorf("rep A reads the comments: %d %s", rec.Code, rec.Body)
	}
}
