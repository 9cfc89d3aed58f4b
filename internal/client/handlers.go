package client

import (
	"encoding/json"
	"fmt"

	"ringside/internal/proto"
)

// handleFrame records one frame and hands it to the handler of its type. It runs on the
// connection's reader goroutine, so the server's messages are handled one at a time, in order.
func (c *Client) handleFrame(cn *conn, frame []byte) {
	c.mu.Lock()
	c.frames = append(c.frames, frame)
	c.changedLocked()
	c.mu.Unlock()

	var env proto.Envelope
	if err := json.Unmarshal(frame, &env); err != nil {
		c.fail(fmt.Errorf("%w: frame is not a message: %v", ErrProtocol, err))
		return
	}
	var err error
	switch env.Type {
	case proto.TypeWelcome:
		err = c.onWelcome(cn, frame)
	case proto.TypeRoster:
		err = c.onRoster(frame)
	case proto.TypeOffer:
		err = c.onOffer(frame)
	case proto.TypeAnswer:
		err = c.onAnswer(frame)
	case proto.TypeCandidate:
		err = c.onCandidate(frame)
	case proto.TypeMode:
		err = c.onMode(frame)
	case proto.TypeMarked:
		err = c.onMarked(frame)
	case proto.TypeRecording:
		err = c.onRecording(frame)
	case proto.TypeError:
		err = c.onError(cn, frame)
	case proto.TypeEnded:
		err = c.onEnded(frame)
	default:
		c.logger().Debug("ignoring unknown message", "type", env.Type)
	}
	if err != nil {
		c.fail(err)
	}
}

func decode[T any](frame []byte) (*T, error) {
	msg := new(T)
	if err := json.Unmarshal(frame, msg); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrProtocol, err)
	}
	return msg, nil
}

// onWelcome accepts the join. On the first welcome it builds the PeerConnections and offers
// up; on a resume it restarts ICE on up (the server restarts down with its next offer).
func (c *Client) onWelcome(cn *conn, frame []byte) error {
	w, err := decode[proto.Welcome](frame)
	if err != nil {
		cn.settle(err)
		return err
	}
	c.mu.Lock()
	first := c.welcome == nil
	if !first && !w.Resumed {
		c.mu.Unlock()
		cn.settle(ErrNotResumed)
		return nil
	}
	up, down := c.up, c.down
	c.welcome = w
	if first {
		c.log.Store(c.cfg.Logger.With("participant", w.You.ID, "session", w.Session.ID))
	}
	c.changedLocked()
	c.mu.Unlock()

	if up == nil && down == nil {
		if up, down, err = c.newPeers(w.ICEServers); err != nil {
			cn.settle(err)
			return err
		}
	}
	cn.settle(nil)
	if up == nil {
		return nil
	}
	if first {
		return up.offer(false)
	}
	return up.restart()
}

func (c *Client) onRoster(frame []byte) error {
	r, err := decode[proto.Roster](frame)
	if err != nil {
		return err
	}
	c.mu.Lock()
	c.roster = r.Members
	c.changedLocked()
	c.mu.Unlock()
	return nil
}

func (c *Client) onOffer(frame []byte) error {
	s, err := decode[proto.SDP](frame)
	if err != nil {
		return err
	}
	if s.PC != proto.PCDown {
		return fmt.Errorf("%w: offer for pc %q", ErrProtocol, s.PC)
	}
	down := c.peer(proto.PCDown)
	if down == nil {
		return fmt.Errorf("%w: offer before welcome", ErrProtocol)
	}
	return down.acceptOffer(s.SDP)
}

func (c *Client) onAnswer(frame []byte) error {
	s, err := decode[proto.SDP](frame)
	if err != nil {
		return err
	}
	if s.PC != proto.PCUp {
		return fmt.Errorf("%w: answer for pc %q", ErrProtocol, s.PC)
	}
	up := c.peer(proto.PCUp)
	if up == nil {
		return fmt.Errorf("%w: answer without an up connection", ErrProtocol)
	}
	return up.acceptAnswer(s.SDP)
}

func (c *Client) onCandidate(frame []byte) error {
	m, err := decode[proto.Candidate](frame)
	if err != nil {
		return err
	}
	p := c.peer(m.PC)
	if p == nil {
		return fmt.Errorf("%w: candidate for pc %q, which does not exist", ErrProtocol, m.PC)
	}
	return p.addRemoteCandidate(m.Candidate)
}

func (c *Client) onMode(frame []byte) error {
	m, err := decode[proto.Mode](frame)
	if err != nil {
		return err
	}
	c.mu.Lock()
	c.mode = m
	c.changedLocked()
	c.mu.Unlock()
	return nil
}

func (c *Client) onMarked(frame []byte) error {
	m, err := decode[proto.Marked](frame)
	if err != nil {
		return err
	}
	c.mu.Lock()
	c.marks = append(c.marks, *m)
	c.changedLocked()
	c.mu.Unlock()
	return nil
}

func (c *Client) onRecording(frame []byte) error {
	r, err := decode[proto.Recording](frame)
	if err != nil {
		return err
	}
	c.mu.Lock()
	c.recording = r
	c.changedLocked()
	c.mu.Unlock()
	return nil
}

// onError records the error; before the welcome it is the join's refusal.
func (c *Client) onError(cn *conn, frame []byte) error {
	e, err := decode[proto.Error](frame)
	if err != nil {
		return err
	}
	c.mu.Lock()
	c.errs = append(c.errs, *e)
	c.changedLocked()
	c.mu.Unlock()
	cn.settle(&ServerError{Code: e.Code, Message: e.Message, Fatal: e.Fatal})
	return nil
}

func (c *Client) onEnded(frame []byte) error {
	e, err := decode[proto.Ended](frame)
	if err != nil {
		return err
	}
	c.mu.Lock()
	c.ended = e.Reason
	c.changedLocked()
	c.mu.Unlock()
	return nil
}
