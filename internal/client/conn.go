package client

import (
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

const (
	// maxFrame bounds a frame read from the server.
	maxFrame = 1 << 20
	// readTimeout drops a websocket on which nothing, not even a ping, came for this long; the
	// server pings every 20 s.
	readTimeout = 60 * time.Second
	// writeTimeout bounds one frame's write.
	writeTimeout = 10 * time.Second
	// closeTimeout bounds the close frame sent by a graceful shutdown.
	closeTimeout = time.Second
)

// conn is one websocket to the server, with its reader and writer goroutines. A client has
// one at a time; Resume replaces it.
type conn struct {
	ws    *websocket.Conn
	out   chan []byte   // frames for the writer; bounded, sends never block
	stop  chan struct{} // closed to end the writer: it flushes out, says goodbye, closes
	done  chan struct{} // closed when the reader returns: the connection is over
	ready chan error    // buffered 1: the join's outcome, nil on welcome

	stopOnce   sync.Once
	settleOnce sync.Once

	// closeCode and closeText are how the connection ended; owned by the reader until done is
	// closed, immutable after.
	closeCode int
	closeText string
}

func newConn(ws *websocket.Conn, queue int) *conn {
	return &conn{
		ws:    ws,
		out:   make(chan []byte, queue),
		stop:  make(chan struct{}),
		done:  make(chan struct{}),
		ready: make(chan error, 1),
	}
}

// send queues one frame for the writer, dropping it if the queue is full.
func (cn *conn) send(frame []byte) error {
	select {
	case <-cn.done:
		return ErrNotConnected
	case <-cn.stop:
		return ErrNotConnected
	default:
	}
	select {
	case cn.out <- frame:
		return nil
	default:
		return ErrQueueFull
	}
}

// settle reports the join's outcome to whoever waits for it; the first outcome wins.
func (cn *conn) settle(err error) {
	cn.settleOnce.Do(func() { cn.ready <- err })
}

// shutdown ends the connection gracefully: queued frames go out, then a close frame.
func (cn *conn) shutdown() {
	cn.stopOnce.Do(func() { close(cn.stop) })
}

// cut drops the connection at once, without a close frame, as a network failure would.
func (cn *conn) cut() {
	cn.shutdown()
	_ = cn.ws.Close()
}

// readLoop reads frames until the websocket ends and hands each to the client.
func (c *Client) readLoop(cn *conn) {
	defer c.wg.Done()
	cn.ws.SetReadLimit(maxFrame)
	_ = cn.ws.SetReadDeadline(time.Now().Add(readTimeout))
	cn.ws.SetPingHandler(func(data string) error {
		_ = cn.ws.SetReadDeadline(time.Now().Add(readTimeout))
		err := cn.ws.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(writeTimeout))
		var ne net.Error
		if errors.Is(err, websocket.ErrCloseSent) || errors.As(err, &ne) && ne.Timeout() {
			return nil
		}
		return err
	})
	var err error
	for {
		var (
			kind  int
			frame []byte
		)
		kind, frame, err = cn.ws.ReadMessage()
		if err != nil {
			break
		}
		_ = cn.ws.SetReadDeadline(time.Now().Add(readTimeout))
		if kind != websocket.TextMessage {
			c.fail(fmt.Errorf("%w: binary frame", ErrProtocol))
			continue
		}
		c.handleFrame(cn, frame)
	}
	c.connEnded(cn, err)
}

// connEnded records how cn ended and stops its writer.
func (c *Client) connEnded(cn *conn, err error) {
	var ce *websocket.CloseError
	if errors.As(err, &ce) {
		cn.closeCode, cn.closeText = ce.Code, ce.Text
	} else {
		cn.closeCode, cn.closeText = websocket.CloseAbnormalClosure, err.Error()
	}
	c.logger().Debug("websocket ended", "code", cn.closeCode, "text", cn.closeText)
	cn.cut()
	cn.settle(fmt.Errorf("%w: close %d %q", ErrDisconnected, cn.closeCode, cn.closeText))
	close(cn.done)

	c.mu.Lock()
	if c.conn == cn {
		c.conn = nil
	}
	c.closeCode, c.closeText = cn.closeCode, cn.closeText
	c.changedLocked()
	c.mu.Unlock()
}

// writeLoop writes queued frames until stopped or a write fails.
func (c *Client) writeLoop(cn *conn) {
	defer c.wg.Done()
	defer cn.ws.Close()
	for {
		select {
		case frame := <-cn.out:
			if err := cn.write(frame); err != nil {
				c.logger().Debug("websocket write failed", "err", err)
				return
			}
		case <-cn.stop:
			for {
				select {
				case frame := <-cn.out:
					if cn.write(frame) != nil {
						return
					}
				default:
					_ = cn.ws.WriteControl(websocket.CloseMessage,
						websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""),
						time.Now().Add(closeTimeout))
					return
				}
			}
		}
	}
}

func (cn *conn) write(frame []byte) error {
	if err := cn.ws.SetWriteDeadline(time.Now().Add(writeTimeout)); err != nil {
		return err
	}
	return cn.ws.WriteMessage(websocket.TextMessage, frame)
}
