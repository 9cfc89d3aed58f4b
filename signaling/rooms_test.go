package signaling_test

import (
	"strings"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"ringside/internal/client"
	"ringside/internal/proto"
)

const (
	audio = webrtc.RTPCodecTypeAudio
	video = webrtc.RTPCodecTypeVideo
)

// downSDPs is every SDP the server offered c on its down connection.
func downSDPs(c *client.Client) []string {
	info, _ := c.Peer(proto.PCDown)
	return info.RemoteSDPs
}

// noTraceOf fails if anything c received names participant id: roster, SDP, tracks, frames.
func noTraceOf(t *testing.T, who string, c *client.Client, id string) {
	t.Helper()
	if _, ok := inRoster(c, id); ok {
		t.Errorf("%s's roster shows the coach: %+v", who, c.Roster())
	}
	for i, sdp := range downSDPs(c) {
		if strings.Contains(sdp, id) {
			t.Errorf("%s's down SDP #%d names the coach", who, i)
		}
	}
	for key := range c.Tracks() {
		if key.StreamID == id {
			t.Errorf("%s receives a %s track of the coach", who, key.Kind)
		}
	}
	for _, f := range c.Frames() {
		if strings.Contains(string(f), id) {
			t.Errorf("%s received a frame naming the coach: %.200s", who, f)
		}
	}
}

// TestCoachModesLive runs the product's core scenario with three real Pion peers sending real
// Opus and VP8: rep and partner talk; the coach watches silently, whispers to the rep, joins
// openly and goes silent again, all live.
func TestCoachModesLive(t *testing.T) {
	e := newEnv(t)
	tk := e.session("Discovery call")
	rep := e.dial(tk.rep, client.Audio|client.Video)
	partner := e.dial(tk.partner, client.Audio|client.Video)
	repID, partnerID := rep.ID(), partner.ID()

	for _, k := range []webrtc.RTPCodecType{audio, video} {
		flowing(t, rep, partnerID, k, 20)
		flowing(t, partner, repID, k, 20)
	}
	if s, _ := rep.Track(partnerID, video); s.MimeType != webrtc.MimeTypeVP8 {
		t.Errorf("rep receives partner video as %q", s.MimeType)
	}
	if s, _ := partner.Track(repID, audio); s.MimeType != webrtc.MimeTypeOpus {
		t.Errorf("partner receives rep audio as %q", s.MimeType)
	}
	repOffers, partnerOffers := len(downSDPs(rep)), len(downSDPs(partner))

	// Silent: the coach receives both, and nobody else learns anything.
	coach := e.dial(tk.coach, client.Audio|client.Video)
	coachID := coach.ID()
	if w, _ := coach.Welcome(); w.You.Mode != proto.ModeSilent {
		t.Errorf("coach joins in mode %q, want silent", w.You.Mode)
	}
	for _, k := range []webrtc.RTPCodecType{audio, video} {
		flowing(t, coach, repID, k, 20)
		flowing(t, coach, partnerID, k, 20)
	}
	time.Sleep(500 * time.Millisecond) // let anything the server might wrongly send arrive
	noTraceOf(t, "rep", rep, coachID)
	noTraceOf(t, "partner", partner, coachID)
	if n := len(downSDPs(rep)); n != repOffers {
		t.Errorf("rep was renegotiated %d times when a silent coach joined", n-repOffers)
	}
	if n := len(downSDPs(partner)); n != partnerOffers {
		t.Errorf("partner was renegotiated %d times when a silent coach joined", n-partnerOffers)
	}
	if _, ok := inRoster(coach, repID); !ok {
		t.Errorf("coach's roster lacks the rep: %+v", coach.Roster())
	}

	// Whisper: only the rep hears the coach.
	if err := coach.SetMode(proto.ModeWhisper, ""); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "coach's mode confirmed", 5*time.Second, func() bool {
		m, ok := coach.Mode()
		return ok && m.Mode == proto.ModeWhisper && m.Target == repID
	})
	waitFor(t, "rep's roster shows the coach whispering", 5*time.Second, func() bool {
		s, ok := inRoster(rep, coachID)
		return ok && s == "whispering"
	})
	flowing(t, rep, coachID, audio, 25)
	if packets(rep, coachID, video) != 0 {
		t.Errorf("a whispering coach's video reaches the rep")
	}
	time.Sleep(300 * time.Millisecond)
	noTraceOf(t, "partner", partner, coachID)
	if n := len(downSDPs(partner)); n != partnerOffers {
		t.Errorf("partner was renegotiated %d times during a whisper", n-partnerOffers)
	}

	// Open: both see and hear the coach.
	if err := coach.SetMode(proto.ModeOpen, ""); err != nil {
		t.Fatal(err)
	}
	for _, c := range []*client.Client{rep, partner} {
		flowing(t, c, coachID, audio, 25)
		flowing(t, c, coachID, video, 10)
		if s, ok := inRoster(c, coachID); !ok || s != "open" {
			t.Errorf("roster state of an open coach = %q, %v", s, ok)
		}
	}

	// Silent again: it all disappears.
	if err := coach.SetMode(proto.ModeSilent, ""); err != nil {
		t.Fatal(err)
	}
	for _, c := range []*client.Client{rep, partner} {
		waitFor(t, "coach gone from roster", 5*time.Second, func() bool {
			_, ok := inRoster(c, coachID)
			return !ok
		})
	}
	time.Sleep(500 * time.Millisecond)
	stopped := map[*client.Client][2]uint64{}
	for _, c := range []*client.Client{rep, partner} {
		stopped[c] = [2]uint64{packets(c, coachID, audio), packets(c, coachID, video)}
	}
	time.Sleep(time.Second)
	for name, c := range map[string]*client.Client{"rep": rep, "partner": partner} {
		if now := [2]uint64{packets(c, coachID, audio), packets(c, coachID, video)}; now != stopped[c] {
			t.Errorf("%s still receives coach media after silent: %v → %v", name, stopped[c], now)
		}
		sdps := downSDPs(c)
		if last := sdps[len(sdps)-1]; strings.Contains(last, "msid:"+coachID) {
			t.Errorf("%s's latest down SDP still carries the coach's tracks", name)
		}
	}

	// Rep and partner media kept flowing through every change.
	for _, pair := range []struct {
		name string
		c    *client.Client
		from string
	}{{"rep←partner", rep, partnerID}, {"partner←rep", partner, repID}} {
		for _, k := range []webrtc.RTPCodecType{audio, video} {
			s, _ := pair.c.Track(pair.from, k)
			if s.MaxInterArrival > 500*time.Millisecond {
				t.Errorf("%s %s gapped by %s", pair.name, k, s.MaxInterArrival)
			}
			if s.Tracks != 1 {
				t.Errorf("%s %s was re-created %d times", pair.name, k, s.Tracks-1)
			}
		}
	}
}
