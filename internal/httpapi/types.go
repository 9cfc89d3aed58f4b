package httpapi

import (
	"time"

	"ringside/internal/store"
)

// The JSON shapes of the API (docs/api.md). They are exported so that Go clients (the
// `ringside session create` command, tests) share them with the server.

// CreateSessionRequest is the body of POST /api/sessions.
type CreateSessionRequest struct {
	Title       string `json:"title"`
	RepName     string `json:"repName,omitempty"`
	PartnerName string `json:"partnerName,omitempty"`
	CoachName   string `json:"coachName,omitempty"`
	// Record defaults to true when absent.
	Record *bool `json:"record,omitempty"`
	// Coaches is how many coach invites to issue, one per coach (default 1, at most
	// MaxCoachInvites).
	Coaches int `json:"coaches,omitempty"`
	// RepID is the user the session is for: they, their coaches and admins see it (a coach
	// may only name a rep they coach). RepName defaults to the rep's name.
	RepID string `json:"repId,omitempty"`
}

// MaxCoachInvites bounds CreateSessionRequest.Coaches.
const MaxCoachInvites = 6

// Invites holds one invite URL per role.
type Invites struct {
	Rep     string `json:"rep"`
	Partner string `json:"partner"`
	Coach   string `json:"coach"`
	// Coaches lists every coach invite, Coach first, when more than one was asked for.
	Coaches []string `json:"coaches,omitempty"`
}

// CreateSessionResponse is the 201 body of POST /api/sessions. It is the only place the
// invite tokens ever appear.
type CreateSessionResponse struct {
	Session
	Invites   Invites   `json:"invites"`
	ExpiresAt time.Time `json:"expiresAt"`
}

// Session is a session as the API shows it.
type Session struct {
	ID          string     `json:"id"`
	Title       string     `json:"title"`
	RepName     string     `json:"repName"`
	PartnerName string     `json:"partnerName"`
	RepID       string     `json:"repId"` // the rep user the session is for; "" for none
	State       string     `json:"state"`
	Recorded    bool       `json:"recorded"`
	CreatedAt   time.Time  `json:"createdAt"`
	StartedAt   *time.Time `json:"startedAt"`
	EndedAt     *time.Time `json:"endedAt"`
}

// SessionList is the body of GET /api/sessions.
type SessionList struct {
	Sessions []Session `json:"sessions"`
}

// SessionDetail is the body of GET /api/sessions/{id}: the session and everything recorded
// about it.
type SessionDetail struct {
	Session
	Invites      []Invite      `json:"invites"`
	Participants []Participant `json:"participants"`
	Tracks       []Track       `json:"tracks"`
	ModeChanges  []ModeChange  `json:"modeChanges"`
	Markers      []Marker      `json:"markers"`
}

// Invite describes an invite without its token, which the server does not keep.
type Invite struct {
	ID        string    `json:"id"`
	Role      string    `json:"role"`
	Name      string    `json:"name"`
	ExpiresAt time.Time `json:"expiresAt"`
	CreatedAt time.Time `json:"createdAt"`
}

// Participant is one join of a session through an invite.
type Participant struct {
	ID       string     `json:"id"`
	InviteID string     `json:"inviteId"`
	Role     string     `json:"role"`
	Name     string     `json:"name"`
	JoinedAt time.Time  `json:"joinedAt"`
	LeftAt   *time.Time `json:"leftAt"`
}

// Track is one recorded track, with its offset from the session's start.
type Track struct {
	ID            string     `json:"id"`
	ParticipantID string     `json:"participantId"`
	Role          string     `json:"role"`
	Kind          string     `json:"kind"`
	Codec         string     `json:"codec"`
	Whisper       bool       `json:"whisper"`
	File          string     `json:"file"`
	StartedAt     time.Time  `json:"startedAt"`
	EndedAt       *time.Time `json:"endedAt"`
	OffsetMs      int64      `json:"offsetMs"`
	DurationMs    int64      `json:"durationMs"`
	Status        string     `json:"status"`
}

// ModeChange is a coach switching between silent, whisper and open.
type ModeChange struct {
	ID            string    `json:"id"`
	ParticipantID string    `json:"participantId"`
	Mode          string    `json:"mode"`
	Target        string    `json:"target"`
	At            time.Time `json:"at"`
	OffsetMs      int64     `json:"offsetMs"`
}

// Marker is a coach's live note.
type Marker struct {
	ID            string    `json:"id"`
	ParticipantID string    `json:"participantId"`
	Note          string    `json:"note"`
	At            time.Time `json:"at"`
	OffsetMs      int64     `json:"offsetMs"`
}

type healthResponse struct {
	Status string     `json:"status"`
	Error  *ErrorBody `json:"error,omitempty"`
}

func sessionFrom(s store.Session) Session {
	return Session{
		ID:          s.ID,
		Title:       s.Title,
		RepName:     s.RepName,
		PartnerName: s.PartnerName,
		RepID:       s.RepID,
		State:       s.State,
		Recorded:    s.Recorded,
		CreatedAt:   s.CreatedAt,
		StartedAt:   s.StartedAt,
		EndedAt:     s.EndedAt,
	}
}

// convert maps a store slice to its API form; the result is never nil, so JSON shows [].
func convert[S, A any](in []S, f func(S) A) []A {
	out := make([]A, 0, len(in))
	for _, v := range in {
		out = append(out, f(v))
	}
	return out
}

func inviteFrom(i store.Invite) Invite {
	return Invite{ID: i.ID, Role: i.Role, Name: i.Name, ExpiresAt: i.ExpiresAt, CreatedAt: i.CreatedAt}
}

func participantFrom(p store.Participant) Participant {
	return Participant{ID: p.ID, InviteID: p.InviteID, Role: p.Role, Name: p.Name, JoinedAt: p.JoinedAt, LeftAt: p.LeftAt}
}

func trackFrom(t store.Track) Track {
	return Track{
		ID:            t.ID,
		ParticipantID: t.ParticipantID,
		Role:          t.Role,
		Kind:          t.Kind,
		Codec:         t.Codec,
		Whisper:       t.Whisper,
		File:          t.File,
		StartedAt:     t.StartedAt,
		EndedAt:       t.EndedAt,
		OffsetMs:      t.OffsetMs,
		DurationMs:    t.DurationMs,
		Status:        t.Status,
	}
}

func modeChangeFrom(m store.ModeChange) ModeChange {
	return ModeChange{ID: m.ID, ParticipantID: m.ParticipantID, Mode: m.Mode, Target: m.Target, At: m.At, OffsetMs: m.OffsetMs}
}

func markerFrom(m store.Marker) Marker {
	return Marker{ID: m.ID, ParticipantID: m.ParticipantID, Note: m.Note, At: m.At, OffsetMs: m.OffsetMs}
}

// RecordingNone is Replay.Recording.Status when the session has no recording (it was not
// recorded, or nobody has joined yet). Other values are the manifest's: recording, complete,
// failed, interrupted.
const RecordingNone = "none"

// Replay is the body of GET /api/sessions/{id}/replay and GET /api/replay: a session's
// recording as the viewer may see it (a rep sees no trace of a silent coach), with the
// comments and a media URL per playable file.
type Replay struct {
	Session     Session            `json:"session"`
	Viewer      Viewer             `json:"viewer"`
	Recording   RecordingInfo      `json:"recording"`
	Tracks      []ReplayTrack      `json:"tracks"`
	CoachModes  []CoachMode        `json:"coachModes"`
	ModeChanges []ReplayModeChange `json:"modeChanges"`
	Markers     []ReplayMarker     `json:"markers"`
	Comments    []Comment          `json:"comments"`
	// MediaExpiresAt is when the tracks' URLs stop working; fetch the replay again for new ones.
	MediaExpiresAt time.Time `json:"mediaExpiresAt"`
}

// Viewer is who a replay was made for.
type Viewer struct {
	Role       string `json:"role"` // "admin", "coach" or "rep"
	Name       string `json:"name"`
	CanComment bool   `json:"canComment"`
}

// RecordingInfo is the state of a session's recording. Offsets elsewhere in a replay are from
// StartedAt.
type RecordingInfo struct {
	Status     string     `json:"status"` // RecordingNone or the manifest's status
	Error      string     `json:"error,omitempty"`
	StartedAt  *time.Time `json:"startedAt"`
	EndedAt    *time.Time `json:"endedAt"`
	DurationMs int64      `json:"durationMs"`
}

// ReplayTrack is one recorded span of one participant's audio or video.
type ReplayTrack struct {
	ID            string `json:"id"`
	ParticipantID string `json:"participantId"`
	Role          string `json:"role"`
	Name          string `json:"name"`
	Kind          string `json:"kind"`
	Codec         string `json:"codec"`
	File          string `json:"file"`
	// URL plays the file (path and media token); "" when there is nothing to play.
	URL           string `json:"url"`
	StartOffsetMs int64  `json:"startOffsetMs"`
	DurationMs    int64  `json:"durationMs"`
	Whisper       bool   `json:"whisper"`
	Status        string `json:"status"`
	Reason        string `json:"reason,omitempty"`
}

// CoachMode is a span of time a coach spent in one mode, labelled for the viewer. A rep sees
// only "whisper" spans whispered to the rep and "open" spans.
type CoachMode struct {
	ParticipantID string `json:"participantId"`
	Name          string `json:"name"`
	Mode          string `json:"mode"`             // "silent", "whisper" or "open"
	Target        string `json:"target,omitempty"` // whisper: the participant whispered to
	StartMs       int64  `json:"startMs"`
	EndMs         int64  `json:"endMs"`
	Label         string `json:"label"`
}

// ReplayModeChange is one of the manifest's mode changes (the admin and the coach only).
type ReplayModeChange struct {
	ParticipantID string `json:"participantId"`
	Mode          string `json:"mode"`
	Target        string `json:"target,omitempty"`
	OffsetMs      int64  `json:"offsetMs"`
}

// ReplayMarker is a coach's live marker; a rep is not told which participant set it.
type ReplayMarker struct {
	ID            string `json:"id"`
	ParticipantID string `json:"participantId,omitempty"`
	Note          string `json:"note"`
	OffsetMs      int64  `json:"offsetMs"`
}

// Comment is a timestamped note on a session's recording.
type Comment struct {
	ID        string    `json:"id"`
	Author    string    `json:"author"`
	Text      string    `json:"text"`
	OffsetMs  int64     `json:"offsetMs"`
	CreatedAt time.Time `json:"createdAt"`
}

// CommentList is the body of GET /api/sessions/{id}/comments.
type CommentList struct {
	Comments []Comment `json:"comments"`
}

// AddCommentRequest is the body of POST /api/sessions/{id}/comments.
type AddCommentRequest struct {
	OffsetMs *int64 `json:"offsetMs"`
	Text     string `json:"text"`
}

func commentFrom(c store.Comment) Comment {
	return Comment{ID: c.ID, Author: c.Author, Text: c.Text, OffsetMs: c.OffsetMs, CreatedAt: c.CreatedAt}
}
