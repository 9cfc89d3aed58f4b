package signaling

import (
	"log/slog"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/pion/webrtc/v4"

	"ringside/internal/proto"
	"ringside/internal/store"
	"ringside/sfu"
)

// member is a participant as signaling sees it. It outlives any one websocket: a dropped
// connection leaves it reconnecting for the grace period, and a resume attaches a new one.
// It implements sfu.Events by forwarding to whichever connection is attached.
type member struct {
	room   *liveRoom
	id     sfu.ParticipantID
	invite store.Invite
	name   string
	resume string
	log    *slog.Logger
	part   *sfu.Participant // set once after Join, before the member is shared

	mu      sync.Mutex // guards the following fields
	conn    *conn
	ready   bool     // welcome sent on conn; until then events are held in held
	held    [][]byte // events raised before welcome
	grace   *time.Timer
	gone    bool
	lastSet proto.Mode // a coach's current mode as last confirmed
}

func (m *member) sfuRole() sfu.Role { return sfu.Role(m.invite.Role) }

// attach makes c the member's connection; the caller then sends welcome and calls ready.
func (m *member) attach(c *conn) (old *conn) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.grace != nil {
		m.grace.Stop()
		m.grace = nil
	}
	old, m.conn = m.conn, c
	m.ready = false
	m.held = nil
	return old
}

// markReady flushes the events held back until welcome.
func (m *member) markReady(c *conn) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.conn != c {
		return
	}
	m.ready = true
	for _, data := range m.held {
		c.queueRaw(data)
	}
	m.held = nil
}

// detach starts the grace period after c dropped without a leave.
func (m *member) detach(c *conn) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.conn != c || m.gone {
		return
	}
	m.conn = nil
	m.ready = false
	m.log.Info("connection lost; waiting for resume", "grace", m.room.srv.grace.String())
	m.grace = time.AfterFunc(m.room.srv.grace, func() {
		m.room.srv.log.Info("grace period over", "participant", string(m.id))
		m.room.remove(m, "")
	})
}

// markGone ends the member; it returns the connection to close, if any.
func (m *member) markGone() *conn {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.gone {
		return nil
	}
	m.gone = true
	if m.grace != nil {
		m.grace.Stop()
		m.grace = nil
	}
	c := m.conn
	m.conn = nil
	return c
}

func (m *member) isGone() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.gone
}

// emit sends an event to the attached connection: held until welcome, dropped while
// reconnecting (a resume brings the roster and a fresh offer again).
func (m *member) emit(msg any) {
	data, err := marshal(msg)
	if err != nil {
		m.log.Error("encode event", "err", err)
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	switch {
	case m.conn == nil:
	case !m.ready:
		m.held = append(m.held, data)
	default:
		m.conn.queueRaw(data)
	}
}

// Offer implements sfu.Events.
func (m *member) Offer(sdp string) {
	m.emit(proto.SDP{Type: proto.TypeOffer, PC: proto.PCDown, SDP: sdp})
}

// Answer implements sfu.Events.
func (m *member) Answer(sdp string) {
	m.emit(proto.SDP{Type: proto.TypeAnswer, PC: proto.PCUp, SDP: sdp})
}

// Candidate implements sfu.Events.
func (m *member) Candidate(c sfu.Conn, cand *webrtc.ICECandidateInit) {
	msg := proto.Candidate{Type: proto.TypeCandidate, PC: proto.PC(c)}
	if cand != nil {
		msg.Candidate = &proto.ICECandidate{
			Candidate:        cand.Candidate,
			SDPMid:           cand.SDPMid,
			SDPMLineIndex:    cand.SDPMLineIndex,
			UsernameFragment: cand.UsernameFragment,
		}
	}
	m.emit(msg)
}

// Roster implements sfu.Events.
func (m *member) Roster(entries []sfu.RosterEntry) {
	members := make([]proto.Member, 0, len(entries))
	for _, e := range entries {
		members = append(members, proto.Member{
			ID:    string(e.ID),
			Role:  string(e.Role),
			Name:  e.Name,
			State: stateName(e.Visibility),
			Audio: e.Audio,
			Video: e.Video,
		})
	}
	m.emit(proto.Roster{Type: proto.TypeRoster, Members: members})
}

func stateName(v sfu.Visibility) string {
	switch v {
	case sfu.Whispering:
		return "whispering"
	case sfu.Open:
		return "open"
	case sfu.Watching:
		return "watching"
	}
	return ""
}

// end tells the member's client why it is over and closes its connection.
func (m *member) end(reason string) {
	c := m.markGone()
	if c == nil {
		return
	}
	if reason != "" {
		c.sendMsg(proto.Ended{Type: proto.TypeEnded, Reason: reason})
	}
	code := websocket.CloseNormalClosure
	if reason == proto.EndedShutdown {
		code = websocket.CloseGoingAway
	}
	c.close(code, reason)
}
