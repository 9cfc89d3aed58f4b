package sfu

import (
	"fmt"
	"sync"

	"github.com/pion/webrtc/v4"
)

// negotiator runs the server-offered down connection: one offer outstanding at a time, and
// changes that arrive meanwhile folded into one follow-up offer.
type negotiator struct {
	pc      *webrtc.PeerConnection
	send    func(sdp string)
	trickle *trickler

	mu         sync.Mutex // guards the following fields, and serializes offers and answers
	offering   bool
	pending    bool
	iceRestart bool
	closed     bool
	offers     int
}

// negotiate sends a new offer now, or after the outstanding one is answered.
func (n *negotiator) negotiate(iceRestart bool) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.iceRestart = n.iceRestart || iceRestart
	if n.closed {
		return nil
	}
	if n.offering {
		n.pending = true
		return nil
	}
	return n.offerLocked()
}

func (n *negotiator) offerLocked() error {
	restart := n.iceRestart
	n.iceRestart = false
	n.pending = false
	offer, err := n.pc.CreateOffer(&webrtc.OfferOptions{ICERestart: restart})
	if err != nil {
		return fmt.Errorf("%w: create offer: %v", ErrNegotiation, err)
	}
	n.trickle.hold()
	defer n.trickle.release()
	if err := n.pc.SetLocalDescription(offer); err != nil {
		return fmt.Errorf("%w: set local offer: %v", ErrNegotiation, err)
	}
	n.offering = true
	n.offers++
	n.send(offer.SDP)
	return nil
}

// answer applies the client's answer and sends the follow-up offer if one is due.
func (n *negotiator) answer(sdp string) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if !n.offering {
		return ErrNoOffer
	}
	if err := n.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: sdp}); err != nil {
		return fmt.Errorf("%w: %v", ErrBadSDP, err)
	}
	n.offering = false
	if n.pending && !n.closed {
		return n.offerLocked()
	}
	return nil
}

// resend serves a resumed client, which may have lost the outstanding offer with its old
// websocket: it repeats that offer (the ICE restart follows once it is answered), or makes a
// fresh ICE-restart offer if the connection was ever negotiated.
func (n *negotiator) resend(iceRestart bool) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return nil
	}
	n.iceRestart = n.iceRestart || iceRestart
	if n.offering {
		if d := n.pc.PendingLocalDescription(); d != nil {
			n.pending = true
			n.send(d.SDP)
		}
		return nil
	}
	if n.pc.RemoteDescription() == nil && !n.pending {
		return nil // never negotiated: nothing to receive yet
	}
	return n.offerLocked()
}

func (n *negotiator) close() {
	n.mu.Lock()
	n.closed = true
	n.mu.Unlock()
}

// count is how many offers this connection has sent.
func (n *negotiator) count() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.offers
}
