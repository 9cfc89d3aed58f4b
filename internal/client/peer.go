package client

import (
	"fmt"
	"sync"

	"github.com/pion/webrtc/v4"

	"ringside/internal/proto"
)

// peer is one of the client's two PeerConnections with its side of the signaling: the local
// candidates it may not send yet, the remote ones it may not apply yet, and what it received.
//
// Negotiation (offer, acceptAnswer, acceptOffer, addRemoteCandidate) runs on the websocket
// reader goroutine, one message at a time; Pion's candidate callback runs on its own
// goroutine. No Pion method is called with mu held.
type peer struct {
	name proto.PC
	pc   *webrtc.PeerConnection // immutable
	c    *Client

	mu sync.Mutex // guards the following fields
	// gateOpen is false from setting a local description until that description is queued,
	// so that no local candidate reaches the server before the SDP it belongs to.
	gateOpen bool
	held     []*proto.ICECandidate // local candidates behind the gate; nil ends them
	// remoteSet is true once a remote description is applied; offering is true while an up
	// offer awaits its answer. Remote candidates wait in pending unless remoteSet && !offering.
	remoteSet     bool
	offering      bool
	restartWanted bool // an ICE restart waits for the outstanding offer's answer
	pending       []*proto.ICECandidate
	remoteSDPs    []string
	localSDPs     []string
	sent          int // local candidates sent, end-of-candidates included
	received      int // remote candidates received, end-of-candidates included
}

// newPeers builds the down connection, and the up one with the local tracks when there is
// something to publish, then installs them on the client.
func (c *Client) newPeers(servers []proto.ICEServer) (up, down *peer, err error) {
	conf := webrtc.Configuration{ICEServers: c.iceServers(servers), ICETransportPolicy: c.cfg.ICETransportPolicy}
	if down, err = c.newPeer(proto.PCDown, conf); err != nil {
		return nil, nil, err
	}
	down.pc.OnTrack(c.onTrack)

	var senders map[webrtc.RTPCodecType]*webrtc.RTPSender
	if c.audio != nil || c.video != nil {
		if up, err = c.newPeer(proto.PCUp, conf); err != nil {
			_ = down.pc.Close()
			return nil, nil, err
		}
		senders = make(map[webrtc.RTPCodecType]*webrtc.RTPSender)
		for _, track := range []*webrtc.TrackLocalStaticSample{c.audio, c.video} {
			if track == nil {
				continue
			}
			tr, err := up.pc.AddTransceiverFromTrack(track,
				webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
			if err != nil {
				_ = up.pc.Close()
				_ = down.pc.Close()
				return nil, nil, fmt.Errorf("client: up %s track: %w", track.Kind(), err)
			}
			senders[track.Kind()] = tr.Sender()
		}
	}

	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		if up != nil {
			_ = up.pc.Close()
		}
		_ = down.pc.Close()
		return nil, nil, ErrClosed
	}
	c.up, c.down = up, down
	c.wg.Add(len(senders))
	c.changedLocked()
	c.mu.Unlock()
	for kind, sender := range senders {
		go c.readSenderRTCP(kind, sender)
	}
	return up, down, nil
}

func (c *Client) newPeer(name proto.PC, conf webrtc.Configuration) (*peer, error) {
	pc, err := c.api.NewPeerConnection(conf)
	if err != nil {
		return nil, fmt.Errorf("client: %s connection: %w", name, err)
	}
	p := &peer{name: name, pc: pc, c: c}
	pc.OnICECandidate(p.onLocalCandidate)
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		c.logger().Debug("connection state", "pc", name, "state", s)
		c.notify()
	})
	return p, nil
}

// iceServers is Config.ICEServers when set, else the welcome's.
func (c *Client) iceServers(servers []proto.ICEServer) []webrtc.ICEServer {
	if c.cfg.ICEServers != nil {
		return c.cfg.ICEServers
	}
	out := make([]webrtc.ICEServer, 0, len(servers))
	for _, s := range servers {
		out = append(out, webrtc.ICEServer{
			URLs:           s.URLs,
			Username:       s.Username,
			Credential:     s.Credential,
			CredentialType: webrtc.ICECredentialTypePassword,
		})
	}
	return out
}

// peer returns the connection named pc, or nil.
func (c *Client) peer(pc proto.PC) *peer {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch pc {
	case proto.PCUp:
		return c.up
	case proto.PCDown:
		return c.down
	}
	return nil
}

// offer sends an up offer, or, while one is outstanding, remembers to restart ICE after its
// answer.
func (p *peer) offer(iceRestart bool) error {
	p.mu.Lock()
	if p.offering {
		p.restartWanted = p.restartWanted || iceRestart
		p.mu.Unlock()
		return nil
	}
	p.offering, p.gateOpen = true, false
	p.mu.Unlock()

	var opts *webrtc.OfferOptions
	if iceRestart {
		opts = &webrtc.OfferOptions{ICERestart: true}
	}
	offer, err := p.pc.CreateOffer(opts)
	if err == nil {
		err = p.pc.SetLocalDescription(offer)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if err != nil {
		p.offering = false
		p.openGateLocked()
		return fmt.Errorf("client: %s offer: %w", p.name, err)
	}
	p.localSDPs = append(p.localSDPs, offer.SDP)
	p.sendLocked(proto.SDP{Type: proto.TypeOffer, PC: p.name, SDP: offer.SDP})
	p.openGateLocked()
	return nil
}

// restart restarts ICE on a resumed websocket. An offer sent on the dropped websocket may
// never have been answered, and Pion cannot roll a local offer back: that offer is sent again,
// and the restart follows its answer.
func (p *peer) restart() error {
	p.mu.Lock()
	if p.offering && len(p.localSDPs) > 0 {
		p.restartWanted = true
		p.sendLocked(proto.SDP{Type: proto.TypeOffer, PC: p.name, SDP: p.localSDPs[len(p.localSDPs)-1]})
		p.mu.Unlock()
		return nil
	}
	p.mu.Unlock()
	return p.offer(true)
}

// acceptAnswer applies the server's answer to the outstanding up offer.
func (p *peer) acceptAnswer(sdp string) error {
	p.mu.Lock()
	p.remoteSDPs = append(p.remoteSDPs, sdp)
	offering := p.offering
	p.mu.Unlock()
	if !offering {
		return fmt.Errorf("%w: %s answer without an offer", ErrProtocol, p.name)
	}
	if err := p.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: sdp}); err != nil {
		return fmt.Errorf("client: %s answer: %w", p.name, err)
	}
	p.mu.Lock()
	p.offering, p.remoteSet = false, true
	pending := p.pending
	p.pending = nil
	again := p.restartWanted
	p.restartWanted = false
	p.mu.Unlock()

	err := p.addCandidates(pending)
	if again {
		if rerr := p.offer(true); rerr != nil {
			return rerr
		}
	}
	return err
}

// acceptOffer applies a down offer from the server and answers it. The gate closes before the
// offer is applied: Pion starts gathering right there when the offer restarts ICE, and those
// candidates belong to the answer.
func (p *peer) acceptOffer(sdp string) error {
	p.mu.Lock()
	p.remoteSDPs = append(p.remoteSDPs, sdp)
	p.gateOpen = false
	p.mu.Unlock()
	answer, err := p.applyOffer(sdp)
	p.mu.Lock()
	defer p.mu.Unlock()
	if err != nil {
		p.openGateLocked()
		return err
	}
	p.localSDPs = append(p.localSDPs, answer.SDP)
	p.sendLocked(proto.SDP{Type: proto.TypeAnswer, PC: p.name, SDP: answer.SDP})
	p.openGateLocked()
	return nil
}

// applyOffer sets the remote offer, applies the candidates that waited for it, and sets the
// local answer.
func (p *peer) applyOffer(sdp string) (webrtc.SessionDescription, error) {
	if err := p.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: sdp}); err != nil {
		return webrtc.SessionDescription{}, fmt.Errorf("client: %s offer: %w", p.name, err)
	}
	p.mu.Lock()
	p.remoteSet = true
	pending := p.pending
	p.pending = nil
	p.mu.Unlock()
	if err := p.addCandidates(pending); err != nil {
		p.c.fail(err)
	}
	answer, err := p.pc.CreateAnswer(nil)
	if err == nil {
		err = p.pc.SetLocalDescription(answer)
	}
	if err != nil {
		return webrtc.SessionDescription{}, fmt.Errorf("client: %s answer: %w", p.name, err)
	}
	return answer, nil
}

// addRemoteCandidate applies a trickled candidate, or keeps it until it can be applied.
func (p *peer) addRemoteCandidate(cand *proto.ICECandidate) error {
	p.mu.Lock()
	p.received++
	if !p.remoteSet || p.offering {
		p.pending = append(p.pending, cand)
		p.mu.Unlock()
		return nil
	}
	p.mu.Unlock()
	return p.addCandidates([]*proto.ICECandidate{cand})
}

func (p *peer) addCandidates(cands []*proto.ICECandidate) error {
	var first error
	for _, cand := range cands {
		var init webrtc.ICECandidateInit // the empty candidate ends the remote candidates
		if cand != nil {
			init = webrtc.ICECandidateInit{
				Candidate:        cand.Candidate,
				SDPMid:           cand.SDPMid,
				SDPMLineIndex:    cand.SDPMLineIndex,
				UsernameFragment: cand.UsernameFragment,
			}
		}
		if err := p.pc.AddICECandidate(init); err != nil && first == nil {
			first = fmt.Errorf("client: %s candidate %q: %w", p.name, init.Candidate, err)
		}
	}
	return first
}

// onLocalCandidate is Pion's callback for a gathered candidate, nil when gathering is done.
func (p *peer) onLocalCandidate(cand *webrtc.ICECandidate) {
	var msg *proto.ICECandidate
	if cand != nil {
		init := cand.ToJSON()
		msg = &proto.ICECandidate{
			Candidate:        init.Candidate,
			SDPMid:           init.SDPMid,
			SDPMLineIndex:    init.SDPMLineIndex,
			UsernameFragment: init.UsernameFragment,
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.gateOpen {
		p.held = append(p.held, msg)
		return
	}
	p.sendCandidateLocked(msg)
}

func (p *peer) openGateLocked() {
	p.gateOpen = true
	for _, msg := range p.held {
		p.sendCandidateLocked(msg)
	}
	p.held = nil
}

func (p *peer) sendCandidateLocked(msg *proto.ICECandidate) {
	p.sent++
	p.sendLocked(proto.Candidate{Type: proto.TypeCandidate, PC: p.name, Candidate: msg})
}

// sendLocked queues msg on the live websocket. While the websocket is down the message is
// lost: the resume's ICE restart makes new candidates and SDP.
func (p *peer) sendLocked(msg any) {
	if err := p.c.send(msg); err != nil {
		p.c.logger().Debug("signaling message dropped", "pc", p.name, "err", err)
	}
}

// PeerInfo describes one PeerConnection and its signaling.
type PeerInfo struct {
	State      webrtc.PeerConnectionState
	ICEState   webrtc.ICEConnectionState
	Signaling  webrtc.SignalingState
	RemoteSDPs []string // every SDP received for this connection, in order
	LocalSDPs  []string // every SDP sent for it, in order
	// CandidatesSent and CandidatesReceived count trickled candidates, end-of-candidates
	// included.
	CandidatesSent     int
	CandidatesReceived int
	// Selected is the candidate pair ICE carries the connection on; nil until there is one.
	Selected *webrtc.ICECandidatePair
}

// Peer describes the connection named pc; false before the welcome (and for up when
// publishing nothing).
func (c *Client) Peer(pc proto.PC) (PeerInfo, bool) {
	p := c.peer(pc)
	if p == nil {
		return PeerInfo{}, false
	}
	info := PeerInfo{
		State:     p.pc.ConnectionState(),
		ICEState:  p.pc.ICEConnectionState(),
		Signaling: p.pc.SignalingState(),
	}
	if pair, err := p.pc.SCTP().Transport().ICETransport().GetSelectedCandidatePair(); err == nil {
		info.Selected = pair
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	info.RemoteSDPs = append([]string(nil), p.remoteSDPs...)
	info.LocalSDPs = append([]string(nil), p.localSDPs...)
	info.CandidatesSent, info.CandidatesReceived = p.sent, p.received
	return info, true
}
