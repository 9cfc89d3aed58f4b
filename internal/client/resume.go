package client

import (
	"context"
)

// CutWebsocket drops the websocket without a close frame, as a network failure would, and
// returns once its goroutines are done. The PeerConnections stay up. It is a test hook; Resume
// reconnects.
func (c *Client) CutWebsocket() {
	c.mu.Lock()
	cn := c.conn
	c.mu.Unlock()
	if cn == nil {
		return
	}
	cn.cut()
	<-cn.done
}

// Resume opens a new websocket and joins with the latest welcome's resume secret, dropping
// the current websocket first if there is one. On the welcome (resumed: true) it restarts ICE
// on up; the server restarts down with its offer. A refused resume returns a *ServerError
// (resume_failed: the participant is gone; dial afresh).
func (c *Client) Resume(ctx context.Context) error {
	w, ok := c.Welcome()
	if !ok || w.Resume == "" {
		return ErrNoResume
	}
	c.CutWebsocket()
	return c.connect(ctx, w.Resume)
}
