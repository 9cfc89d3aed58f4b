package signaling

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"runtime/debug"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"golang.org/x/time/rate"

	"ringside/internal/proto"
)

const (
	writeWait    = 10 * time.Second
	pingInterval = 20 * time.Second
	pongWait     = 45 * time.Second
	// sendQueueLen bounds what may wait for a slow client; a client that lets it fill is closed
	// (and may resume) rather than allowed to hold server memory or drop signaling silently.
	sendQueueLen = 128
)

type connState int

const (
	awaitJoin connState = iota
	joined
	done
)

type closeFrame struct {
	code   int
	reason string
}

// conn is one websocket: one reader goroutine (serve) and one writer goroutine (writeLoop),
// which is the only one that writes to ws.
type conn struct {
	srv     *Server
	ws      *websocket.Conn
	log     *slog.Logger
	limiter *rate.Limiter

	send      chan []byte
	closing   chan struct{}
	closeOnce sync.Once
	finished  chan struct{} // closed when the writer has closed the socket

	mu    sync.Mutex // guards frame
	frame closeFrame

	// owned by the reader goroutine:
	state  connState
	member *member
}

func newConn(srv *Server, ws *websocket.Conn, log *slog.Logger) *conn {
	l := srv.limits
	return &conn{
		srv:      srv,
		ws:       ws,
		log:      log,
		limiter:  rate.NewLimiter(rate.Limit(l.MessagesPerSecond), l.MessageBurst),
		send:     make(chan []byte, sendQueueLen),
		closing:  make(chan struct{}),
		finished: make(chan struct{}),
	}
}

// sendMsg queues a message; it never blocks.
func (c *conn) sendMsg(msg any) {
	data, err := marshal(msg)
	if err != nil {
		c.log.Error("encode message", "err", err)
		return
	}
	c.queueRaw(data)
}

// queueRaw queues an encoded message; it never blocks. A full queue closes the connection.
func (c *conn) queueRaw(data []byte) {
	select {
	case <-c.closing:
	case c.send <- data:
	default:
		c.log.Warn("send queue full; closing connection")
		c.close(websocket.CloseTryAgainLater, errSendQueueFull.Error())
	}
}

func marshal(msg any) ([]byte, error) { return json.Marshal(msg) }

// close asks the writer to flush what is queued, send a close frame and end the socket.
func (c *conn) close(code int, reason string) {
	c.closeOnce.Do(func() {
		if len(reason) > 120 { // a close frame's reason must fit in 123 bytes
			reason = reason[:120]
		}
		c.mu.Lock()
		c.frame = closeFrame{code, reason}
		c.mu.Unlock()
		close(c.closing)
	})
}

// fail reports err to the client; a fatal one closes the connection with the same reason.
func (c *conn) fail(err error) {
	msg := toProto(err)
	if msg.Code == proto.CodeInternal {
		c.log.Error("connection failed", "err", err)
	} else {
		c.log.Info("refused", "code", msg.Code, "err", err)
	}
	c.srv.metrics.wsError(msg.Code)
	c.sendMsg(msg)
	if msg.Fatal {
		code := websocket.ClosePolicyViolation
		switch msg.Code {
		case proto.CodeTooLarge:
			code = websocket.CloseMessageTooBig
		case proto.CodeInternal:
			code = websocket.CloseInternalServerErr
		case proto.CodeShuttingDown:
			code = websocket.CloseGoingAway
		}
		c.close(code, msg.Code+": "+msg.Message)
	}
}

func (c *conn) writeLoop() {
	defer close(c.finished)
	ping := time.NewTicker(pingInterval)
	defer ping.Stop()
	write := func(data []byte) error {
		_ = c.ws.SetWriteDeadline(time.Now().Add(writeWait))
		return c.ws.WriteMessage(websocket.TextMessage, data)
	}
	for {
		select {
		case data := <-c.send:
			if err := write(data); err != nil {
				c.close(websocket.CloseAbnormalClosure, "write failed")
			}
		case <-ping.C:
			if err := c.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(writeWait)); err != nil {
				c.close(websocket.CloseAbnormalClosure, "ping failed")
			}
		case <-c.closing:
			for drained := false; !drained; {
				select {
				case data := <-c.send:
					if write(data) != nil {
						drained = true
					}
				default:
					drained = true
				}
			}
			c.mu.Lock()
			f := c.frame
			c.mu.Unlock()
			_ = c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(f.code, f.reason),
				time.Now().Add(time.Second))
			// Give the client a moment to read the close frame before the socket goes.
			_ = c.ws.SetReadDeadline(time.Now().Add(time.Second))
			_ = c.ws.Close()
			return
		}
	}
}

// serve is the reader goroutine. A panic in a handler ends this connection only.
func (c *conn) serve() {
	defer func() {
		if v := recover(); v != nil {
			c.log.Error("panic in connection handler", "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			c.fail(fmt.Errorf("%w: panic", ErrInternal))
		}
		c.close(websocket.CloseNormalClosure, "")
		c.srv.connDone(c)
		if c.member != nil && c.state != done {
			c.member.detach(c)
		}
	}()
	_ = c.ws.SetReadDeadline(time.Now().Add(pongWait))
	c.ws.SetPongHandler(func(string) error {
		return c.ws.SetReadDeadline(time.Now().Add(pongWait))
	})
	for c.state != done {
		data, err := c.readFrame()
		if err != nil {
			if errors.Is(err, ErrTooLarge) {
				c.fail(err)
			}
			return
		}
		_ = c.ws.SetReadDeadline(time.Now().Add(pongWait))
		if !c.limiter.Allow() {
			c.fail(wrap(ErrRateLimited, "over %.0f messages per second", c.srv.limits.MessagesPerSecond))
			return
		}
		msg, err := proto.Decode(data)
		if err != nil {
			c.fail(err)
			return
		}
		if err := c.dispatch(msg); err != nil {
			c.fail(err)
			if toProto(err).Fatal {
				return
			}
		}
	}
}

// readFrame reads one message, never buffering more than the frame limit plus one byte.
func (c *conn) readFrame() ([]byte, error) {
	for {
		typ, r, err := c.ws.NextReader()
		if err != nil {
			return nil, err
		}
		max := c.srv.limits.MaxFrameBytes
		data, err := io.ReadAll(io.LimitReader(r, max+1))
		if err != nil {
			return nil, err
		}
		if int64(len(data)) > max {
			return nil, wrap(ErrTooLarge, "frame over the %d byte limit", max)
		}
		if typ == websocket.TextMessage || typ == websocket.BinaryMessage {
			return data, nil
		}
	}
}
