package httpapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"ringside/internal/store"
)

// Participant ids of the recorded session the replay tests use.
const (
	repID     = "11111111-rep0-4000-8000-000000000001"
	partnerID = "22222222-part-4000-8000-000000000002"
	coachID   = "33333333-coac-4000-8000-000000000003"
)

// Files of the recorded session, by what they hold.
const (
	fileRep          = "rep-11111111-audio-1.webm"
	fileRepVideo     = "rep-11111111-video-1.webm"
	filePartner      = "partner-22222222-audio-1.webm"
	filePartnerVideo = "partner-22222222-video-1.webm"
	fileToPartner    = "coach-33333333-audio-1.webm" // whisper to the partner
	fileToRep        = "coach-33333333-audio-2.webm" // whisper to the rep
	fileOpenAudio    = "coach-33333333-audio-3.webm" // open
	fileOpenVideo    = "coach-33333333-video-1.webm" // open
	fileSwitched     = "coach-33333333-audio-4.webm" // whisper to the partner, then to the rep
	fileNotNamed     = "stray-00000000-audio-1.webm" // on disk, not in the manifest
)

// recorded is a session with invites for every role and a recording on disk.
type recorded struct {
	*fixture
	id     string
	tokens map[string]string // "rep", "partner", "coach", and "other" (another session's rep)
	dir    string
	start  time.Time
}

// The coach's timeline, in ms from the recording's start: joins silent at 500, whispers to
// the partner 1000–3000, silent, whispers to the rep 5000–7000, open 7000–9000, silent,
// whispers to the partner at 9500 and switches straight to the rep at 10000 (one span), silent
// at 11000; the recording ends at 12000.
func recordedManifest(id string, start time.Time) string {
	track := func(pid, role, name, kind, file string, off, dur int64, whisper bool) string {
		return fmt.Sprintf(`{"id": "t-%s", "participantId": %q, "role": %q, "name": %q, "kind": %q,
			"codec": %q, "file": %q, "startOffsetMs": %d, "durationMs": %d, "whisper": %v, "status": "complete"}`,
			file, pid, role, name, kind, map[string]string{"audio": "opus", "video": "vp8"}[kind], file, off, dur, whisper)
	}
	tracks := []string{
		track(repID, "rep", "Ana", "audio", fileRep, 100, 11900, false),
		track(repID, "rep", "Ana", "video", fileRepVideo, 120, 11880, false),
		track(partnerID, "partner", "Ben", "audio", filePartner, 200, 11800, false),
		track(partnerID, "partner", "Ben", "video", filePartnerVideo, 230, 11770, false),
		track(coachID, "coach", "Cleo", "audio", fileToPartner, 1010, 1985, true),
		track(coachID, "coach", "Cleo", "audio", fileToRep, 4998, 2000, true),
		track(coachID, "coach", "Cleo", "audio", fileOpenAudio, 7003, 1990, false),
		track(coachID, "coach", "Cleo", "video", fileOpenVideo, 7400, 1600, false),
		track(coachID, "coach", "Cleo", "audio", fileSwitched, 9505, 1490, true),
		`{"id": "t-h264", "participantId": "` + partnerID + `", "role": "partner", "name": "Ben", "kind": "video",
		  "codec": "h264", "file": "", "startOffsetMs": 300, "durationMs": 0, "whisper": false,
		  "status": "not_recorded", "reason": "codec video/H264 is not recorded"}`,
	}
	return fmt.Sprintf(`{
  "version": 1,
  "sessionId": %q,
  "startedAt": %q,
  "endedAt": %q,
  "status": "complete",
  "tracks": [%s],
  "modeChanges": [
    {"participantId": %q, "mode": "whisper", "target": %q, "offsetMs": 1000},
    {"participantId": %q, "mode": "silent", "offsetMs": 3000},
    {"participantId": %q, "mode": "whisper", "target": %q, "offsetMs": 5000},
    {"participantId": %q, "mode": "open", "offsetMs": 7000},
    {"participantId": %q, "mode": "silent", "offsetMs": 9000},
    {"participantId": %q, "mode": "whisper", "target": %q, "offsetMs": 9500},
    {"participantId": %q, "mode": "whisper", "target": %q, "offsetMs": 10000},
    {"participantId": %q, "mode": "silent", "offsetMs": 11000}
  ],
  "markers": [{"id": "m1", "participantId": %q, "note": "good question", "offsetMs": 6000}]
}
`, id, start.Format(time.RFC3339Nano), start.Add(12*time.Second).Format(time.RFC3339Nano),
		strings.Join(tracks, ",\n"),
		coachID, partnerID, coachID, coachID, repID, coachID, coachID, coachID, partnerID, coachID, repID, coachID, coachID)
}

// fileBytes is the content of a test recording file: distinct bytes per file and offset.
func fileBytes(name string) []byte {
	b := make([]byte, 10000)
	for i := range b {
		b[i] = byte(i*7 + len(name)*13 + int(name[len(name)-6]))
	}
	return b
}

func newRecorded(t *testing.T) *recorded {
	t.Helper()
	dir := t.TempDir()
	f := newFixture(t, func(c *Config) { c.RecordingsDir = dir })
	created := f.create(t, `{"title":"Replay me","repName":"Ana","partnerName":"Ben","coachName":"Cleo","repId":"u-repA"}`)
	other := f.create(t, `{"title":"Another session"}`)
	r := &recorded{fixture: f, id: created.ID, dir: dir, tokens: map[string]string{},
		start: f.now.Add(-time.Hour).Truncate(time.Millisecond)}
	for role, link := range map[string]string{"rep": created.Invites.Rep, "partner": created.Invites.Partner,
		"coach": created.Invites.Coach, "other": other.Invites.Rep, "otherCoach": other.Invites.Coach} {
		r.tokens[role] = link[strings.LastIndexByte(link, '/')+1:]
	}
	ctx := t.Context()
	for _, p := range []store.Participant{
		{ID: repID, SessionID: r.id, Role: "rep", Name: "Ana", JoinedAt: r.start.Add(50 * time.Millisecond)},
		{ID: partnerID, SessionID: r.id, Role: "partner", Name: "Ben", JoinedAt: r.start.Add(150 * time.Millisecond)},
		{ID: coachID, SessionID: r.id, Role: "coach", Name: "Cleo", JoinedAt: r.start.Add(500 * time.Millisecond)},
	} {
		if err := f.store.AddParticipant(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	sdir := filepath.Join(dir, r.id)
	if err := os.MkdirAll(sdir, 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(sdir, manifestName), []byte(recordedManifest(r.id, r.start)), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{fileRep, fileRepVideo, filePartner, filePartnerVideo, fileToPartner,
		fileToRep, fileOpenAudio, fileOpenVideo, fileSwitched, fileNotNamed} {
		if err := os.WriteFile(filepath.Join(sdir, name), fileBytes(name), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return r
}

// auth is the Authorization header of a viewer: "-" for none, the admin token, a user's
// credential (repA, repB, coachA, coachB, adminUser), or an invite's token.
func (r *recorded) auth(who string) string {
	switch who {
	case "none":
		return "-"
	case "admin":
		return "Bearer " + testAdminToken
	}
	if key, ok := userKeys[who]; ok {
		return "Bearer " + key
	}
	return "Bearer " + r.tokens[who]
}

// userKeys are the fixture's users' credentials; the recorded session is rep A's.
var userKeys = map[string]string{"repA": repAToken, "repB": repBToken, "coachA": coachAToken, "coachB": coachBToken, "adminUser": adminToken}

func (r *recorded) replay(t *testing.T, who string) Replay {
	t.Helper()
	rec := r.do(t, "GET", "/api/sessions/"+r.id+"/replay", "", r.auth(who))
	if rec.Code != http.StatusOK {
		t.Fatalf("%s replay: %d %s", who, rec.Code, rec.Body)
	}
	return decode[Replay](t, rec)
}

// mediaURL is the URL the viewer's replay gives for file, "" if it lists none.
func (r *recorded) mediaURL(t *testing.T, who, file string) string {
	t.Helper()
	for _, tr := range r.replay(t, who).Tracks {
		if tr.File == file {
			return tr.URL
		}
	}
	return ""
}

var viewers = []string{"none", "admin", "rep", "coach", "partner", "other", "repA", "repB", "coachA", "coachB", "adminUser"}

// TestReplayAuthMatrix checks every endpoint against every kind of caller.
func TestReplayAuthMatrix(t *testing.T) {
	r := newRecorded(t)
	repMedia := r.mediaURL(t, "rep", fileRep)
	// The other session's rep holds a valid media token, but of the other session.
	rec := r.do(t, "GET", "/api/replay", "", r.auth("other"))
	if rec.Code != http.StatusOK {
		t.Fatalf("other session's own replay: %d %s", rec.Code, rec.Body)
	}
	other := decode[Replay](t, rec)
	if other.Session.ID == r.id || other.Session.ID == "" {
		t.Fatalf("other session's replay is of %q", other.Session.ID)
	}
	otherMedia := "/recordings/" + r.id + "/" + fileRep + "?t=" +
		url.QueryEscape(r.h.(*api).mediaToken(other.Session.ID, store.RoleRep, r.now.Add(time.Hour)))
	comment := `{"offsetMs": 1500, "text": "Nice opener"}`
	tests := []struct {
		method, path, body string
		want               map[string]int
	}{
		{"GET", "/api/sessions/" + r.id + "/replay", "", map[string]int{
			"none": 401, "admin": 200, "rep": 200, "coach": 200, "partner": 403, "other": 403,
			"repA": 200, "repB": 404, "coachA": 200, "coachB": 404, "adminUser": 200}},
		{"GET", "/api/replay", "", map[string]int{
			"none": 401, "admin": 400, "rep": 200, "coach": 200, "partner": 403, "other": 200,
			"repA": 400, "repB": 400, "coachA": 400, "coachB": 400, "adminUser": 400}},
		{"GET", "/api/sessions/" + r.id + "/comments", "", map[string]int{
			"none": 401, "admin": 200, "rep": 200, "coach": 200, "partner": 403, "other": 403,
			"repA": 200, "repB": 404, "coachA": 200, "coachB": 404, "adminUser": 200}},
		{"POST", "/api/sessions/" + r.id + "/comments", comment, map[string]int{
			"none": 401, "admin": 201, "rep": 403, "coach": 201, "partner": 403, "other": 403,
			"repA": 403, "repB": 404, "coachA": 201, "coachB": 404, "adminUser": 201}},
		{"GET", "/api/sessions/no-such-session/replay", "", map[string]int{
			"none": 401, "admin": 404, "rep": 403, "coach": 403, "partner": 403, "other": 403,
			"repA": 404, "repB": 404, "coachA": 404, "coachB": 404, "adminUser": 404}},
		{"POST", "/api/sessions/no-such-session/comments", comment, map[string]int{
			"none": 401, "admin": 404, "rep": 403, "coach": 403, "partner": 403, "other": 403,
			"repA": 404, "repB": 404, "coachA": 404, "coachB": 404, "adminUser": 404}},
	}
	for _, tt := range tests {
		for _, who := range viewers {
			rec := r.do(t, tt.method, tt.path, tt.body, r.auth(who))
			want := tt.want[who]
			if rec.Code != want {
				t.Errorf("%s %s as %s: %d, want %d (%s)", tt.method, tt.path, who, rec.Code, want, rec.Body)
				continue
			}
			if want >= 400 {
				wantError(t, rec, want, map[int]string{400: CodeBadRequest, 401: CodeUnauthorized,
					403: CodeForbidden, 404: CodeNotFound}[want])
			}
			if want == 401 && rec.Header().Get("WWW-Authenticate") == "" {
				t.Errorf("%s %s as %s: 401 without WWW-Authenticate", tt.method, tt.path, who)
			}
		}
	}
	// A wrong bearer token is no viewer at all.
	wantError(t, r.do(t, "GET", "/api/sessions/"+r.id+"/replay", "", "Bearer not-a-token-of-anyone"), 401, CodeUnauthorized)

	// Media: the only credential is the link's token; each viewer's own link plays.
	plain := "/recordings/" + r.id + "/" + fileRep
	media := map[string]string{
		"none":      plain,
		"admin":     r.mediaURL(t, "admin", fileRep),
		"rep":       repMedia,
		"coach":     r.mediaURL(t, "coach", fileRep),
		"partner":   plain, // with the partner's invite as a bearer
		"other":     otherMedia,
		"repA":      r.mediaURL(t, "repA", fileRep),
		"repB":      plain, // rep B sees no replay of rep A's session, so has no link: a cookie or key is no media token
		"coachA":    r.mediaURL(t, "coachA", fileRep),
		"coachB":    plain,
		"adminUser": r.mediaURL(t, "adminUser", fileRep),
	}
	want := map[string]int{"none": 403, "admin": 200, "rep": 200, "coach": 200, "partner": 403, "other": 403,
		"repA": 200, "repB": 403, "coachA": 200, "coachB": 403, "adminUser": 200}
	for _, who := range viewers {
		auth := "-"
		if who == "partner" || who == "repB" || who == "coachB" {
			auth = r.auth(who)
		}
		rec := r.do(t, "GET", media[who], "", auth)
		if rec.Code != want[who] {
			t.Errorf("GET %s as %s: %d, want %d (%.200s)", media[who], who, rec.Code, want[who], rec.Body)
			continue
		}
		if want[who] == 200 && !bytes.Equal(rec.Body.Bytes(), fileBytes(fileRep)) {
			t.Errorf("GET %s as %s: wrong bytes", media[who], who)
		}
		if want[who] == 403 {
			wantError(t, rec, 403, CodeForbidden)
		}
	}
}

// mediaTokenOf returns the t parameter of a media URL.
func mediaTokenOf(t *testing.T, u string) string {
	t.Helper()
	p, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	return p.Query().Get("t")
}

func files(rp Replay) []string {
	var out []string
	for _, tr := range rp.Tracks {
		out = append(out, tr.File)
	}
	slices.Sort(out)
	return out
}

// TestRepReplayHidesSilentCoach: the rep sees the coach only where the coach whispered to the
// rep or joined openly; the admin and the coach see everything.
func TestRepReplayHidesSilentCoach(t *testing.T) {
	r := newRecorded(t)

	rep := r.replay(t, "rep")
	wantFiles := []string{"", fileOpenVideo, fileOpenAudio, fileToRep, filePartner, filePartnerVideo, fileRep, fileRepVideo}
	slices.Sort(wantFiles)
	if got := files(rep); !slices.Equal(got, wantFiles) {
		t.Errorf("rep sees files %q, want %q", got, wantFiles)
	}
	type span struct {
		mode, label string
		start, end  int64
	}
	var spans []span
	for _, c := range rep.CoachModes {
		spans = append(spans, span{c.Mode, c.Label, c.StartMs, c.EndMs})
		if c.Mode == modeWhisper && c.Target != repID {
			t.Errorf("rep sees a whisper to %q", c.Target)
		}
	}
	wantSpans := []span{
		{"whisper", "Coach whispering to you", 5000, 7000},
		{"open", "Coach joined openly", 7000, 9000},
		{"whisper", "Coach whispering to you", 10000, 11000},
	}
	if !slices.Equal(spans, wantSpans) {
		t.Errorf("rep sees coach modes %+v, want %+v", spans, wantSpans)
	}
	if len(rep.ModeChanges) != 0 {
		t.Errorf("rep sees raw mode changes: %+v", rep.ModeChanges)
	}
	if len(rep.Markers) != 1 || rep.Markers[0].Note != "good question" || rep.Markers[0].ParticipantID != "" {
		t.Errorf("rep sees markers %+v, want the note without who set it", rep.Markers)
	}
	if rep.Viewer != (Viewer{Role: "rep", Name: "Ana", CanComment: false}) {
		t.Errorf("rep viewer = %+v", rep.Viewer)
	}
	raw := r.do(t, "GET", "/api/sessions/"+r.id+"/replay", "", r.auth("rep")).Body.String()
	for _, hidden := range []string{fileToPartner, fileSwitched, "silent", "Silent", "Whispering to", `"target":"` + partnerID} {
		if strings.Contains(raw, hidden) {
			t.Errorf("the rep's replay mentions %q: %s", hidden, raw)
		}
	}

	for _, who := range []string{"admin", "coach"} {
		all := r.replay(t, who)
		want := []string{"", fileOpenVideo, fileOpenAudio, fileToPartner, fileToRep, fileSwitched,
			filePartner, filePartnerVideo, fileRep, fileRepVideo}
		slices.Sort(want)
		if got := files(all); !slices.Equal(got, want) {
			t.Errorf("%s sees files %q, want all %q", who, got, want)
		}
		if len(all.ModeChanges) != 8 || len(all.Markers) != 1 || all.Markers[0].ParticipantID != coachID {
			t.Errorf("%s sees %d mode changes and markers %+v", who, len(all.ModeChanges), all.Markers)
		}
		var labels []string
		for _, c := range all.CoachModes {
			labels = append(labels, fmt.Sprintf("%s %d-%d", c.Label, c.StartMs, c.EndMs))
		}
		wantLabels := []string{"Silent 500-1000", "Whispering to Ben 1000-3000", "Silent 3000-5000",
			"Whispering to Ana 5000-7000", "Open 7000-9000", "Silent 9000-9500",
			"Whispering to Ben 9500-10000", "Whispering to Ana 10000-11000", "Silent 11000-12000"}
		if !slices.Equal(labels, wantLabels) {
			t.Errorf("%s sees coach modes %q, want %q", who, labels, wantLabels)
		}
		if all.Recording.DurationMs != 12000 || all.Recording.Status != "complete" {
			t.Errorf("%s: recording %+v", who, all.Recording)
		}
		if all.Viewer.Role != map[string]string{"admin": "admin", "coach": "coach"}[who] || !all.Viewer.CanComment {
			t.Errorf("%s viewer = %+v", who, all.Viewer)
		}
	}

	// Where tracks have nothing to play, they have no URL; every URL is the viewer's.
	for _, tr := range rep.Tracks {
		if (tr.URL == "") != (tr.File == "") {
			t.Errorf("track %q has URL %q", tr.File, tr.URL)
		}
	}
}

// TestRepSeesNoSilentCoach: a coach who only watched silently leaves nothing in the rep's
// replay: not a span, not a track, not a name, not an id.
func TestRepSeesNoSilentCoach(t *testing.T) {
	r := newRecorded(t)
	m := `{"version": 1, "sessionId": "` + r.id + `", "startedAt": "` + r.start.Format(time.RFC3339Nano) + `",
	  "endedAt": "` + r.start.Add(5*time.Second).Format(time.RFC3339Nano) + `", "status": "complete",
	  "tracks": [{"id": "a", "participantId": "` + repID + `", "role": "rep", "name": "Ana", "kind": "audio",
	    "codec": "opus", "file": "` + fileRep + `", "startOffsetMs": 10, "durationMs": 4990, "whisper": false, "status": "complete"}],
	  "modeChanges": [{"participantId": "` + coachID + `", "mode": "silent", "offsetMs": 1000}],
	  "markers": []}`
	if err := os.WriteFile(filepath.Join(r.dir, r.id, manifestName), []byte(m), 0o600); err != nil {
		t.Fatal(err)
	}
	raw := r.do(t, "GET", "/api/sessions/"+r.id+"/replay", "", r.auth("rep")).Body.String()
	for _, trace := range []string{coachID, "Cleo", `"role":"coach"`, "silent", "Silent"} {
		if strings.Contains(raw, trace) {
			t.Errorf("the rep's replay holds %q: %s", trace, raw)
		}
	}
	if all := r.replay(t, "admin"); len(all.CoachModes) != 1 || all.CoachModes[0].StartMs != 500 ||
		all.CoachModes[0].EndMs != 5000 || all.CoachModes[0].Mode != modeSilent {
		t.Errorf("admin sees coach modes %+v, want silent from the join (500) to the end", all.CoachModes)
	}
}

func TestReplayWithoutRecording(t *testing.T) {
	r := newRecorded(t)
	if err := os.RemoveAll(filepath.Join(r.dir, r.id)); err != nil {
		t.Fatal(err)
	}
	rp := r.replay(t, "rep")
	if rp.Recording.Status != RecordingNone || rp.Tracks == nil || len(rp.Tracks) != 0 || rp.Comments == nil {
		t.Errorf("replay without a recording = %+v", rp)
	}
	if rp.Session.ID != r.id || rp.Session.Title != "Replay me" {
		t.Errorf("session = %+v", rp.Session)
	}
}

// TestMediaRange: Range requests get 206 and exactly the bytes asked for; validators work.
func TestMediaRange(t *testing.T) {
	r := newRecorded(t)
	u := r.mediaURL(t, "rep", fileToRep)
	want := fileBytes(fileToRep)

	req := httptest.NewRequestWithContext(t.Context(), "GET", u, nil)
	req.Header.Set("Range", "bytes=1000-1999")
	rec := httptest.NewRecorder()
	r.h.ServeHTTP(rec, req)
	if rec.Code != http.StatusPartialContent {
		t.Fatalf("range: %d %s", rec.Code, rec.Body)
	}
	if !bytes.Equal(rec.Body.Bytes(), want[1000:2000]) {
		t.Errorf("range returned the wrong bytes")
	}
	if got := rec.Header().Get("Content-Range"); got != "bytes 1000-1999/10000" {
		t.Errorf("Content-Range = %q", got)
	}
	if got := rec.Header().Get("Content-Type"); got != "audio/webm" {
		t.Errorf("Content-Type = %q", got)
	}
	if rec.Header().Get("Accept-Ranges") != "bytes" || rec.Header().Get("Last-Modified") == "" {
		t.Errorf("headers %v", rec.Header())
	}
	etag := rec.Header().Get("ETag")
	if etag == "" {
		t.Fatal("no ETag")
	}

	req = httptest.NewRequestWithContext(t.Context(), "GET", u, nil)
	req.Header.Set("Range", "bytes=9990-")
	rec = httptest.NewRecorder()
	r.h.ServeHTTP(rec, req)
	if rec.Code != http.StatusPartialContent || !bytes.Equal(rec.Body.Bytes(), want[9990:]) {
		t.Errorf("open range: %d, %d bytes", rec.Code, rec.Body.Len())
	}

	req = httptest.NewRequestWithContext(t.Context(), "GET", u, nil)
	req.Header.Set("If-None-Match", etag)
	rec = httptest.NewRecorder()
	r.h.ServeHTTP(rec, req)
	if rec.Code != http.StatusNotModified {
		t.Errorf("If-None-Match: %d", rec.Code)
	}

	req = httptest.NewRequestWithContext(t.Context(), "GET", u, nil)
	req.Header.Set("Range", "bytes=20000-")
	rec = httptest.NewRecorder()
	r.h.ServeHTTP(rec, req)
	if rec.Code != http.StatusRequestedRangeNotSatisfiable {
		t.Errorf("range past the end: %d", rec.Code)
	}

	rec = r.do(t, "HEAD", u, "", "-")
	if rec.Code != http.StatusOK || rec.Header().Get("Content-Length") != "10000" {
		t.Errorf("HEAD: %d, Content-Length %q", rec.Code, rec.Header().Get("Content-Length"))
	}
	if got := r.do(t, "GET", r.mediaURL(t, "rep", fileRepVideo), "", "-").Header().Get("Content-Type"); got != "video/webm" {
		t.Errorf("video Content-Type = %q", got)
	}
}

// TestMediaOnlyManifestFiles: a media token opens only files its role may see that the
// manifest names; nothing else in or outside the directory.
func TestMediaOnlyManifestFiles(t *testing.T) {
	r := newRecorded(t)
	repTok := url.QueryEscape(mediaTokenOf(t, r.mediaURL(t, "rep", fileRep)))
	adminTok := url.QueryEscape(mediaTokenOf(t, r.mediaURL(t, "admin", fileRep)))
	if err := os.WriteFile(filepath.Join(r.dir, "secret.webm"), []byte("outside"), 0o600); err != nil {
		t.Fatal(err)
	}
	base := "/recordings/" + r.id + "/"
	for _, p := range []string{
		base + fileToPartner + "?t=" + repTok, // a whisper to the partner: not the rep's
		base + fileSwitched + "?t=" + repTok,
		base + fileNotNamed + "?t=" + adminTok, // on disk, not in the manifest
		base + manifestName + "?t=" + adminTok,
		base + "..%2Fsecret.webm?t=" + adminTok,
		base + "%2e%2e%2fsecret.webm?t=" + adminTok,
		base + "..%5Csecret.webm?t=" + adminTok,
		base + "nothing.webm?t=" + adminTok,
	} {
		rec := r.do(t, "GET", p, "", "-")
		if rec.Code != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404 (%.100s)", p, rec.Code, rec.Body)
			continue
		}
		wantError(t, rec, 404, CodeNotFound)
	}
	// Paths the mux cleans are redirected, never served.
	for _, p := range []string{base + "../secret.webm?t=" + adminTok, "/recordings/" + r.id + "/./" + fileRep + "?t=" + adminTok} {
		if rec := r.do(t, "GET", p, "", "-"); rec.Code == http.StatusOK || rec.Code == http.StatusPartialContent {
			t.Errorf("GET %s: %d", p, rec.Code)
		}
	}
	// The admin's token opens what the rep's cannot.
	if rec := r.do(t, "GET", base+fileToPartner+"?t="+adminTok, "", "-"); rec.Code != http.StatusOK {
		t.Errorf("admin's whisper-to-partner file: %d", rec.Code)
	}
}

// TestMediaTokenForgedOrExpired: any change to a token, or its expiry, is 403.
func TestMediaTokenForgedOrExpired(t *testing.T) {
	r := newRecorded(t)
	u := r.mediaURL(t, "rep", fileRep)
	tok := mediaTokenOf(t, u)
	role, rest, _ := strings.Cut(tok, ".")
	exp, mac, _ := strings.Cut(rest, ".")
	if role != "rep" {
		t.Fatalf("token %q", tok)
	}
	flipped := []byte(mac)
	flipped[3] ^= 1
	if flipped[3] == mac[3] {
		t.Fatal("no change")
	}
	path := "/recordings/" + r.id + "/" + fileRep + "?t="
	for name, bad := range map[string]string{
		"missing":      "",
		"garbage":      "garbage",
		"forged mac":   role + "." + exp + "." + string(flipped),
		"role raised":  "admin." + exp + "." + mac,
		"expiry moved": role + "." + fmt.Sprint(r.now.Add(48*time.Hour).Unix()) + "." + mac,
		"other secret": newFixture(t).h.(*api).mediaToken(r.id, "rep", r.now.Add(time.Hour)),
	} {
		rec := r.do(t, "GET", path+url.QueryEscape(bad), "", "-")
		if rec.Code != http.StatusForbidden {
			t.Errorf("%s token: %d, want 403", name, rec.Code)
			continue
		}
		wantError(t, rec, 403, CodeForbidden)
	}
	if rec := r.do(t, "GET", u, "", "-"); rec.Code != http.StatusOK {
		t.Fatalf("the real token: %d", rec.Code)
	}
	r.now = r.now.Add(DefaultMediaTTL + time.Second)
	rec := r.do(t, "GET", u, "", "-")
	if rec.Code != http.StatusForbidden {
		t.Errorf("expired token: %d, want 403", rec.Code)
	}
	wantError(t, rec, 403, CodeForbidden)
}

func TestComments(t *testing.T) {
	r := newRecorded(t)
	path := "/api/sessions/" + r.id + "/comments"
	post := func(who, body string) *httptest.ResponseRecorder {
		return r.do(t, "POST", path, body, r.auth(who))
	}
	for body, msg := range map[string]string{
		`{"text": "no time"}`:                                          "offsetMs is required",
		`{"offsetMs": -1, "text": "x"}`:                                "offsetMs must be",
		`{"offsetMs": 86400001, "text": "x"}`:                          "offsetMs must be",
		`{"offsetMs": 1, "text": "   "}`:                               "text is required",
		`{"offsetMs": 1.5, "text": "x"}`:                               `"offsetMs" must be a JSON number`,
		`{"offsetMs": 1, "text": "x", "author": 1}`:                    "unknown field",
		`{"offsetMs": 1, "text": "` + strings.Repeat("é", 2001) + `"}`: "longer than 2000",
	} {
		e := wantError(t, post("coach", body), 400, CodeBadRequest)
		if !strings.Contains(e.Message, msg) {
			t.Errorf("%.60s: message %q, want %q", body, e.Message, msg)
		}
	}
	rec := post("coach", `{"offsetMs": 6100, "text": "  Great question here  "}`)
	if rec.Code != http.StatusCreated {
		t.Fatalf("coach comment: %d %s", rec.Code, rec.Body)
	}
	c := decode[Comment](t, rec)
	if c.ID == "" || c.Author != "Cleo" || c.Text != "Great question here" || c.OffsetMs != 6100 ||
		!c.CreatedAt.Equal(r.now.Truncate(time.Millisecond)) {
		t.Errorf("comment = %+v", c)
	}
	if rec := post("admin", `{"offsetMs": 2000, "text": "`+strings.Repeat("a", 2000)+`"}`); rec.Code != http.StatusCreated {
		t.Fatalf("admin comment: %d %s", rec.Code, rec.Body)
	}
	list := decode[CommentList](t, r.do(t, "GET", path, "", r.auth("rep")))
	if len(list.Comments) != 2 || list.Comments[0].Author != "Admin" || list.Comments[0].OffsetMs != 2000 ||
		list.Comments[1] != c {
		t.Errorf("comments = %+v", list.Comments)
	}
	if rp := r.replay(t, "rep"); len(rp.Comments) != 2 || rp.Comments[1] != c {
		t.Errorf("replay comments = %+v", rp.Comments)
	}
	// Another session's coach cannot comment here, nor read.
	wantError(t, r.do(t, "POST", path, `{"offsetMs": 1, "text": "x"}`, r.auth("otherCoach")), 403, CodeForbidden)
	wantError(t, r.do(t, "GET", path, "", r.auth("otherCoach")), 403, CodeForbidden)
}

// TestViewForLeavesManifestAlone: filtering for a rep does not change the manifest it reads.
func TestViewForLeavesManifestAlone(t *testing.T) {
	var m recManifest
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := json.Unmarshal([]byte(recordedManifest("s", start)), &m); err != nil {
		t.Fatal(err)
	}
	before, _ := json.Marshal(m)
	tl := timeline{endMs: 12000, reps: map[string]bool{repID: true}}
	_ = viewFor(&m, store.RoleRep, tl)
	if after, _ := json.Marshal(m); !bytes.Equal(before, after) {
		t.Error("viewFor changed the manifest")
	}
	// A coach's span reaching well past the whisper to the rep is withheld.
	m.Tracks = []recTrack{{ParticipantID: coachID, Role: "coach", Kind: "audio", File: "x.webm",
		StartOffsetMs: 5000, DurationMs: 2500, Whisper: true, Status: "complete"}}
	if v := viewFor(&m, store.RoleRep, tl); len(v.tracks) != 0 {
		t.Errorf("a span 500 ms past the whisper is shown to the rep: %+v", v.tracks)
	}
	m.Tracks[0].DurationMs = 2200
	if v := viewFor(&m, store.RoleRep, tl); len(v.tracks) != 1 {
		t.Errorf("a span 200 ms past the whisper (packet delay) is withheld from the rep")
	}
	m.Tracks[0].Status = trackRecording
	if v := viewFor(&m, store.RoleRep, tl); len(v.tracks) != 0 {
		t.Errorf("a coach span still recording is shown to the rep")
	}
	m.Tracks = []recTrack{{ParticipantID: "x", Role: "observer", Kind: "audio", File: "y.webm", Status: "complete"}}
	if v := viewFor(&m, store.RoleRep, tl); len(v.tracks) != 0 {
		t.Errorf("an unknown role's track is shown to the rep")
	}
}
