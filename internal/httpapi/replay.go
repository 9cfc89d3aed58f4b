package httpapi

import (
	"cmp"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"ringside/internal/jsonhttp"
	"ringside/internal/store"
)

// The replay side of the API (docs/api.md, "Replay"): a recorded session's manifest filtered
// for whoever watches it, and its files behind short-lived media links.
//
// Who may watch (auth.go): the admin; a coach who sees the session (its rep's coach, or who
// created it); the session's rep; and a guest with the session's rep or coach invite. A
// partner's invite is refused: guests do not see recordings.
//
// What a rep sees (a silent coach leaves no trace, docs/no-trace.md): the rep's and the
// partner's tracks, a coach's whisper audio only where it was whispered to the rep, a coach's
// open tracks, the coach's modes only as "whispering to you" and "joined openly" spans, and
// the markers and comments. The admin and the coach see everything.

// DefaultMediaTTL is how long the media links of a replay stay valid when Config.MediaTTL is
// zero.
const DefaultMediaTTL = 6 * time.Hour

// Bounds of a comment.
const (
	maxCommentRunes    = 2000
	maxCommentOffsetMs = 24 * 60 * 60 * 1000
)

// spanSlackMs is how far a coach's recorded span may reach past the mode interval that
// lets a rep see it: a span starts at its first frame's capture time and ends at its last,
// which differ from the times signaling stores for the mode changes by the packets' delay.
const spanSlackMs = 300

// viewerAdmin is the admin's viewer role; the others are store.RoleRep and store.RoleCoach.
const viewerAdmin = RoleAdmin

// manifestName is the recorder's manifest in a session's recording directory.
const manifestName = "manifest.json"

// mediaTokenLabel separates media-token MACs from anything else the secret could sign.
const mediaTokenLabel = "ringside media link v1"

// safeID is what a session id in a path may look like before it is joined to a directory.
var safeID = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$`)

// The recorder's manifest.json (recorder/manifest.go, docs/recording.md), as far as the replay
// needs it. httpapi does not import the recorder (it would pull in the media plane), so these
// mirror its JSON; fields not named here are not passed on to anyone.
type recManifest struct {
	Version     int         `json:"version"`
	SessionID   string      `json:"sessionId"`
	StartedAt   time.Time   `json:"startedAt"`
	EndedAt     *time.Time  `json:"endedAt"`
	Status      string      `json:"status"`
	Error       string      `json:"error"`
	Tracks      []recTrack  `json:"tracks"`
	ModeChanges []recMode   `json:"modeChanges"`
	Markers     []recMarker `json:"markers"`
}

type recTrack struct {
	ID            string `json:"id"`
	ParticipantID string `json:"participantId"`
	Role          string `json:"role"`
	Name          string `json:"name"`
	Kind          string `json:"kind"`
	Codec         string `json:"codec"`
	File          string `json:"file"`
	StartOffsetMs int64  `json:"startOffsetMs"`
	DurationMs    int64  `json:"durationMs"`
	Whisper       bool   `json:"whisper"`
	Status        string `json:"status"`
	Reason        string `json:"reason"`
}

func (t recTrack) endMs() int64 { return t.StartOffsetMs + max(t.DurationMs, 0) }

type recMode struct {
	ParticipantID string `json:"participantId"`
	Mode          string `json:"mode"`
	Target        string `json:"target"`
	OffsetMs      int64  `json:"offsetMs"`
}

type recMarker struct {
	ID            string `json:"id"`
	ParticipantID string `json:"participantId"`
	Note          string `json:"note"`
	OffsetMs      int64  `json:"offsetMs"`
}

// Coach modes as the recorder and signaling write them (sfu.Mode values).
const (
	modeSilent  = "silent"
	modeWhisper = "whisper"
	modeOpen    = "open"
)

// trackRecording is the status of a span still being written; its extent is not known yet.
const trackRecording = "recording"

// timeline is what the replay knows of a session beyond its manifest, from the catalog.
type timeline struct {
	endMs  int64             // the end of the recording, from its start
	reps   map[string]bool   // participant ids of the session's reps
	names  map[string]string // participant names
	roles  map[string]string // participant roles
	joined map[string]int64  // when each participant joined, from the recording's start
	left   map[string]int64  // when each participant left, where known
}

// replayView is a manifest as one viewer may see it.
type replayView struct {
	tracks  []recTrack
	modes   []CoachMode
	changes []recMode
	markers []recMarker
}

// viewFor filters m for a viewer in role (viewerAdmin, store.RoleCoach or store.RoleRep). It
// is the one place that decides what of a recording a rep may learn; anything it does not
// recognise is withheld from a rep.
func viewFor(m *recManifest, role string, tl timeline) replayView {
	all := coachModes(m.ModeChanges, tl)
	if role != store.RoleRep {
		return replayView{
			tracks:  slices.Clone(m.Tracks),
			modes:   all,
			changes: slices.Clone(m.ModeChanges),
			markers: slices.Clone(m.Markers),
		}
	}
	var modes []CoachMode
	for _, c := range all {
		switch {
		case c.Mode == modeWhisper && tl.reps[c.Target]:
			c.Label = "Coach whispering to you"
		case c.Mode == modeOpen:
			c.Target, c.Label = "", "Coach joined openly"
		default:
			continue // silent, or whispering to someone else: no trace
		}
		if n := len(modes); n > 0 && modes[n-1].ParticipantID == c.ParticipantID &&
			modes[n-1].Mode == c.Mode && modes[n-1].EndMs == c.StartMs {
			modes[n-1].EndMs = c.EndMs
			continue
		}
		modes = append(modes, c)
	}
	v := replayView{modes: modes}
	for _, t := range m.Tracks {
		if repMaySee(t, modes) {
			v.tracks = append(v.tracks, t)
		}
	}
	for _, k := range m.Markers {
		k.ParticipantID = "" // a marker is feedback; who set it is not
		v.markers = append(v.markers, k)
	}
	return v
}

// repMaySee reports whether a rep may see track t, given the coach modes the rep may see.
// A coach's span must lie within one of them (whisper audio within a whisper to the rep,
// anything else within an open span), up to spanSlackMs at each end.
func repMaySee(t recTrack, visible []CoachMode) bool {
	switch t.Role {
	case store.RoleRep, store.RolePartner:
		return true
	case store.RoleCoach:
	default:
		return false
	}
	if t.Status == trackRecording {
		return false // a span still growing may yet outlast what the rep may see
	}
	want := modeOpen
	if t.Whisper {
		want = modeWhisper
	}
	for _, c := range visible {
		if c.ParticipantID == t.ParticipantID && c.Mode == want &&
			c.StartMs-spanSlackMs <= t.StartOffsetMs && t.endMs() <= c.EndMs+spanSlackMs {
			return true
		}
	}
	return false
}

// coachModes turns mode changes into spans, one per change, each lasting until that coach's
// next change, its leaving, or the end of the recording. A coach is silent from joining until
// its first change; that span is included too.
func coachModes(changes []recMode, tl timeline) []CoachMode {
	byCoach := map[string][]recMode{}
	var order []string
	for _, c := range changes {
		if _, ok := byCoach[c.ParticipantID]; !ok {
			order = append(order, c.ParticipantID)
		}
		byCoach[c.ParticipantID] = append(byCoach[c.ParticipantID], c)
	}
	var out []CoachMode
	for _, p := range order {
		list := byCoach[p]
		slices.SortStableFunc(list, func(a, b recMode) int { return cmp.Compare(a.OffsetMs, b.OffsetMs) })
		end := tl.endMs
		if l, ok := tl.left[p]; ok && l < end {
			end = l
		}
		if j, ok := tl.joined[p]; ok && max(j, 0) < list[0].OffsetMs {
			joined := recMode{ParticipantID: p, Mode: modeSilent, OffsetMs: max(j, 0)}
			if list[0].Mode == modeSilent {
				list[0].OffsetMs = joined.OffsetMs
			} else {
				list = append([]recMode{joined}, list...)
			}
		}
		for i, c := range list {
			stop := end
			if i+1 < len(list) {
				stop = list[i+1].OffsetMs
			}
			if stop <= c.OffsetMs {
				continue
			}
			out = append(out, tl.span(p, c, stop))
		}
	}
	slices.SortStableFunc(out, func(a, b CoachMode) int { return cmp.Compare(a.StartMs, b.StartMs) })
	return out
}

// span is one coach mode from c until stop, labelled for the admin and the coach.
func (tl timeline) span(p string, c recMode, stop int64) CoachMode {
	m := CoachMode{ParticipantID: p, Name: tl.names[p], Mode: c.Mode, StartMs: c.OffsetMs, EndMs: stop}
	switch c.Mode {
	case modeWhisper:
		m.Target = c.Target
		who := cmp.Or(tl.names[c.Target], tl.roles[c.Target], "someone")
		m.Label = "Whispering to " + who
	case modeOpen:
		m.Label = "Open"
	case modeSilent:
		m.Label = "Silent"
	default:
		m.Label = c.Mode
	}
	return m
}

// --- media links -----------------------------------------------------------------------------

// mediaToken is the capability in a replay's file URLs: <role>.<expiry, Unix seconds>.<MAC>,
// the MAC an HMAC-SHA256 under the server's media secret of the label, the session id, the
// role and the expiry. A <video> element cannot send an Authorization header; this can ride
// in its URL, and it grants only the files that role may see, of one session, for a while.
func (a *api) mediaToken(sessionID, role string, expires time.Time) string {
	exp := strconv.FormatInt(expires.Unix(), 10)
	return role + "." + exp + "." + base64.RawURLEncoding.EncodeToString(a.mediaMAC(sessionID, role, exp))
}

func (a *api) mediaMAC(sessionID, role, exp string) []byte {
	h := hmac.New(sha256.New, a.mediaSecret)
	for _, part := range []string{mediaTokenLabel, sessionID, role, exp} {
		h.Write([]byte(part))
		h.Write([]byte{0})
	}
	return h.Sum(nil)
}

// checkMediaToken returns the viewer role a media token grants for sessionID.
func (a *api) checkMediaToken(sessionID, token string) (string, error) {
	invalid := forbidden("this media link is missing, invalid or expired; reload the replay for fresh links")
	role, rest, ok1 := strings.Cut(token, ".")
	exp, mac, ok2 := strings.Cut(rest, ".")
	if !ok1 || !ok2 {
		return "", invalid
	}
	got, err := base64.RawURLEncoding.DecodeString(mac)
	if err != nil || !hmac.Equal(got, a.mediaMAC(sessionID, role, exp)) {
		return "", invalid
	}
	unix, err := strconv.ParseInt(exp, 10, 64)
	if err != nil || !a.now().Before(time.Unix(unix, 0)) {
		return "", invalid
	}
	switch role {
	case viewerAdmin, store.RoleCoach, store.RoleRep:
		return role, nil
	}
	return "", invalid
}

// --- loading ---------------------------------------------------------------------------------

// recording is a session's manifest with the catalog facts the filter needs.
type recording struct {
	manifest *recManifest // nil: nothing was recorded
	tl       timeline
}

// loadRecording reads session id's manifest (if any) and its participants.
func (a *api) loadRecording(ctx context.Context, id string) (recording, error) {
	var rec recording
	if a.recordingsDir == "" || !safeID.MatchString(id) {
		return rec, nil
	}
	b, err := os.ReadFile(filepath.Join(a.recordingsDir, id, manifestName))
	if errors.Is(err, fs.ErrNotExist) {
		return rec, nil
	}
	if err != nil {
		return rec, fmt.Errorf("read manifest of %s: %w", id, err)
	}
	var m recManifest
	if err := json.Unmarshal(b, &m); err != nil {
		return rec, fmt.Errorf("manifest of %s: %w", id, err)
	}
	if m.SessionID != "" && m.SessionID != id {
		return rec, fmt.Errorf("manifest in %s is for session %q", id, m.SessionID)
	}
	parts, err := a.store.Participants(ctx, id)
	if err != nil {
		return rec, fmt.Errorf("session %s participants: %w", id, err)
	}
	tl := timeline{
		reps:   map[string]bool{},
		names:  map[string]string{},
		roles:  map[string]string{},
		joined: map[string]int64{},
		left:   map[string]int64{},
	}
	for _, t := range m.Tracks {
		tl.names[t.ParticipantID], tl.roles[t.ParticipantID] = t.Name, t.Role
	}
	for _, p := range parts {
		tl.names[p.ID], tl.roles[p.ID] = p.Name, p.Role
		tl.joined[p.ID] = p.JoinedAt.Sub(m.StartedAt).Milliseconds()
		if p.LeftAt != nil {
			tl.left[p.ID] = p.LeftAt.Sub(m.StartedAt).Milliseconds()
		}
	}
	for id, role := range tl.roles {
		if role == store.RoleRep {
			tl.reps[id] = true
		}
	}
	tl.endMs = a.recordingEnd(&m)
	rec.manifest, rec.tl = &m, tl
	return rec, nil
}

// recordingEnd is the length of a recording: its end, or for one still running (or cut by a
// crash not yet recovered) the latest thing in it, or now if it is still being recorded.
func (a *api) recordingEnd(m *recManifest) int64 {
	if m.EndedAt != nil {
		return max(m.EndedAt.Sub(m.StartedAt).Milliseconds(), 0)
	}
	var end int64
	for _, t := range m.Tracks {
		end = max(end, t.endMs())
	}
	for _, c := range m.ModeChanges {
		end = max(end, c.OffsetMs)
	}
	for _, k := range m.Markers {
		end = max(end, k.OffsetMs)
	}
	if m.Status == trackRecording {
		end = max(end, a.now().Sub(m.StartedAt).Milliseconds())
	}
	return end
}

// playable reports whether t has a file on disk worth pointing a player at.
func (a *api) playable(sessionID string, t recTrack) bool {
	if !safeFile(t.File) {
		return false
	}
	st, err := os.Stat(filepath.Join(a.recordingsDir, sessionID, t.File))
	return err == nil && st.Mode().IsRegular() && st.Size() > 0
}

// safeFile reports whether name is a plain WebM file name, safe to join to a directory.
func safeFile(name string) bool {
	return name != "" && filepath.Base(name) == name && !strings.ContainsAny(name, `/\`) &&
		name != "." && name != ".." && strings.HasSuffix(name, ".webm")
}

// --- handlers --------------------------------------------------------------------------------

// sessionReplay answers GET /api/sessions/{id}/replay.
func (a *api) sessionReplay(w http.ResponseWriter, r *http.Request, c Caller) error {
	v, sess, err := a.sessionViewer(r.Context(), c, r.PathValue("id"))
	if err != nil {
		return err
	}
	return a.writeReplay(w, r, sess, v)
}

// ownReplay answers GET /api/replay: the replay of the session the bearer's invite is for.
func (a *api) ownReplay(w http.ResponseWriter, r *http.Request, c Caller) error {
	if c.invite == nil {
		return badRequest("only an invite names its session: use GET /api/sessions/{id}/replay")
	}
	v, sess, err := a.sessionViewer(r.Context(), c, c.invite.SessionID)
	if err != nil {
		return err
	}
	return a.writeReplay(w, r, sess, v)
}

func (a *api) writeReplay(w http.ResponseWriter, r *http.Request, sess store.Session, v viewer) error {
	ctx := r.Context()
	id := sess.ID
	rec, err := a.loadRecording(ctx, id)
	if err != nil {
		return err
	}
	comments, err := a.store.Comments(ctx, id)
	if err != nil {
		return fmt.Errorf("session %s comments: %w", id, err)
	}
	expires := a.now().Add(a.mediaTTL).UTC().Truncate(time.Second)
	out := Replay{
		Session:        sessionFrom(sess),
		Viewer:         Viewer{Role: v.role, Name: v.name, CanComment: v.canComment()},
		Recording:      RecordingInfo{Status: RecordingNone},
		Tracks:         []ReplayTrack{},
		CoachModes:     []CoachMode{},
		ModeChanges:    []ReplayModeChange{},
		Markers:        []ReplayMarker{},
		Comments:       convert(comments, commentFrom),
		MediaExpiresAt: expires,
	}
	if m := rec.manifest; m != nil {
		out.Recording = RecordingInfo{
			Status:     m.Status,
			Error:      m.Error,
			StartedAt:  ptr(m.StartedAt.UTC().Truncate(time.Millisecond)),
			DurationMs: rec.tl.endMs,
		}
		if m.EndedAt != nil {
			out.Recording.EndedAt = ptr(m.EndedAt.UTC().Truncate(time.Millisecond))
		}
		view := viewFor(m, v.role, rec.tl)
		token := a.mediaToken(id, v.role, expires)
		for _, t := range view.tracks {
			rt := ReplayTrack{
				ID: t.ID, ParticipantID: t.ParticipantID, Role: t.Role, Name: t.Name, Kind: t.Kind,
				Codec: t.Codec, File: t.File, StartOffsetMs: t.StartOffsetMs, DurationMs: t.DurationMs,
				Whisper: t.Whisper, Status: t.Status, Reason: t.Reason,
			}
			if a.playable(id, t) {
				rt.URL = "/recordings/" + id + "/" + t.File + "?t=" + token
			}
			out.Tracks = append(out.Tracks, rt)
		}
		out.CoachModes = append(out.CoachModes, view.modes...)
		for _, c := range view.changes {
			out.ModeChanges = append(out.ModeChanges, ReplayModeChange(c))
		}
		for _, k := range view.markers {
			out.Markers = append(out.Markers, ReplayMarker(k))
		}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// media answers GET /recordings/{id}/{file}?t=<media token>: one file of a replay, with
// Range, If-Range, ETag and Last-Modified handling (http.ServeContent). Only a file the
// manifest names, of a span the token's role may see, is served.
func (a *api) media(w http.ResponseWriter, r *http.Request, _ Caller) error {
	id, file := r.PathValue("id"), r.PathValue("file")
	role, err := a.checkMediaToken(id, r.URL.Query().Get("t"))
	if err != nil {
		return err
	}
	notFound := jsonhttp.Errorf(jsonhttp.ErrNotFound, "no such recording file")
	rec, err := a.loadRecording(r.Context(), id)
	if err != nil {
		return err
	}
	if rec.manifest == nil || !safeFile(file) {
		return notFound
	}
	var track *recTrack
	for _, t := range viewFor(rec.manifest, role, rec.tl).tracks {
		if t.File == file {
			track = &t
			break
		}
	}
	if track == nil {
		return notFound
	}
	f, err := os.Open(filepath.Join(a.recordingsDir, id, file))
	if errors.Is(err, fs.ErrNotExist) {
		return notFound
	}
	if err != nil {
		return fmt.Errorf("open recording %s/%s: %w", id, file, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("stat recording %s/%s: %w", id, file, err)
	}
	if !st.Mode().IsRegular() {
		return notFound
	}
	h := w.Header()
	h.Set("Content-Type", "video/webm")
	if track.Kind == store.KindAudio {
		h.Set("Content-Type", "audio/webm")
	}
	// The link is a capability of one viewer: a private cache may keep the bytes, revalidating.
	h.Set("Cache-Control", "private, no-cache")
	h.Set("ETag", fmt.Sprintf(`"%x-%x"`, st.Size(), st.ModTime().UnixNano()))
	http.ServeContent(w, r, file, st.ModTime(), f)
	return nil
}

func ptr[T any](v T) *T { return &v }
