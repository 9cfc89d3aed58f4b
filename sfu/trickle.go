package sfu

import (
	"sync"

	"github.com/pion/webrtc/v4"
)

// trickler passes one connection's local ICE candidates to the client. Pion starts gathering
// inside SetLocalDescription, before the SDP has been sent; a browser refuses a candidate that
// arrives before its description, so candidates are held from just before the description is
// set until it has been handed to Events.
type trickler struct {
	conn   Conn
	events Events

	mu      sync.Mutex // guards the following fields and orders what is sent
	holding bool
	held    []*webrtc.ICECandidateInit
}

func (t *trickler) candidate(c *webrtc.ICECandidate) {
	var init *webrtc.ICECandidateInit
	if c != nil {
		j := c.ToJSON()
		init = &j
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.holding {
		t.held = append(t.held, init)
		return
	}
	t.events.Candidate(t.conn, init)
}

func (t *trickler) hold() {
	t.mu.Lock()
	t.holding = true
	t.mu.Unlock()
}

// release sends the held candidates, in order, and stops holding.
func (t *trickler) release() {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, c := range t.held {
		t.events.Candidate(t.conn, c)
	}
	t.held = nil
	t.holding = false
}
