package coachapi_test

import (
	"encoding/json"
	"net/http"
	"reflect"
	"testing"
	"time"

	"ringside/internal/app/apptest"
	"ringside/internal/coachapi"
	"ringside/internal/httpapi"
	"ringside/internal/store"
)

// TestTalkAnalyticsAPI: a session's figures and timeline as its rep sees them, the rep's
// trend with its averages, and the answers for what has no analytics or is not the caller's.
func TestTalkAnalyticsAPI(t *testing.T) {
	w := newWorld(t, apptest.Start(t))
	st := w.s.App.Store()
	repA := w.callers["repA"]
	analysed := store.TalkAnalytics{
		SessionID: w.ids["sessionA"], DurationMs: 15000, RepMeasured: true, PartnerMeasured: true,
		RepTalkMs: 7500, PartnerTalkMs: 6600, OverlapMs: 2600, RepInterruptions: 1, PartnerInterruptions: 2,
		RepMonologue:     store.TalkInterval{StartMs: 500, EndMs: 3000},
		PartnerMonologue: store.TalkInterval{StartMs: 4000, EndMs: 6000},
		Rep:              []store.TalkInterval{{StartMs: 500, EndMs: 4000}, {StartMs: 12000, EndMs: 13000}},
		Partner:          []store.TalkInterval{{StartMs: 3000, EndMs: 6000}},
		Overlaps: []store.TalkOverlap{{StartMs: 3000, EndMs: 4000, By: store.TalkPartner},
			{StartMs: 12000, EndMs: 12400, By: ""}},
		UpdatedAt: time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC),
	}
	if err := st.SaveTalkAnalytics(t.Context(), analysed); err != nil {
		t.Fatal(err)
	}
	var got coachapi.SessionTalk
	w.mustJSON(repA, "GET", "/api/sessions/"+w.ids["sessionA"]+"/analytics", "", http.StatusOK, &got)
	ratio := 53.2
	want := coachapi.SessionTalk{
		SessionID: w.ids["sessionA"], DurationMs: 15000, TalkRatio: &ratio,
		Rep: coachapi.TalkSide{Measured: true, TalkMs: 7500, Interruptions: 1,
			LongestMonologue: &coachapi.TalkMonologue{StartMs: 500, EndMs: 3000, DurationMs: 2500},
			Talk:             [][2]int64{{500, 4000}, {12000, 13000}}},
		Partner: coachapi.TalkSide{Measured: true, TalkMs: 6600, Interruptions: 2,
			LongestMonologue: &coachapi.TalkMonologue{StartMs: 4000, EndMs: 6000, DurationMs: 2000},
			Talk:             [][2]int64{{3000, 6000}}},
		OverlapMs:        2600,
		Overlaps:         []coachapi.TalkOverlap{{StartMs: 3000, EndMs: 4000, By: "partner"}, {StartMs: 12000, EndMs: 12400, By: ""}},
		LongestMonologue: &coachapi.TalkMonologue{By: "rep", StartMs: 500, EndMs: 3000, DurationMs: 2500},
		UpdatedAt:        analysed.UpdatedAt,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("analytics =\n%+v\nwant\n%+v", got, want)
	}

	// The same through the rep's invite, as the replay page opened from it asks.
	w.mustJSON(w.callers["repInvite"], "GET", "/api/sessions/"+w.ids["sessionA"]+"/analytics", "", http.StatusOK, nil)

	// A second session of rep A's, solo (no partner measured), started later; and one of
	// rep A's not analysed, which the trend leaves out.
	var solo, unanalysed httpapi.CreateSessionResponse
	w.mustJSON(w.callers["coachA"], "POST", "/api/sessions", `{"title":"Solo pitch","repId":"`+w.ids["repA"]+`"}`, http.StatusCreated, &solo)
	w.mustJSON(w.callers["coachA"], "POST", "/api/sessions", `{"title":"Not yet","repId":"`+w.ids["repA"]+`"}`, http.StatusCreated, &unanalysed)
	if err := st.SaveTalkAnalytics(t.Context(), store.TalkAnalytics{SessionID: solo.ID, DurationMs: 60000,
		RepMeasured: true, RepTalkMs: 50000, RepMonologue: store.TalkInterval{StartMs: 0, EndMs: 30000},
		Rep: []store.TalkInterval{{StartMs: 0, EndMs: 50000}}}); err != nil {
		t.Fatal(err)
	}
	var soloTalk map[string]any
	w.mustJSON(repA, "GET", "/api/sessions/"+solo.ID+"/analytics", "", http.StatusOK, &soloTalk)
	if soloTalk["talkRatio"] != nil || soloTalk["partner"].(map[string]any)["longestMonologue"] != nil ||
		soloTalk["overlaps"] == nil || soloTalk["partner"].(map[string]any)["talk"] == nil {
		t.Errorf("a solo session's analytics: %v", soloTalk)
	}
	w.mustJSON(repA, "GET", "/api/sessions/"+unanalysed.ID+"/analytics", "", http.StatusNotFound, nil)

	var trend coachapi.TalkTrend
	w.mustJSON(w.callers["coachA"], "GET", "/api/users/"+w.ids["repA"]+"/analytics", "", http.StatusOK, &trend)
	if len(trend.Sessions) != 2 || trend.Sessions[0].SessionID != w.ids["sessionA"] || trend.Sessions[1].Title != "Solo pitch" {
		t.Fatalf("trend sessions = %+v", trend.Sessions)
	}
	first := trend.Sessions[0]
	if *first.TalkRatio != 53.2 || first.RepLongestMonologueMs != 2500 || first.PartnerLongestMonologueMs != 2000 ||
		first.Overlaps != 2 || first.RepInterruptions != 1 || first.PartnerInterruptions != 2 || !first.PartnerMeasured {
		t.Errorf("first session of the trend = %+v", first)
	}
	avg, _ := json.Marshal(trend.Average)
	if string(avg) != `{"talkRatio":53.2,"repLongestMonologueMs":16250,"repInterruptions":0.5,"partnerInterruptions":2}` {
		t.Errorf("averages = %s", avg)
	}
	var empty map[string]any
	w.mustJSON(w.callers["repB"], "GET", "/api/users/"+w.ids["repB"]+"/analytics", "", http.StatusOK, &empty)
	if s, ok := empty["sessions"].([]any); !ok || len(s) != 0 || empty["average"].(map[string]any)["talkRatio"] != nil {
		t.Errorf("a rep without analysed sessions: %v", empty)
	}

	// Another session's invite sees nothing of this one (403, as on the replay, whether the
	// session exists or not); an unknown token is refused.
	_, _, tokens := w.s.CreateSession(t, "Someone else's")
	for _, id := range []string{w.ids["sessionA"], "no-such-session"} {
		resp, _ := w.do(caller{bearer: tokens["rep"]}, "GET", "/api/sessions/"+id+"/analytics", "")
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("another session's rep invite, for %s: %d, want 403", id, resp.StatusCode)
		}
	}
	resp, _ := w.do(caller{bearer: "no-such-token"}, "GET", "/api/sessions/"+w.ids["sessionA"]+"/analytics", "")
	if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("WWW-Authenticate") == "" {
		t.Errorf("an unknown token: %d %v, want 401 with WWW-Authenticate", resp.StatusCode, resp.Header)
	}
}
