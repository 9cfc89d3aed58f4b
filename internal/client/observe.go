package client

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/pion/webrtc/v4"

	"ringside/internal/proto"
)

// pollInterval bounds how stale a WaitFor condition on media counters can be; signaling
// changes wake it at once.
const pollInterval = 20 * time.Millisecond

// WaitFor returns when cond(c) holds, or ctx's error. cond is called without the client's
// locks held, so it may call any accessor.
func (c *Client) WaitFor(ctx context.Context, cond func(*Client) bool) error {
	ticker := time.NewTicker(pollInterval)
	defer ticker.Stop()
	for {
		c.mu.Lock()
		changed := c.changed
		c.mu.Unlock()
		if cond(c) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("client: wait: %w", ctx.Err())
		case <-changed:
		case <-ticker.C:
		}
	}
}

// WaitRoster waits until cond holds for the roster and returns that roster.
func (c *Client) WaitRoster(ctx context.Context, cond func([]proto.Member) bool) ([]proto.Member, error) {
	var roster []proto.Member
	err := c.WaitFor(ctx, func(c *Client) bool {
		roster = c.Roster()
		return cond(roster)
	})
	return roster, err
}

// Frames is every frame received, over every websocket, in order. The frames must not be
// modified.
func (c *Client) Frames() [][]byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.frames)
}

// Welcome is the latest welcome, and false before the first.
func (c *Client) Welcome() (proto.Welcome, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.welcome == nil {
		return proto.Welcome{}, false
	}
	return *c.welcome, true
}

// ID is the participant id from the welcome; empty before it.
func (c *Client) ID() string {
	w, _ := c.Welcome()
	return w.You.ID
}

// Roster is the latest roster (the others, as the server lets this participant see them).
func (c *Client) Roster() []proto.Member {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.roster)
}

// Mode is the latest mode message, and false before any.
func (c *Client) Mode() (proto.Mode, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.mode == nil {
		return proto.Mode{}, false
	}
	return *c.mode, true
}

// Marks is every marked message, in order.
func (c *Client) Marks() []proto.Marked {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.marks)
}

// Recording is the latest recording message, and false before any.
func (c *Client) Recording() (proto.Recording, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.recording == nil {
		return proto.Recording{}, false
	}
	return *c.recording, true
}

// Errors is every error message received, in order.
func (c *Client) Errors() []proto.Error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.errs)
}

// Ended is the reason of the ended message, and false before one.
func (c *Client) Ended() (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ended, c.ended != ""
}

// Failures is every error the client met handling the server's messages (malformed or
// unexpected messages, SDP or candidates Pion refused), in order. A correct server causes none.
func (c *Client) Failures() []error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.failures)
}

// Connected reports whether a websocket is up.
func (c *Client) Connected() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.conn != nil
}

// Disconnected is closed when the current websocket ends (at once when there is none).
func (c *Client) Disconnected() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.conn == nil {
		done := make(chan struct{})
		close(done)
		return done
	}
	return c.conn.done
}

// CloseStatus is how the last websocket ended: the close code and text the server sent, or
// 1006 (abnormal closure) and the read error when it sent none; 0 while none has ended.
func (c *Client) CloseStatus() (code int, text string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closeCode, c.closeText
}

// Tracks is a snapshot of the counters of every track received.
func (c *Client) Tracks() map[TrackKey]TrackStats {
	c.mu.Lock()
	all := make([]*trackStats, 0, len(c.tracks))
	keys := make([]TrackKey, 0, len(c.tracks))
	for k, ts := range c.tracks {
		keys, all = append(keys, k), append(all, ts)
	}
	c.mu.Unlock()
	out := make(map[TrackKey]TrackStats, len(all))
	for i, ts := range all {
		out[keys[i]] = ts.snapshot()
	}
	return out
}

// Track is a snapshot of the counters of the track the participant streamID publishes of
// kind, and false if none arrived.
func (c *Client) Track(streamID string, kind webrtc.RTPCodecType) (TrackStats, bool) {
	c.mu.Lock()
	ts := c.tracks[TrackKey{StreamID: streamID, Kind: kind}]
	c.mu.Unlock()
	if ts == nil {
		return TrackStats{}, false
	}
	return ts.snapshot(), true
}

// SenderRTCP counts the RTCP the server sent about the published track of kind (PLI, NACK,
// receiver reports…).
func (c *Client) SenderRTCP(kind webrtc.RTPCodecType) RTCPStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	if r := c.sendRTCP[kind]; r != nil {
		return r.clone()
	}
	return RTCPStats{}
}
