// Package proto holds the wire types of Ringside's websocket signaling protocol, version 1.
//
// docs/protocol.md is the protocol's single source of truth; this package mirrors it so that
// the server (signaling) and the Go client (internal/client) cannot drift apart. It owns the
// message shapes and their decoding only: no I/O, no state, no knowledge of rooms or stores.
package proto

import (
	"encoding/json"
	"errors"
	"fmt"
)

// Version is the protocol version spoken by this server and client.
const Version = 1

// Message types, client → server.
const (
	TypeJoin      = "join"
	TypeOffer     = "offer"  // also server → client (down connection)
	TypeAnswer    = "answer" // also server → client (up connection)
	TypeCandidate = "candidate"
	TypeMode      = "mode" // also server → client (a coach's own mode, confirmed)
	TypeMark      = "mark"
	TypeMute      = "mute"
	TypeLeave     = "leave"
)

// Message types, server → client only.
const (
	TypeWelcome   = "welcome"
	TypeRoster    = "roster"
	TypeMarked    = "marked"
	TypeRecording = "recording"
	TypeError     = "error"
	TypeEnded     = "ended"
)

// PC names one of a participant's two PeerConnections.
type PC string

const (
	// PCUp carries what the participant publishes; the client offers.
	PCUp PC = "up"
	// PCDown carries what the participant receives; the server offers.
	PCDown PC = "down"
)

// Valid reports whether pc names a known connection.
func (pc PC) Valid() bool { return pc == PCUp || pc == PCDown }

// Envelope is the part every message shares; Type selects the rest.
type Envelope struct {
	Type string `json:"type"`
}

// Join is the first message of every connection.
type Join struct {
	Type    string `json:"type"`
	Version int    `json:"v"`
	Token   string `json:"token"`
	// Resume is the secret from an earlier welcome; with it the server resumes that participant
	// within the grace period instead of creating a new one.
	Resume string `json:"resume,omitempty"`
}

// SDP carries an offer or an answer for one connection.
type SDP struct {
	Type string `json:"type"`
	PC   PC     `json:"pc"`
	SDP  string `json:"sdp"`
}

// ICECandidate mirrors the browser's RTCIceCandidateInit.
type ICECandidate struct {
	Candidate        string  `json:"candidate"`
	SDPMid           *string `json:"sdpMid,omitempty"`
	SDPMLineIndex    *uint16 `json:"sdpMLineIndex,omitempty"`
	UsernameFragment *string `json:"usernameFragment,omitempty"`
}

// Candidate trickles one ICE candidate; a nil Candidate means end of candidates.
type Candidate struct {
	Type      string        `json:"type"`
	PC        PC            `json:"pc"`
	Candidate *ICECandidate `json:"candidate"`
}

// Coach modes.
const (
	ModeSilent  = "silent"
	ModeWhisper = "whisper"
	ModeOpen    = "open"
)

// Mode is sent by a coach to change mode, and by the server to the coach to confirm it.
type Mode struct {
	Type string `json:"type"`
	Mode string `json:"mode"`
	// Target is the participant a whisper goes to; empty means the session's rep.
	Target string `json:"target,omitempty"`
}

// Mark is a coach's live marker.
type Mark struct {
	Type string `json:"type"`
	Note string `json:"note"`
}

// Marked confirms a stored marker to the coach who set it.
type Marked struct {
	Type string `json:"type"`
	ID   string `json:"id"`
	// AtMs is the marker's time in milliseconds from the start of the session.
	AtMs int64  `json:"atMs"`
	Note string `json:"note"`
}

// Mute reports the sender's own mute state; it is shown in others' rosters.
type Mute struct {
	Type  string `json:"type"`
	Audio bool   `json:"audio"`
	Video bool   `json:"video"`
}

// Leave ends the participant for good (no grace period).
type Leave struct {
	Type string `json:"type"`
}

// ICEServer mirrors the browser's RTCIceServer.
type ICEServer struct {
	URLs       []string `json:"urls"`
	Username   string   `json:"username,omitempty"`
	Credential string   `json:"credential,omitempty"`
}

// SessionInfo describes the session in a welcome.
type SessionInfo struct {
	ID    string `json:"id"`
	Title string `json:"title"`
}

// Self describes the receiving participant.
type Self struct {
	ID   string `json:"id"`
	Role string `json:"role"`
	Name string `json:"name"`
	// Mode is the coach's current mode; empty for other roles.
	Mode   string `json:"mode,omitempty"`
	Target string `json:"target,omitempty"`
}

// Welcome answers a join.
type Welcome struct {
	Type       string      `json:"type"`
	Version    int         `json:"v"`
	Session    SessionInfo `json:"session"`
	You        Self        `json:"you"`
	Resume     string      `json:"resume"`
	Resumed    bool        `json:"resumed"`
	ICEServers []ICEServer `json:"iceServers"`
	Recording  bool        `json:"recording"`
}

// Member is one roster entry, already filtered for the receiver.
type Member struct {
	ID   string `json:"id"`
	Role string `json:"role"`
	Name string `json:"name"`
	// State is "whispering" when a coach whispers to the receiver, "open" for an open coach,
	// "watching" only in another coach's view of a silent coach; empty otherwise.
	State string `json:"state,omitempty"`
	Audio bool   `json:"audio"` // publishes unmuted audio
	Video bool   `json:"video"` // publishes unmuted video
}

// Roster is the full list of participants the receiver may know of, itself excluded.
type Roster struct {
	Type    string   `json:"type"`
	Members []Member `json:"members"`
}

// Recording tells whether the session is being recorded.
type Recording struct {
	Type   string `json:"type"`
	State  string `json:"state"` // "on", "off" or "failed"
	Reason string `json:"reason,omitempty"`
}

// Error reports a refusal; Fatal errors are followed by the server closing the connection.
type Error struct {
	Type    string `json:"type"`
	Code    string `json:"code"`
	Message string `json:"message"`
	Fatal   bool   `json:"fatal"`
}

// Ended tells the client its participation is over and why.
type Ended struct {
	Type   string `json:"type"`
	Reason string `json:"reason"`
}

// Reasons carried by Ended.
const (
	EndedSessionEnded = "session_ended"
	EndedShutdown     = "server_shutdown"
	EndedLeft         = "left"
	EndedReplaced     = "replaced"
)

// Error codes. They are stable: clients may switch on them.
const (
	CodeBadMessage   = "bad_message"    // not JSON, or a field of the wrong type
	CodeUnknownType  = "unknown_type"   // a type this version does not define
	CodeTooLarge     = "too_large"      // frame or SDP over the limit
	CodeRateLimited  = "rate_limited"   // messages per second over the limit
	CodeBadState     = "bad_state"      // a message out of order
	CodeBadToken     = "bad_token"      // unknown, forged or other-session invite
	CodeTokenExpired = "token_expired"  // invite past its expiry
	CodeSessionEnded = "session_ended"  // the session no longer accepts joins
	CodeSessionFull  = "session_full"   // participants per session limit
	CodeServerFull   = "server_full"    // live sessions per server limit
	CodeForbidden    = "forbidden"      // the role may not do this
	CodeBadSDP       = "bad_sdp"        // SDP rejected
	CodeBadCandidate = "bad_candidate"  // candidate rejected
	CodeBadTarget    = "bad_target"     // whisper target unknown or not allowed
	CodeBadVersion   = "bad_version"    // protocol version not spoken
	CodeResumeFailed = "resume_failed"  // nothing to resume; join afresh
	CodeInternal     = "internal"       // the server failed; the connection is closed
	CodeShuttingDown = "shutting_down"  // the server is stopping
	CodeTooManyMarks = "too_many_marks" // marker limit for the session
)

// ErrUnknownType is returned by Decode for a well-formed message of an undefined type.
var ErrUnknownType = errors.New("proto: unknown message type")

// ErrMalformed is returned by Decode for input that is not a message.
var ErrMalformed = errors.New("proto: malformed message")

// Decode parses one client → server frame into its typed message (a value of Join, SDP,
// Candidate, Mode, Mark, Mute or Leave). Unknown fields are ignored, so a client cannot make a
// field the server does not read mean anything.
func Decode(data []byte) (any, error) {
	var env Envelope
	if err := json.Unmarshal(data, &env); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	var msg any
	switch env.Type {
	case TypeJoin:
		msg = &Join{}
	case TypeOffer, TypeAnswer:
		msg = &SDP{}
	case TypeCandidate:
		msg = &Candidate{}
	case TypeMode:
		msg = &Mode{}
	case TypeMark:
		msg = &Mark{}
	case TypeMute:
		msg = &Mute{}
	case TypeLeave:
		msg = &Leave{}
	case "":
		return nil, fmt.Errorf("%w: no type", ErrMalformed)
	default:
		return nil, fmt.Errorf("%w %q", ErrUnknownType, truncate(env.Type, 32))
	}
	if err := json.Unmarshal(data, msg); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrMalformed, env.Type, err)
	}
	if s, ok := msg.(*SDP); ok && !s.PC.Valid() {
		return nil, fmt.Errorf("%w: %s: pc must be \"up\" or \"down\"", ErrMalformed, env.Type)
	}
	if c, ok := msg.(*Candidate); ok && !c.PC.Valid() {
		return nil, fmt.Errorf("%w: candidate: pc must be \"up\" or \"down\"", ErrMalformed)
	}
	return msg, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
