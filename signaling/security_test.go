package signaling_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/pion/webrtc/v4"

	"ringside/internal/client"
	"ringside/internal/proto"
	"ringside/internal/store"
	"ringside/signaling"
)

// pair is a rep and a partner in a call, the bystanders whose media must never be disturbed.
type pair struct {
	tk           tokens
	rep, partner *client.Client
}

func (e *env) talkingPair(t *testing.T) pair {
	t.Helper()
	tk := e.session("Bystanders")
	p := pair{tk: tk, rep: e.dial(tk.rep, client.Audio|client.Video), partner: e.dial(tk.partner, client.Audio|client.Video)}
	for _, k := range []webrtc.RTPCodecType{audio, video} {
		flowing(t, p.rep, p.partner.ID(), k, 20)
		flowing(t, p.partner, p.rep.ID(), k, 20)
	}
	return p
}

// undisturbed checks the pair still talks with no gap over 500 ms and no error received.
func (p pair) undisturbed(t *testing.T) {
	t.Helper()
	for _, k := range []webrtc.RTPCodecType{audio, video} {
		flowing(t, p.rep, p.partner.ID(), k, 15)
		flowing(t, p.partner, p.rep.ID(), k, 15)
	}
	for name, c := range map[string]*client.Client{"rep": p.rep, "partner": p.partner} {
		for _, k := range []webrtc.RTPCodecType{audio, video} {
			from := p.partner.ID()
			if c == p.partner {
				from = p.rep.ID()
			}
			if s, _ := c.Track(from, k); s.MaxInterArrival > 500*time.Millisecond {
				t.Errorf("%s's %s gapped by %s", name, k, s.MaxInterArrival)
			}
		}
		if errs := c.Errors(); len(errs) > 0 {
			t.Errorf("%s received errors: %+v", name, errs)
		}
		if !c.Connected() {
			t.Errorf("%s was disconnected", name)
		}
	}
}

func serverCode(err error) string {
	var se *client.ServerError
	if errors.As(err, &se) {
		return se.Code
	}
	return ""
}

func TestInvitesAndRoles(t *testing.T) {
	e := newEnv(t)
	p := e.talkingPair(t)

	// Each invite yields its own role, whatever a client claims.
	coach := e.dial(p.tk.coach, 0)
	for name, c := range map[string]*client.Client{"rep": p.rep, "partner": p.partner, "coach": coach} {
		if w, _ := c.Welcome(); w.You.Role != name {
			t.Errorf("%s invite joined as %q", name, w.You.Role)
		}
	}

	// Neither a rep nor a partner may change mode or set markers; they stay connected.
	for name, c := range map[string]*client.Client{"rep": p.rep, "partner": p.partner} {
		if err := c.SetMode(proto.ModeOpen, ""); err != nil {
			t.Fatal(err)
		}
		if err := c.Mark("sneaky"); err != nil {
			t.Fatal(err)
		}
		waitFor(t, name+" refused twice", 5*time.Second, func() bool { return len(c.Errors()) >= 2 })
		for _, er := range c.Errors() {
			if er.Code != proto.CodeForbidden || er.Fatal {
				t.Errorf("%s got %+v, want a non-fatal forbidden", name, er)
			}
		}
	}
	if _, ok := inRoster(p.rep, coach.ID()); ok {
		t.Errorf("a refused mode change still revealed the coach")
	}
	// A role smuggled into a message is ignored: the field is not read.
	if err := p.rep.SendRaw([]byte(`{"type":"mode","mode":"open","role":"coach","Role":"coach","id":"` + coach.ID() + `"}`)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "third refusal", 5*time.Second, func() bool { return len(p.rep.Errors()) >= 3 })
	if errs := p.rep.Errors(); errs[2].Code != proto.CodeForbidden {
		t.Errorf("smuggled role: %+v", errs[2])
	}
	// Only the coach's own connection confirms modes.
	if _, ok := p.rep.Mode(); ok {
		t.Errorf("rep received a mode confirmation")
	}

	// Whisper targets must be a rep or partner of this session.
	if err := coach.SetMode(proto.ModeWhisper, "not-a-participant"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "bad target refused", 5*time.Second, func() bool { return len(coach.Errors()) == 1 })
	if er := coach.Errors()[0]; er.Code != proto.CodeBadTarget || er.Fatal {
		t.Errorf("bad whisper target: %+v", er)
	}

	// From here on the bystanders must receive nothing more.
	repErrs, partnerErrs := len(p.rep.Errors()), len(p.partner.Errors())

	other := e.session("Another session")
	expired := e.sessionWith("Expired", -time.Minute)
	forged, _, _ := store.NewToken()
	cases := []struct {
		name, token, code string
	}{
		{"unknown token", forged, proto.CodeBadToken},
		{"garbage token", "../../etc/passwd", proto.CodeBadToken},
		{"huge token", strings.Repeat("A", 4096), proto.CodeBadToken},
		{"empty token", "", proto.CodeBadToken},
		{"expired token", expired.rep, proto.CodeTokenExpired},
	}
	for _, c := range cases {
		_, err := e.tryDial(c.token, 0)
		if got := serverCode(err); got != c.code {
			t.Errorf("%s: join error %v (code %q), want %q", c.name, err, got, c.code)
		}
	}

	// A resume secret works only with the invite it was issued for.
	w, _ := p.rep.Welcome()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := client.Dial(ctx, client.Config{URL: e.wsURL, Token: other.rep, Resume: w.Resume, API: e.api})
	if got := serverCode(err); got != proto.CodeResumeFailed {
		t.Errorf("resume with another session's invite: %v, want resume_failed", err)
	}
	_, err = client.Dial(ctx, client.Config{URL: e.wsURL, Token: p.tk.partner, Resume: w.Resume, API: e.api})
	if got := serverCode(err); got != proto.CodeResumeFailed {
		t.Errorf("resume of the rep with the partner's invite: %v, want resume_failed", err)
	}

	// An ended session refuses joins.
	if err := e.store.EndSession(context.Background(), other.session, time.Now(), store.SessionEnded); err != nil {
		t.Fatal(err)
	}
	if _, err := e.tryDial(other.partner, 0); serverCode(err) != proto.CodeSessionEnded {
		t.Errorf("join of an ended session: %v", err)
	}

	if len(p.rep.Errors()) != repErrs || len(p.partner.Errors()) != partnerErrs {
		t.Errorf("bystanders received errors from others' refusals")
	}
	for _, c := range []*client.Client{p.rep, p.partner} {
		if !c.Connected() {
			t.Fatalf("a bystander was disconnected")
		}
	}
	for _, k := range []webrtc.RTPCodecType{audio, video} {
		flowing(t, p.rep, p.partner.ID(), k, 15)
		flowing(t, p.partner, p.rep.ID(), k, 15)
	}
}

func TestEndSessionEndsEveryone(t *testing.T) {
	e := newEnv(t)
	p := e.talkingPair(t)
	bystanders := e.talkingPair(t)
	if err := e.srv.EndSession(context.Background(), p.tk.session); err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]*client.Client{"rep": p.rep, "partner": p.partner} {
		waitFor(t, name+" told the session ended", 5*time.Second, func() bool {
			r, ok := c.Ended()
			return ok && r == proto.EndedSessionEnded
		})
	}
	bystanders.undisturbed(t)
}

// dialRaw opens a bare websocket for protocol abuse.
func (e *env) dialRaw(t *testing.T) *websocket.Conn {
	t.Helper()
	ws, _, err := websocket.DefaultDialer.Dial(e.wsURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ws.Close() })
	return ws
}

// expectRefusal reads until the server's error and close; it returns the error's code and the
// close code.
func expectRefusal(t *testing.T, ws *websocket.Conn) (code string, closeCode int) {
	t.Helper()
	_ = ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		_, data, err := ws.ReadMessage()
		if err != nil {
			var ce *websocket.CloseError
			if errors.As(err, &ce) {
				return code, ce.Code
			}
			return code, -1
		}
		var msg proto.Error
		if json.Unmarshal(data, &msg) == nil && msg.Type == proto.TypeError && code == "" {
			code = msg.Code
		}
	}
}

func TestLimitsRefuseWithCodes(t *testing.T) {
	e := newEnv(t, func(c *signaling.Config) {
		c.Limits.ParticipantsPerSession = 2
		c.Limits.SessionsPerServer = 1
	})
	p := e.talkingPair(t)
	if _, err := e.tryDial(p.tk.coach, 0); serverCode(err) != proto.CodeSessionFull {
		t.Errorf("third participant of a 2-seat session: %v, want session_full", err)
	}
	other := e.session("Second live session")
	if _, err := e.tryDial(other.rep, 0); serverCode(err) != proto.CodeServerFull {
		t.Errorf("second live session on a 1-session server: %v, want server_full", err)
	}
	p.undisturbed(t)
}
