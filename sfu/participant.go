package sfu

import (
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
)

// Conn names one of a participant's two PeerConnections.
type Conn string

const (
	ConnUp   Conn = "up"
	ConnDown Conn = "down"
)

// Events is how the SFU talks back to a participant's signaling. Every method is called from
// SFU or Pion goroutines and must return at once (enqueue, never block).
type Events interface {
	// Offer carries a server offer for the down connection.
	Offer(sdp string)
	// Answer carries the server's answer on the up connection.
	Answer(sdp string)
	// Candidate carries a local ICE candidate; nil ends the candidates of that connection.
	Candidate(conn Conn, c *webrtc.ICECandidateInit)
	// Roster carries the participant's roster, already filtered, whenever it changes.
	Roster(members []RosterEntry)
}

// RosterEntry is one participant as another sees it.
type RosterEntry struct {
	ID         ParticipantID
	Role       Role
	Name       string
	Visibility Visibility
	Audio      bool
	Video      bool
}

// publishGrace is how long a participant's announced tracks wait for each other before the
// ones that arrived are published anyway. Publishing a participant's tracks together costs
// every receiver one renegotiation instead of one per track.
const publishGrace = time.Second

type subKey struct {
	pub  ParticipantID
	kind webrtc.RTPCodecType
}

type subscription struct {
	down   *DownTrack
	sender *webrtc.RTPSender
	rtcp   *rtcpReader // of recv.downRTCP
}

// Participant is one person in a room with an up and a down PeerConnection.
type Participant struct {
	room   *Room
	id     ParticipantID
	role   Role
	name   string
	events Events
	log    *slog.Logger
	up     *webrtc.PeerConnection
	down   *webrtc.PeerConnection
	neg    *negotiator
	direct *directReceiver // nil: the up connection receives through Pion only
	sender *directSender   // nil: the down connection sends through Pion only
	// The RTCP each connection's tracks receive through Pion, read only while the direct
	// path does not take it.
	upRTCP, downRTCP *pionRTCP
	fb               *feedback

	// guarded by room.mu:
	seat       Seat
	muteAudio  bool
	muteVideo  bool
	published  map[webrtc.RTPCodecType]*UpTrack
	subs       map[subKey]*subscription
	lastRoster []RosterEntry
	left       bool

	pubMu     sync.Mutex // guards expected, pending, waiting and live: tracks being published
	expected  map[webrtc.RTPCodecType]bool
	pending   map[webrtc.RTPCodecType]*UpTrack
	waiting   []chan struct{}
	live      map[webrtc.RTPCodecType]bool // kinds published so far: nothing to wait for
	pendTimer *time.Timer

	upMu      sync.Mutex // serializes up offers
	upTrickle *trickler
	upCands   candidateBuffer
	downCands candidateBuffer
}

// ID is the participant's id.
func (p *Participant) ID() ParticipantID { return p.id }

// Role is the participant's role.
func (p *Participant) Role() Role { return p.role }

// Seat is the participant's current place in the routing policy.
func (p *Participant) Seat() Seat {
	p.room.mu.Lock()
	defer p.room.mu.Unlock()
	return p.seat
}

// DownOffers is how many offers the server has sent on the down connection.
func (p *Participant) DownOffers() int { return p.neg.count() }

func (p *Participant) newPCs(api *API) error {
	up, upKeys, err := api.newUp()
	if err != nil {
		return fmt.Errorf("%w: up connection: %v", ErrNegotiation, err)
	}
	down, downKeys, err := api.newDown()
	if err != nil {
		_ = up.Close()
		return fmt.Errorf("%w: down connection: %v", ErrNegotiation, err)
	}
	p.up, p.down = up, down
	p.fb = newFeedback(p.up.WriteRTCP, p.log)
	p.upRTCP, p.downRTCP = newPionRTCP(), newPionRTCP()
	var attachUp, attachDown func(*webrtc.ICECandidatePair)
	if upKeys != nil {
		p.direct = newDirectReceiver(upKeys, api.direct, p.upRTCP, p.log)
		attachUp = p.direct.attach
	}
	if downKeys != nil {
		p.sender = newDirectSender(downKeys, api.direct, p.downRTCP, p.log)
		attachDown = p.sender.attach
	}
	follow(p.up, p.log.With("conn", "up"), attachUp)
	follow(p.down, p.log.With("conn", "down"), attachDown)
	p.upTrickle = &trickler{conn: ConnUp, events: p.events}
	downTrickle := &trickler{conn: ConnDown, events: p.events}
	p.neg = &negotiator{pc: p.down, send: p.events.Offer, trickle: downTrickle}
	p.up.OnICECandidate(p.upTrickle.candidate)
	p.down.OnICECandidate(downTrickle.candidate)
	p.up.OnTrack(p.onTrack)
	return nil
}

// follow logs pc's state changes and calls attach (if not nil) with its selected candidate
// pair whenever it is connected: when it connects (DTLS is done: the keys are known) and when
// ICE selects another pair while it is.
func follow(pc *webrtc.PeerConnection, log *slog.Logger, attach func(*webrtc.ICECandidatePair)) {
	ice := pc.SCTP().Transport().ICETransport()
	ice.OnSelectedCandidatePairChange(func(pair *webrtc.ICECandidatePair) {
		if attach != nil && pc.ConnectionState() == webrtc.PeerConnectionStateConnected {
			attach(pair)
		}
	})
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		log.Debug("connection", "state", s.String())
		if attach == nil || s != webrtc.PeerConnectionStateConnected {
			return
		}
		if pair, err := ice.GetSelectedCandidatePair(); err == nil {
			attach(pair)
		}
	})
}

// senderReportInterval is how often each receiver gets a sender report per track: Pion's
// and libwebrtc's cadence. Receivers need them to play audio and video in sync.
const senderReportInterval = time.Second

// HandleOffer applies the client's offer for the up connection; the answer goes out through
// Events.Answer, ahead of the candidates gathered for it.
func (p *Participant) HandleOffer(conn Conn, offer string) error {
	if conn != ConnUp {
		return fmt.Errorf("%w: the server offers the down connection", ErrNoOffer)
	}
	kinds, err := sendingKinds(offer)
	if err != nil {
		return err
	}
	p.upMu.Lock()
	defer p.upMu.Unlock()
	// A renegotiation that adds a track announces the published ones again: wait only for
	// what is new.
	p.room.mu.Lock()
	for k := range kinds {
		if p.published[k] != nil {
			delete(kinds, k)
		}
	}
	p.room.mu.Unlock()
	p.pubMu.Lock()
	p.expected = kinds
	p.pubMu.Unlock()
	// Candidates of a restarted ICE session are gathered from the moment the offer is
	// applied, so hold them from here.
	p.upTrickle.hold()
	defer p.upTrickle.release()
	if err := p.up.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer}); err != nil {
		return fmt.Errorf("%w: %v", ErrBadSDP, err)
	}
	p.upCands.flush(p.up)
	answer, err := p.up.CreateAnswer(nil)
	if err != nil {
		return fmt.Errorf("%w: create answer: %v", ErrNegotiation, err)
	}
	if err := p.up.SetLocalDescription(answer); err != nil {
		return fmt.Errorf("%w: set local answer: %v", ErrNegotiation, err)
	}
	p.events.Answer(answer.SDP)
	return nil
}

// HandleAnswer applies the client's answer to the server's down offer.
func (p *Participant) HandleAnswer(conn Conn, answer string) error {
	if conn != ConnDown {
		return fmt.Errorf("%w: the client offers the up connection", ErrNoOffer)
	}
	if err := p.neg.answer(answer); err != nil {
		return err
	}
	p.downCands.flush(p.down)
	return nil
}

// AddCandidate adds a remote ICE candidate, holding it until the remote description is set.
func (p *Participant) AddCandidate(conn Conn, c webrtc.ICECandidateInit) error {
	pc, buf := p.up, &p.upCands
	if conn == ConnDown {
		pc, buf = p.down, &p.downCands
	}
	return buf.add(pc, c)
}

// Resume serves a participant whose signaling reconnected: its roster again, and a down offer
// with an ICE restart (the client restarts ICE on up with its own offer).
func (p *Participant) Resume() error {
	p.room.mu.Lock()
	roster := p.lastRoster
	p.room.mu.Unlock()
	p.events.Roster(roster)
	return p.neg.resend(true)
}

// sendingKinds lists the media kinds an up offer sends, refusing what a participant may not
// publish.
func sendingKinds(offer string) (map[webrtc.RTPCodecType]bool, error) {
	var sd sdp.SessionDescription
	if err := sd.UnmarshalString(offer); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadSDP, err)
	}
	kinds := map[webrtc.RTPCodecType]bool{}
	for _, m := range sd.MediaDescriptions {
		kind := webrtc.NewRTPCodecType(m.MediaName.Media)
		if kind == 0 {
			continue // data channels and unknown media are not published
		}
		dir := "sendrecv"
		for _, a := range m.Attributes {
			switch a.Key {
			case "sendonly", "recvonly", "inactive", "sendrecv":
				dir = a.Key
			}
		}
		if dir != "sendonly" && dir != "sendrecv" {
			continue
		}
		if m.MediaName.Port.Value == 0 {
			continue
		}
		if kinds[kind] {
			return nil, fmt.Errorf("%w: more than one %s track", ErrBadSDP, strings.ToLower(kind.String()))
		}
		kinds[kind] = true
	}
	return kinds, nil
}

func (p *Participant) onTrack(remote *webrtc.TrackRemote, recv *webrtc.RTPReceiver) {
	t := newUpTrack(upTrackParams{
		owner:    p.id,
		remote:   remote,
		recv:     recv,
		direct:   p.direct,
		feedback: p.fb,
		writePLI: func(ssrc uint32) error {
			return p.up.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: ssrc}})
		},
		log:      p.log.With("track", remote.Kind().String()),
		metrics:  p.room.cfg.Metrics,
		keyframe: p.room.keyframeInterval(),
	})
	published := p.stage(t)
	rtcpReader := p.upRTCP.add(recv, t.rtcpFromPion)
	defer p.upRTCP.remove(rtcpReader)
	// Reading starts once the track is in the room, so that its first packets (a video
	// track's first keyframe) reach the recorder and receivers; Pion buffers meanwhile.
	<-published
	t.run()
	p.room.unpublish(p, t)
}

// stage holds a new up-track until the participant's other announced tracks arrive; the
// returned channel closes once it is published (or the participant left).
func (p *Participant) stage(t *UpTrack) <-chan struct{} {
	published := make(chan struct{})
	p.pubMu.Lock()
	if p.pending == nil {
		p.pending = map[webrtc.RTPCodecType]*UpTrack{}
	}
	p.pending[t.kind] = t
	p.waiting = append(p.waiting, published)
	complete := true
	for k := range p.expected {
		if p.pending[k] == nil && !p.live[k] {
			complete = false
		}
	}
	if !complete && p.pendTimer == nil {
		p.pendTimer = time.AfterFunc(publishGrace, p.publishPending)
	}
	p.pubMu.Unlock()
	if complete {
		p.publishPending()
	}
	return published
}

func (p *Participant) publishPending() {
	p.pubMu.Lock()
	tracks, waiting := p.pending, p.waiting
	p.pending, p.waiting = nil, nil
	if p.live == nil {
		p.live = map[webrtc.RTPCodecType]bool{}
	}
	for k := range tracks {
		p.live[k] = true
	}
	if p.pendTimer != nil {
		p.pendTimer.Stop()
		p.pendTimer = nil
	}
	p.pubMu.Unlock()
	if len(tracks) > 0 {
		p.room.publish(p, tracks)
	}
	for _, c := range waiting {
		close(c)
	}
}

// candidateBuffer holds remote candidates that arrive before the remote description.
type candidateBuffer struct {
	mu      sync.Mutex
	pending []webrtc.ICECandidateInit
}

const maxBufferedCandidates = 64

func (b *candidateBuffer) add(pc *webrtc.PeerConnection, c webrtc.ICECandidateInit) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if pc.RemoteDescription() == nil {
		if len(b.pending) >= maxBufferedCandidates {
			return fmt.Errorf("%w: too many candidates before the description", ErrBadSDP)
		}
		b.pending = append(b.pending, c)
		return nil
	}
	if err := pc.AddICECandidate(c); err != nil {
		return fmt.Errorf("%w: candidate: %v", ErrBadSDP, err)
	}
	return nil
}

func (b *candidateBuffer) flush(pc *webrtc.PeerConnection) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, c := range b.pending {
		_ = pc.AddICECandidate(c) // a stale candidate is harmless; ICE ignores it
	}
	b.pending = nil
}
