// Package client is the Go client of Ringside's websocket protocol (docs/protocol.md): it
// joins a session, publishes on an up PeerConnection, answers the server's down offers,
// trickles candidates, resumes after a dropped websocket, and records everything it receives
// for tests and the load generator to inspect. It owns no media source (internal/media feeds
// its tracks) and must not know of the server's internals: it speaks only the protocol.
package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/gorilla/websocket"
	"github.com/pion/webrtc/v4"

	"ringside/internal/proto"
)

// Local track and stream ids of the up connection; the server names forwarded tracks itself.
const (
	localStreamID = "ringside"
	audioTrackID  = "audio"
	videoTrackID  = "video"
)

// Client is one participant's connection to a Ringside server. All its methods are safe for
// concurrent use.
type Client struct {
	cfg   Config                      // immutable after Dial
	log   atomic.Pointer[slog.Logger] // Config.Logger, with the participant id once welcomed
	api   *webrtc.API
	audio *webrtc.TrackLocalStaticSample // nil unless published; immutable
	video *webrtc.TrackLocalStaticSample // nil unless published; immutable

	wg sync.WaitGroup // every goroutine the client starts; Close waits for them

	mu        sync.Mutex // guards the following fields
	closed    bool
	conn      *conn // the live websocket; nil while cut
	up        *peer // nil until the first welcome, and when publishing nothing
	down      *peer // nil until the first welcome
	welcome   *proto.Welcome
	frames    [][]byte
	roster    []proto.Member
	mode      *proto.Mode
	marks     []proto.Marked
	recording *proto.Recording
	errs      []proto.Error
	ended     string
	failures  []error
	closeCode int
	closeText string
	tracks    map[TrackKey]*trackStats
	// rtcpReaders holds the down receivers whose RTCP is being read, one reader each.
	rtcpReaders map[*webrtc.RTPReceiver]struct{}
	sendRTCP    map[webrtc.RTPCodecType]*RTCPStats
	changed     chan struct{} // closed and replaced on every change; see WaitFor
}

// Dial connects to the server, joins with cfg.Token and waits for the welcome. It then
// negotiates the PeerConnections in the background; use WaitFor to wait for media. ctx bounds
// the dial and the join only. A refused join returns a *ServerError.
func Dial(ctx context.Context, cfg Config) (*Client, error) {
	c, err := newClient(cfg)
	if err != nil {
		return nil, err
	}
	if err := c.connect(ctx, cfg.Resume); err != nil {
		_ = c.Close()
		return nil, err
	}
	return c, nil
}

func newClient(cfg Config) (*Client, error) {
	if cfg.SendQueue <= 0 {
		cfg.SendQueue = DefaultSendQueue
	}
	if cfg.Dialer == nil {
		cfg.Dialer = &websocket.Dialer{HandshakeTimeout: DefaultHandshakeTimeout}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	c := &Client{
		cfg:         cfg,
		api:         cfg.API,
		tracks:      make(map[TrackKey]*trackStats),
		rtcpReaders: make(map[*webrtc.RTPReceiver]struct{}),
		sendRTCP:    make(map[webrtc.RTPCodecType]*RTCPStats),
		changed:     make(chan struct{}),
	}
	c.log.Store(cfg.Logger)
	if c.api == nil {
		api, err := NewAPI()
		if err != nil {
			return nil, fmt.Errorf("client: %w", err)
		}
		c.api = api
	}
	var err error
	if cfg.Publish.Has(Audio) {
		if c.audio, err = webrtc.NewTrackLocalStaticSample(opusCapability(), audioTrackID, localStreamID); err != nil {
			return nil, fmt.Errorf("client: %w", err)
		}
	}
	if cfg.Publish.Has(Video) {
		if c.video, err = webrtc.NewTrackLocalStaticSample(vp8Capability(), videoTrackID, localStreamID); err != nil {
			return nil, fmt.Errorf("client: %w", err)
		}
	}
	return c, nil
}

// connect opens a websocket, sends join and waits for the welcome.
func (c *Client) connect(ctx context.Context, resume string) error {
	ws, _, err := c.cfg.Dialer.DialContext(ctx, c.cfg.URL, c.cfg.Header)
	if err != nil {
		return fmt.Errorf("client: dial %s: %w", c.cfg.URL, err)
	}
	cn := newConn(ws, c.cfg.SendQueue)
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		_ = ws.Close()
		return ErrClosed
	}
	c.conn = cn
	c.wg.Add(2)
	c.changedLocked()
	c.mu.Unlock()
	go c.readLoop(cn)
	go c.writeLoop(cn)

	join := proto.Join{Type: proto.TypeJoin, Version: proto.Version, Token: c.cfg.Token, Resume: resume}
	if err := c.sendOn(cn, join); err != nil {
		cn.cut()
		return err
	}
	select {
	case err := <-cn.ready:
		if err != nil {
			cn.shutdown()
		}
		return err
	case <-ctx.Done():
		cn.cut()
		return fmt.Errorf("client: waiting for welcome: %w", ctx.Err())
	}
}

// Close leaves nothing behind: it closes the websocket (gracefully, after the queued frames),
// both PeerConnections, and waits for every goroutine of the client. It does not send leave.
func (c *Client) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	cn, up, down := c.conn, c.up, c.down
	c.changedLocked()
	c.mu.Unlock()

	if cn != nil {
		cn.shutdown()
	}
	var errs []error
	for _, p := range []*peer{up, down} {
		if p != nil {
			errs = append(errs, p.pc.GracefulClose())
		}
	}
	c.wg.Wait()
	return errors.Join(errs...)
}

// AudioTrack is the published audio track (Opus), for the caller to feed; nil unless
// Config.Publish has Audio.
func (c *Client) AudioTrack() *webrtc.TrackLocalStaticSample { return c.audio }

// VideoTrack is the published video track (VP8), for the caller to feed; nil unless
// Config.Publish has Video.
func (c *Client) VideoTrack() *webrtc.TrackLocalStaticSample { return c.video }

// SetMode asks for a coach mode; target matters for whisper only.
func (c *Client) SetMode(mode, target string) error {
	return c.send(proto.Mode{Type: proto.TypeMode, Mode: mode, Target: target})
}

// Mark stores a live marker (coaches only).
func (c *Client) Mark(note string) error {
	return c.send(proto.Mark{Type: proto.TypeMark, Note: note})
}

// Mute reports which kinds are published unmuted. It only tells the server; the caller stops
// feeding the tracks.
func (c *Client) Mute(audio, video bool) error {
	return c.send(proto.Mute{Type: proto.TypeMute, Audio: audio, Video: video})
}

// Leave ends the participation for good; the server answers ended {reason: "left"} and
// closes the websocket. Close the client afterwards.
func (c *Client) Leave() error {
	return c.send(proto.Leave{Type: proto.TypeLeave})
}

// SendRaw sends frame as is, for tests of bad input.
func (c *Client) SendRaw(frame []byte) error {
	cn, err := c.liveConn()
	if err != nil {
		return err
	}
	return cn.send(frame)
}

// send encodes msg and queues it on the live websocket.
func (c *Client) send(msg any) error {
	cn, err := c.liveConn()
	if err != nil {
		return err
	}
	return c.sendOn(cn, msg)
}

func (c *Client) sendOn(cn *conn, msg any) error {
	frame, err := json.Marshal(msg)
	if err != nil {
		return fmt.Errorf("client: encode: %w", err)
	}
	return cn.send(frame)
}

func (c *Client) liveConn() (*conn, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.closed:
		return nil, ErrClosed
	case c.conn == nil:
		return nil, ErrNotConnected
	}
	return c.conn, nil
}

// fail records an error met handling the server's messages or media.
func (c *Client) fail(err error) {
	c.logger().Warn("client failure", "err", err)
	c.mu.Lock()
	c.failures = append(c.failures, err)
	c.changedLocked()
	c.mu.Unlock()
}

func (c *Client) logger() *slog.Logger { return c.log.Load() }

// notify wakes every WaitFor.
func (c *Client) notify() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.changedLocked()
}

// changedLocked wakes every WaitFor.
func (c *Client) changedLocked() {
	close(c.changed)
	c.changed = make(chan struct{})
}
