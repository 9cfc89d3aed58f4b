package signaling

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"ringside/internal/store"
	"ringside/sfu"
)

// liveRoom is a session while anyone is in it: the SFU room plus who holds which invite.
type liveRoom struct {
	srv     *Server
	session store.Session
	room    *sfu.Room
	start   time.Time // session time zero: markers and mode changes are offsets from it
	log     *slog.Logger

	// rec is the session's recording (nil when the session is not recorded) and analysis its
	// talk analysis (nil when sessions are not analysed); both are the room's sinks, and set
	// before the room is shared.
	rec      Recording
	analysis Analysis

	mu        sync.Mutex // guards the following fields
	byInvite  map[string]*member
	members   map[sfu.ParticipantID]*member
	marks     int
	closed    bool
	recState  string // "on", "off" or "failed"
	recReason string
}

func (lr *liveRoom) membersLocked() []*member {
	out := make([]*member, 0, len(lr.members))
	for _, m := range lr.members {
		out = append(out, m)
	}
	return out
}

// offsetMs is the session time of t.
func (lr *liveRoom) offsetMs(t time.Time) int64 { return t.Sub(lr.start).Milliseconds() }

func (lr *liveRoom) memberByInvite(inviteID string) *member {
	lr.mu.Lock()
	defer lr.mu.Unlock()
	return lr.byInvite[inviteID]
}

func (lr *liveRoom) member(id sfu.ParticipantID) *member {
	lr.mu.Lock()
	defer lr.mu.Unlock()
	return lr.members[id]
}

// add registers a joined member; it returns the member that held the invite before, if any.
func (lr *liveRoom) add(m *member) (replaced *member, err error) {
	lr.mu.Lock()
	defer lr.mu.Unlock()
	if lr.closed {
		return nil, ErrSessionEnded
	}
	replaced = lr.byInvite[m.invite.ID]
	lr.byInvite[m.invite.ID] = m
	lr.members[m.id] = m
	return replaced, nil
}

// remove takes a member out for good, telling its client reason (if connected) and the store
// when it left. The room closes when its last member goes.
func (lr *liveRoom) remove(m *member, reason string) {
	m.end(reason)
	lr.mu.Lock()
	if lr.members[m.id] != m {
		lr.mu.Unlock()
		return
	}
	delete(lr.members, m.id)
	if lr.byInvite[m.invite.ID] == m {
		delete(lr.byInvite, m.invite.ID)
	}
	empty := len(lr.members) == 0
	if empty {
		// Dropped from the server while still locked, so a join that finds this room closed
		// and asks the server again gets a new one.
		lr.closed = true
		lr.srv.dropRoom(lr)
	}
	lr.mu.Unlock()

	lr.room.Leave(m.id)
	lr.coachAction(m, ActionLeave, "")
	lr.srv.metrics.participantLeft(m.invite.Role)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := lr.srv.store.ParticipantLeft(ctx, string(m.id), time.Now()); err != nil {
		m.log.Warn("store participant left", "err", err)
	}
	if empty {
		lr.room.Close()
		lr.finishRecording()
	}
}

// closeAll ends every member with reason and closes the room.
func (lr *liveRoom) closeAll(reason string) {
	lr.mu.Lock()
	lr.closed = true
	members := lr.membersLocked()
	lr.mu.Unlock()
	if len(members) == 0 {
		lr.srv.dropRoom(lr)
		lr.room.Close()
		lr.finishRecording()
		return
	}
	for _, m := range members {
		lr.remove(m, reason) // the last one closes the room and its recording
	}
}
