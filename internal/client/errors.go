package client

import (
	"errors"
	"fmt"
)

var (
	// ErrClosed is returned by calls on a closed client.
	ErrClosed = errors.New("client: closed")
	// ErrNotConnected is returned by sends while the websocket is down.
	ErrNotConnected = errors.New("client: websocket not connected")
	// ErrQueueFull is returned by sends when the bounded send queue is full; the message is
	// dropped.
	ErrQueueFull = errors.New("client: send queue full")
	// ErrDisconnected is returned by Dial and Resume when the websocket ends before a welcome.
	ErrDisconnected = errors.New("client: websocket closed before welcome")
	// ErrNotResumed is returned by Resume when the server welcomes a new participant instead of
	// resuming this one.
	ErrNotResumed = errors.New("client: server did not resume the participant")
	// ErrNoResume is returned by Resume before any welcome has given a resume secret.
	ErrNoResume = errors.New("client: no resume secret")
	// ErrProtocol marks a server message this client cannot accept (see Client.Failures).
	ErrProtocol = errors.New("client: protocol violation by server")
)

// ServerError is an error message from the server that refused a join or resume.
type ServerError struct {
	Code    string // one of the proto.Code… constants
	Message string
	Fatal   bool
}

func (e *ServerError) Error() string {
	return fmt.Sprintf("client: server error %s: %s", e.Code, e.Message)
}
