package sfu

import (
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/pion/webrtc/v4"
)

// RoomParams configures a Room.
type RoomParams struct {
	ID     SessionID
	API    *API
	Config Config
	Logger *slog.Logger
	// MaxParticipants bounds the room (0: no bound).
	MaxParticipants int
}

// Room is one live session: its participants and who receives what of whom.
type Room struct {
	id  SessionID
	api *API
	cfg Config
	log *slog.Logger
	max int

	mu     sync.Mutex     // guards the following fields and every Participant's "guarded by room.mu"
	parts  []*Participant // in join order, which is roster order
	sinks  []*roomSink    // in the order attached (sink.go)
	closed bool
}

// NewRoom makes an empty room.
func NewRoom(p RoomParams) *Room {
	log := p.Logger
	if log == nil {
		log = slog.Default()
	}
	return &Room{
		id:  p.ID,
		api: p.API,
		cfg: p.Config,
		log: log.With("session", string(p.ID)),
		max: p.MaxParticipants,
	}
}

func (r *Room) keyframeInterval() time.Duration {
	if r.cfg.KeyframeInterval == 0 {
		return 5 * time.Second
	}
	return r.cfg.KeyframeInterval
}

// JoinParams describes a participant joining a room.
type JoinParams struct {
	ID     ParticipantID
	Role   Role
	Name   string
	Events Events
	Logger *slog.Logger
}

// Join adds a participant with fresh up and down PeerConnections. A coach joins silent.
func (r *Room) Join(jp JoinParams) (*Participant, error) {
	if !jp.Role.Valid() {
		return nil, ErrForbidden
	}
	log := jp.Logger
	if log == nil {
		log = r.log.With("participant", string(jp.ID), "role", string(jp.Role))
	}
	p := &Participant{
		room:      r,
		id:        jp.ID,
		role:      jp.Role,
		name:      jp.Name,
		events:    jp.Events,
		log:       log,
		seat:      Seat{ID: jp.ID, Role: jp.Role},
		published: map[webrtc.RTPCodecType]*UpTrack{},
		subs:      map[subKey]*subscription{},
	}
	if jp.Role == RoleCoach {
		p.seat.Mode = ModeSilent
	}
	// Making PeerConnections generates certificates: do it before taking the room's lock.
	if err := p.newPCs(r.api); err != nil {
		return nil, err
	}
	r.mu.Lock()
	var refuse error
	switch {
	case r.closed:
		refuse = ErrClosed
	case r.findLocked(jp.ID) != nil:
		refuse = ErrDuplicate
	case r.max > 0 && len(r.parts) >= r.max:
		refuse = ErrRoomFull
	}
	if refuse != nil {
		r.mu.Unlock()
		r.closeParticipant(p)
		return nil, refuse
	}
	r.parts = append(r.parts, p)
	r.applyAndUnlock()
	return p, nil
}

// Participant returns a participant of the room, or nil.
func (r *Room) Participant(id ParticipantID) *Participant {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.findLocked(id)
}

// Len is the number of participants.
func (r *Room) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.parts)
}

func (r *Room) findLocked(id ParticipantID) *Participant {
	for _, p := range r.parts {
		if p.id == id {
			return p
		}
	}
	return nil
}

// SetMode changes a coach's mode live. An empty whisper target means the room's rep.
func (r *Room) SetMode(id ParticipantID, mode Mode, target ParticipantID) (Seat, error) {
	r.mu.Lock()
	p := r.findLocked(id)
	if p == nil {
		r.mu.Unlock()
		return Seat{}, ErrClosed
	}
	if p.role != RoleCoach {
		r.mu.Unlock()
		return Seat{}, ErrForbidden
	}
	if !mode.Valid() {
		r.mu.Unlock()
		return Seat{}, ErrBadMode
	}
	if mode == ModeWhisper {
		if target == "" {
			for _, q := range r.parts {
				if q.role == RoleRep {
					target = q.id
					break
				}
			}
		}
		t := r.findLocked(target)
		if t == nil || (t.role != RoleRep && t.role != RolePartner) {
			r.mu.Unlock()
			return Seat{}, ErrBadTarget
		}
	} else {
		target = ""
	}
	p.seat.Mode, p.seat.Target = mode, target
	seat := p.seat
	r.applyAndUnlock()
	return seat, nil
}

// SetMute records what a participant says it publishes unmuted (shown in rosters).
func (r *Room) SetMute(id ParticipantID, audio, video bool) {
	r.mu.Lock()
	p := r.findLocked(id)
	if p == nil {
		r.mu.Unlock()
		return
	}
	p.muteAudio, p.muteVideo = !audio, !video
	r.applyAndUnlock()
}

// Leave removes a participant and closes its connections.
func (r *Room) Leave(id ParticipantID) {
	r.mu.Lock()
	p := r.findLocked(id)
	if p == nil {
		r.mu.Unlock()
		return
	}
	r.parts = slices.DeleteFunc(r.parts, func(q *Participant) bool { return q == p })
	r.dropLocked(p)
	r.applyAndUnlock()
	r.closeParticipant(p)
}

// Close removes everyone; the room accepts no joins after it.
func (r *Room) Close() {
	r.mu.Lock()
	r.closed = true
	parts := r.parts
	r.parts = nil
	for _, p := range parts {
		r.dropLocked(p)
	}
	r.applyAndUnlock()
	for _, p := range parts {
		r.closeParticipant(p)
	}
}

// dropLocked detaches a participant who is leaving from the tracks it receives.
func (r *Room) dropLocked(p *Participant) {
	p.left = true
	for key, sub := range p.subs {
		sub.down.up.removeDown(sub.down)
		delete(p.subs, key)
	}
}

func (r *Room) closeParticipant(p *Participant) {
	p.neg.close()
	p.publishPending() // releases the grace timer; publish ignores a participant who left
	if p.direct != nil {
		p.direct.close()
	}
	if p.sender != nil {
		p.sender.close()
	}
	_ = p.up.Close()
	_ = p.down.Close()
}

func (r *Room) publish(p *Participant, tracks map[webrtc.RTPCodecType]*UpTrack) {
	r.mu.Lock()
	if p.left {
		r.mu.Unlock()
		return
	}
	for kind, t := range tracks {
		p.published[kind] = t
	}
	r.applyAndUnlock()
}

func (r *Room) unpublish(p *Participant, t *UpTrack) {
	r.mu.Lock()
	if p.published[t.kind] == t {
		delete(p.published, t.kind)
	}
	r.applyAndUnlock()
}

// applyAndUnlock brings every subscription, sink span and roster in line with the policy, then
// unlocks and tells only the participants whose view changed.
func (r *Room) applyAndUnlock() {
	var renegotiate []*Participant
	type rosterMsg struct {
		p       *Participant
		members []RosterEntry
	}
	var rosters []rosterMsg
	for _, recv := range r.parts {
		if r.reconcileLocked(recv) {
			renegotiate = append(renegotiate, recv)
		}
		if m := r.rosterLocked(recv); !slices.Equal(m, recv.lastRoster) || recv.lastRoster == nil {
			recv.lastRoster = m
			rosters = append(rosters, rosterMsg{recv, m})
		}
	}
	closed := r.reconcileSinksLocked()
	r.mu.Unlock()

	for _, w := range closed {
		w.Close()
	}
	for _, m := range rosters {
		m.p.events.Roster(m.members)
	}
	for _, p := range renegotiate {
		if err := p.neg.negotiate(false); err != nil {
			p.log.Warn("renegotiation failed", "err", err)
		}
	}
}

// want lists what recv should receive, in join order, audio before video, so that every
// receiver's transceivers are added in a deterministic order.
func (r *Room) wantLocked(recv *Participant) []*UpTrack {
	var want []*UpTrack
	for _, pub := range r.parts {
		if pub == recv {
			continue
		}
		g := Route(pub.seat, recv.seat)
		if t := pub.published[webrtc.RTPCodecTypeAudio]; t != nil && g.Audio {
			want = append(want, t)
		}
		if t := pub.published[webrtc.RTPCodecTypeVideo]; t != nil && g.Video {
			want = append(want, t)
		}
	}
	return want
}

// reconcileLocked adds and removes recv's down-tracks; it reports whether any changed.
func (r *Room) reconcileLocked(recv *Participant) bool {
	want := r.wantLocked(recv)
	changed := false
	for key, sub := range recv.subs {
		if !slices.Contains(want, sub.down.up) {
			sub.down.up.removeDown(sub.down)
			recv.downRTCP.remove(sub.rtcp)
			if err := recv.down.RemoveTrack(sub.sender); err != nil {
				recv.log.Debug("remove track", "err", err)
			}
			delete(recv.subs, key)
			changed = true
		}
	}
	for _, t := range want {
		key := subKey{t.owner, t.kind}
		if sub := recv.subs[key]; sub != nil {
			sub.down.visible.Store(r.visibleLocked(recv, t.owner))
			continue
		}
		d := newDownTrack(t, recv.id, r.visibleLocked(recv, t.owner))
		d.sender, d.writeRTCP = recv.sender, recv.down.WriteRTCP
		sender, err := recv.down.AddTrack(d)
		if err != nil {
			recv.log.Warn("add track", "err", err)
			continue
		}
		recv.subs[key] = &subscription{down: d, sender: sender, rtcp: recv.downRTCP.add(sender, d.rtcpFromPion)}
		t.addDown(d)
		changed = true
	}
	return changed
}

// visibleLocked reports whether the publisher pub may know that recv is there.
func (r *Room) visibleLocked(recv *Participant, pub ParticipantID) bool {
	p := r.findLocked(pub)
	return p != nil && Route(recv.seat, p.seat).Roster != Hidden
}

func (r *Room) rosterLocked(recv *Participant) []RosterEntry {
	members := []RosterEntry{}
	for _, pub := range r.parts {
		if pub == recv {
			continue
		}
		g := Route(pub.seat, recv.seat)
		if g.Roster == Hidden {
			continue
		}
		members = append(members, RosterEntry{
			ID:         pub.id,
			Role:       pub.role,
			Name:       pub.name,
			Visibility: g.Roster,
			Audio:      g.Audio && pub.published[webrtc.RTPCodecTypeAudio] != nil && !pub.muteAudio,
			Video:      g.Video && pub.published[webrtc.RTPCodecTypeVideo] != nil && !pub.muteVideo,
		})
	}
	return members
}

// String names the room in logs.
func (r *Room) String() string { return fmt.Sprintf("room %s", r.id) }
