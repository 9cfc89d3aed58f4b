package signaling_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"ringside/internal/client"
	"ringside/internal/proto"
	"ringside/internal/store"
	"ringside/signaling"
)

func rosterFrames(c *client.Client) int {
	n := 0
	for _, f := range c.Frames() {
		if strings.Contains(string(f), `"type":"roster"`) {
			n++
		}
	}
	return n
}

// TestReconnectResumes cuts the rep's websocket mid-call; the rep resumes within the grace
// period with an ICE restart, media flows again, and the partner sees no leave/join flap.
func TestReconnectResumes(t *testing.T) {
	e := newEnv(t)
	p := e.talkingPair(t)
	repID := p.rep.ID()
	partnerRosters := rosterFrames(p.partner)

	p.rep.CutWebsocket()
	time.Sleep(time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := p.rep.Resume(ctx); err != nil {
		t.Fatalf("resume: %v", err)
	}
	w, _ := p.rep.Welcome()
	if !w.Resumed || w.You.ID != repID {
		t.Fatalf("welcome after resume: %+v", w)
	}
	waitFor(t, "ICE restart on the rep's down connection", 10*time.Second, func() bool {
		info, _ := p.rep.Peer(proto.PCDown)
		return len(info.RemoteSDPs) >= 2 && info.Signaling == webrtc.SignalingStateStable
	})
	for _, k := range []webrtc.RTPCodecType{audio, video} {
		flowing(t, p.rep, p.partner.ID(), k, 20)
		flowing(t, p.partner, repID, k, 20)
	}
	if n := rosterFrames(p.partner); n != partnerRosters {
		t.Errorf("partner received %d roster updates across the rep's reconnect", n-partnerRosters)
	}
	if _, ok := inRoster(p.partner, repID); !ok {
		t.Errorf("rep missing from the partner's roster after resume")
	}
}

func TestReconnectAfterGraceFails(t *testing.T) {
	e := newEnv(t, func(c *signaling.Config) { c.GracePeriod = time.Second })
	p := e.talkingPair(t)
	repID := p.rep.ID()
	p.rep.CutWebsocket()
	waitFor(t, "the rep to leave the partner's roster", 10*time.Second, func() bool {
		_, ok := inRoster(p.partner, repID)
		return !ok
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := p.rep.Resume(ctx); serverCode(err) != proto.CodeResumeFailed {
		t.Errorf("resume after the grace period: %v, want resume_failed", err)
	}
	// The store learns of the leave just after the room does (the roster goes out first).
	waitFor(t, "the store to record the rep leaving", 10*time.Second, func() bool {
		parts, err := e.store.Participants(context.Background(), p.tk.session)
		if err != nil {
			t.Fatal(err)
		}
		for _, pt := range parts {
			if pt.ID == repID {
				return pt.LeftAt != nil
			}
		}
		t.Fatal("the rep is not among the session's participants")
		return false
	})
}

// TestResumeRechecksInvite: a session that ended while the rep was away refuses the resume.
func TestResumeRechecksInvite(t *testing.T) {
	e := newEnv(t)
	p := e.talkingPair(t)
	p.rep.CutWebsocket()
	if err := e.store.EndSession(context.Background(), p.tk.session, time.Now(), store.SessionEnded); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := p.rep.Resume(ctx); serverCode(err) != proto.CodeSessionEnded {
		t.Errorf("resume into an ended session: %v, want session_ended", err)
	}
}
