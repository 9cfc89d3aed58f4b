package signaling

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/pion/webrtc/v4"

	"ringside/internal/proto"
	"ringside/internal/store"
	"ringside/sfu"
)

// storeTimeout bounds one store call made while handling a message.
const storeTimeout = 5 * time.Second

// maxTokenLen bounds an invite token before it is hashed; real ones are 43 characters.
const maxTokenLen = 128

// dispatch hands a decoded message to its handler, after the checks every message shares.
func (c *conn) dispatch(msg any) error {
	if _, isJoin := msg.(*proto.Join); !isJoin && c.state != joined {
		return wrap(ErrBadState, "join first")
	}
	if typ, _ := c.srv.panicOn.Load().(string); typ != "" && typ == typeOf(msg) {
		panic("test panic in " + typ)
	}
	switch m := msg.(type) {
	case *proto.Join:
		return c.handleJoin(m)
	case *proto.SDP:
		if m.Type == proto.TypeOffer {
			return c.handleOffer(m)
		}
		return c.handleAnswer(m)
	case *proto.Candidate:
		return c.handleCandidate(m)
	case *proto.Mode:
		return c.handleMode(m)
	case *proto.Mark:
		return c.handleMark(m)
	case *proto.Mute:
		return c.handleMute(m)
	case *proto.Leave:
		return c.handleLeave()
	}
	return wrap(proto.ErrUnknownType, "%T", msg)
}

func typeOf(msg any) string {
	switch m := msg.(type) {
	case *proto.Join:
		return m.Type
	case *proto.SDP:
		return m.Type
	case *proto.Candidate:
		return m.Type
	case *proto.Mode:
		return m.Type
	case *proto.Mark:
		return m.Type
	case *proto.Mute:
		return m.Type
	case *proto.Leave:
		return m.Type
	}
	return ""
}

func storeCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), storeTimeout)
}

// admit checks an invite token: it must be known, unexpired, and of a session still open.
func (s *Server) admit(token string) (store.Invite, store.Session, error) {
	if token == "" || len(token) > maxTokenLen {
		return store.Invite{}, store.Session{}, wrap(ErrBadToken, "malformed token")
	}
	ctx, cancel := storeCtx()
	defer cancel()
	inv, err := s.store.InviteByTokenHash(ctx, store.HashToken(token))
	if errors.Is(err, store.ErrNotFound) {
		return inv, store.Session{}, wrap(ErrBadToken, "unknown invite")
	} else if err != nil {
		return inv, store.Session{}, wrap(ErrInternal, "invite lookup: %v", err)
	}
	if !time.Now().Before(inv.ExpiresAt) {
		return inv, store.Session{}, wrap(ErrTokenExpired, "expired at %s", inv.ExpiresAt.UTC().Format(time.RFC3339))
	}
	sess, err := s.store.Session(ctx, inv.SessionID)
	if err != nil {
		return inv, sess, wrap(ErrInternal, "session lookup: %v", err)
	}
	if sess.State == store.SessionEnded || sess.State == store.SessionInterrupted {
		return inv, sess, wrap(ErrSessionEnded, "session %s is %s", sess.ID, sess.State)
	}
	return inv, sess, nil
}

func (c *conn) handleJoin(m *proto.Join) error {
	if c.state != awaitJoin {
		return wrap(ErrBadState, "already joined")
	}
	if m.Version != proto.Version {
		return wrap(ErrBadVersion, "this server speaks v%d", proto.Version)
	}
	start := time.Now()
	inv, sess, err := c.srv.admit(m.Token)
	if err != nil {
		return err
	}
	if m.Resume != "" {
		return c.resume(inv, m.Resume)
	}
	lr, err := c.srv.room(sess)
	if err != nil {
		return err
	}
	mem := &member{
		room:   lr,
		id:     sfu.ParticipantID(uuid.NewString()),
		invite: inv,
		name:   inv.Name,
		resume: newSecret(),
	}
	mem.log = lr.log.With("participant", string(mem.id), "role", inv.Role)
	if mem.name == "" {
		mem.name = defaultName(inv.Role)
	}
	mem.attach(c)
	replaced, err := lr.add(mem)
	if errors.Is(err, ErrSessionEnded) {
		// The room closed as its last member left, just before this join: open it again.
		if lr, err = c.srv.room(sess); err != nil {
			return err
		}
		mem.room = lr
		mem.log = lr.log.With("participant", string(mem.id), "role", inv.Role)
		replaced, err = lr.add(mem)
	}
	if err != nil {
		return err
	}
	if replaced != nil {
		replaced.log.Info("invite used again; the earlier participant is replaced")
		lr.remove(replaced, proto.EndedReplaced)
	}
	part, err := lr.room.Join(sfu.JoinParams{
		ID: mem.id, Role: mem.sfuRole(), Name: mem.name, Events: mem, Logger: mem.log,
	})
	if err != nil {
		mem.attach(nil) // c stays open to carry the refusal
		lr.remove(mem, "")
		return err
	}
	mem.part = part
	ctx, cancel := storeCtx()
	defer cancel()
	now := time.Now()
	if err := c.srv.store.MarkSessionLive(ctx, sess.ID, now); err != nil {
		mem.log.Warn("store session live", "err", err)
	}
	if err := c.srv.store.AddParticipant(ctx, store.Participant{
		ID: string(mem.id), SessionID: sess.ID, InviteID: inv.ID, Role: inv.Role, Name: mem.name, JoinedAt: now,
	}); err != nil {
		mem.log.Warn("store participant", "err", err)
	}
	c.member, c.state = mem, joined
	c.log = mem.log
	c.srv.metrics.participantJoined(inv.Role)
	mem.log.Info("joined")
	c.welcome(mem, false)
	c.srv.metrics.joins.Observe(time.Since(start).Seconds())
	if obs := c.srv.observer; obs != nil && sess.State == store.SessionCreated {
		obs.SessionStarted(sess.ID, now)
	}
	lr.coachAction(mem, ActionMonitor, "")
	return nil
}

// resume attaches c to the member that holds inv, if the secret matches and it is not gone.
func (c *conn) resume(inv store.Invite, secret string) error {
	lr := c.srv.liveRoom(inv.SessionID)
	if lr == nil {
		return wrap(ErrResumeFailed, "session has nobody to resume")
	}
	mem := lr.memberByInvite(inv.ID)
	if mem == nil || mem.isGone() || subtle.ConstantTimeCompare([]byte(mem.resume), []byte(secret)) != 1 {
		return wrap(ErrResumeFailed, "no participant to resume with this secret")
	}
	if old := mem.attach(c); old != nil {
		old.sendMsg(proto.Ended{Type: proto.TypeEnded, Reason: proto.EndedReplaced})
		old.close(1000, proto.EndedReplaced)
	}
	c.member, c.state = mem, joined
	c.log = mem.log
	mem.log.Info("resumed")
	c.welcome(mem, true)
	if err := mem.part.Resume(); err != nil {
		mem.log.Warn("resume renegotiation", "err", err)
	}
	return nil
}

func (c *conn) welcome(mem *member, resumed bool) {
	seat := mem.part.Seat()
	you := proto.Self{ID: string(mem.id), Role: mem.invite.Role, Name: mem.name}
	if seat.Role == sfu.RoleCoach {
		you.Mode, you.Target = string(seat.Mode), string(seat.Target)
	}
	ice := []proto.ICEServer{}
	if c.srv.ice != nil {
		ice = append(ice, c.srv.ice(string(mem.id))...)
	}
	c.sendMsg(proto.Welcome{
		Type:       proto.TypeWelcome,
		Version:    proto.Version,
		Session:    proto.SessionInfo{ID: mem.room.session.ID, Title: mem.room.session.Title},
		You:        you,
		Resume:     mem.resume,
		Resumed:    resumed,
		ICEServers: ice,
		Recording:  mem.room.recording(),
	})
	mem.markReady(c)
}

func (c *conn) handleOffer(m *proto.SDP) error {
	if m.PC != proto.PCUp {
		return wrap(ErrBadState, "the server offers the down connection; answer it instead")
	}
	if err := c.srv.limits.checkSDP(m.SDP); err != nil {
		return err
	}
	return c.member.part.HandleOffer(sfu.ConnUp, m.SDP)
}

func (c *conn) handleAnswer(m *proto.SDP) error {
	if m.PC != proto.PCDown {
		return wrap(ErrBadState, "the client offers the up connection; the server answers it")
	}
	if err := c.srv.limits.checkSDP(m.SDP); err != nil {
		return err
	}
	return c.member.part.HandleAnswer(sfu.ConnDown, m.SDP)
}

func (c *conn) handleCandidate(m *proto.Candidate) error {
	if m.Candidate == nil || m.Candidate.Candidate == "" {
		return nil // end of candidates: nothing to do with Pion's agent
	}
	if len(m.Candidate.Candidate) > 512 {
		return wrap(ErrBadCandidate, "candidate too long")
	}
	err := c.member.part.AddCandidate(sfu.Conn(m.PC), webrtc.ICECandidateInit{
		Candidate:        m.Candidate.Candidate,
		SDPMid:           m.Candidate.SDPMid,
		SDPMLineIndex:    m.Candidate.SDPMLineIndex,
		UsernameFragment: m.Candidate.UsernameFragment,
	})
	if err != nil {
		return wrap(ErrBadCandidate, "%v", err)
	}
	return nil
}

func (c *conn) handleMode(m *proto.Mode) error {
	mem := c.member
	if mem.sfuRole() != sfu.RoleCoach {
		return wrap(sfu.ErrForbidden, "only a coach can change mode")
	}
	seat, err := mem.room.room.SetMode(mem.id, sfu.Mode(m.Mode), sfu.ParticipantID(m.Target))
	if err != nil {
		return err
	}
	now := time.Now()
	ctx, cancel := storeCtx()
	defer cancel()
	if err := c.srv.store.AddModeChange(ctx, store.ModeChange{
		SessionID: mem.room.session.ID, ParticipantID: string(mem.id), Mode: string(seat.Mode),
		Target: string(seat.Target), At: now, OffsetMs: mem.room.offsetMs(now),
	}); err != nil {
		mem.log.Warn("store mode change", "err", err)
	}
	if rec := mem.room.rec; rec != nil {
		rec.ModeChange(string(mem.id), string(seat.Mode), string(seat.Target), now)
	}
	mem.room.coachAction(mem, modeAction(string(seat.Mode)), string(seat.Target))
	mem.log.Info("mode", "mode", string(seat.Mode), "target", string(seat.Target))
	c.sendMsg(proto.Mode{Type: proto.TypeMode, Mode: string(seat.Mode), Target: string(seat.Target)})
	return nil
}

func (c *conn) handleMark(m *proto.Mark) error {
	mem := c.member
	if mem.sfuRole() != sfu.RoleCoach {
		return wrap(sfu.ErrForbidden, "only a coach can set markers")
	}
	if utf8.RuneCountInString(m.Note) > maxNoteRunes || !utf8.ValidString(m.Note) {
		return wrap(proto.ErrMalformed, "note over %d characters", maxNoteRunes)
	}
	lr := mem.room
	lr.mu.Lock()
	if lr.marks >= maxMarksPerSession {
		lr.mu.Unlock()
		return wrap(ErrTooManyMarks, "%d markers", maxMarksPerSession)
	}
	lr.marks++
	lr.mu.Unlock()
	now := time.Now()
	mk := store.Marker{
		ID: uuid.NewString(), SessionID: lr.session.ID, ParticipantID: string(mem.id),
		Note: m.Note, At: now, OffsetMs: lr.offsetMs(now),
	}
	ctx, cancel := storeCtx()
	defer cancel()
	if err := c.srv.store.AddMarker(ctx, mk); err != nil {
		return wrap(ErrInternal, "store marker: %v", err)
	}
	if lr.rec != nil {
		lr.rec.Marker(mk.ID, mk.ParticipantID, mk.Note, now)
	}
	c.sendMsg(proto.Marked{Type: proto.TypeMarked, ID: mk.ID, AtMs: mk.OffsetMs, Note: mk.Note})
	return nil
}

func (c *conn) handleMute(m *proto.Mute) error {
	c.member.room.room.SetMute(c.member.id, m.Audio, m.Video)
	return nil
}

func (c *conn) handleLeave() error {
	mem := c.member
	c.state = done
	mem.log.Info("left")
	mem.room.remove(mem, proto.EndedLeft)
	return nil
}

func newSecret() string {
	b := make([]byte, 18)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return base64.RawURLEncoding.EncodeToString(b)
}

func defaultName(role string) string {
	switch role {
	case "rep":
		return "Rep"
	case "partner":
		return "Partner"
	}
	return "Coach"
}
