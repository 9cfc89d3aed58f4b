package signaling_test

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"ringside/internal/client"
	"ringside/internal/proto"
	"ringside/signaling"
)

// view is everything the partner's client received in one run, normalised so that what is
// random per run (ids, secrets, ICE credentials, fingerprints, SSRCs, ports) compares equal.
type view struct {
	Frames      []string       // every non-candidate signaling frame, in order
	Candidates  map[string]int // candidate frames per connection
	DownOffers  int
	UpAnswers   int
	Tracks      []string // received tracks: publisher, kind, SSRC count, re-creations
	SenderRTCP  []string // RTCP the server sent about the partner's own tracks
	ReceiveRTCP []string // CNAMEs and BYEs on the partner's received tracks
}

var uuidRe = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)

type normaliser struct {
	ids   map[string]string
	ssrcs map[string]string
}

func (n *normaliser) id(s string) string {
	return uuidRe.ReplaceAllStringFunc(s, func(u string) string {
		if _, ok := n.ids[u]; !ok {
			n.ids[u] = fmt.Sprintf("<id%d>", len(n.ids)+1)
		}
		return n.ids[u]
	})
}

func (n *normaliser) ssrc(s string) string {
	if _, ok := n.ssrcs[s]; !ok {
		n.ssrcs[s] = fmt.Sprintf("<ssrc%d>", len(n.ssrcs)+1)
	}
	return n.ssrcs[s]
}

var ssrcLineRe = regexp.MustCompile(`^a=ssrc(-group:\S+)?:?((?: ?\d+)+)(.*)$`)

func (n *normaliser) sdp(s string) string {
	var out []string
	for _, line := range strings.Split(strings.TrimSpace(s), "\r\n") {
		switch {
		case strings.HasPrefix(line, "a=candidate"), strings.HasPrefix(line, "a=end-of-candidates"):
			continue
		case strings.HasPrefix(line, "o="):
			line = "o=<origin>"
		case strings.HasPrefix(line, "a=ice-ufrag:"), strings.HasPrefix(line, "a=ice-pwd:"),
			strings.HasPrefix(line, "a=fingerprint:"):
			line = line[:strings.IndexByte(line, ':')] + ":<random>"
		case strings.HasPrefix(line, "a=ssrc"):
			if m := ssrcLineRe.FindStringSubmatch(line); m != nil {
				var ns []string
				for _, f := range strings.Fields(m[2]) {
					ns = append(ns, n.ssrc(f))
				}
				line = "a=ssrc" + m[1] + ":" + strings.Join(ns, " ") + m[3]
			}
		}
		out = append(out, n.id(line))
	}
	return strings.Join(out, "\n")
}

func (n *normaliser) frame(raw []byte) (string, string) {
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return "", "unparsable: " + string(raw)
	}
	if m["type"] == proto.TypeCandidate {
		return "candidate", fmt.Sprint(m["pc"])
	}
	if _, ok := m["resume"]; ok {
		m["resume"] = "<resume>"
	}
	if sdp, ok := m["sdp"].(string); ok {
		m["sdp"] = n.sdp(sdp)
	}
	b, _ := json.Marshal(m)
	return "", n.id(string(b))
}

func observe(c *client.Client) view {
	n := &normaliser{ids: map[string]string{}, ssrcs: map[string]string{}}
	v := view{Candidates: map[string]int{}}
	for _, f := range c.Frames() {
		kind, s := n.frame(f)
		if kind == "candidate" {
			v.Candidates[s]++
			continue
		}
		v.Frames = append(v.Frames, s)
	}
	down, _ := c.Peer(proto.PCDown)
	up, _ := c.Peer(proto.PCUp)
	v.DownOffers, v.UpAnswers = len(down.RemoteSDPs), len(up.RemoteSDPs)
	for key, s := range c.Tracks() {
		v.Tracks = append(v.Tracks, fmt.Sprintf("%s %s ssrcs=%d tracks=%d mime=%s", n.id(key.StreamID),
			key.Kind, len(s.SSRCs), s.Tracks, s.MimeType))
		v.ReceiveRTCP = append(v.ReceiveRTCP, fmt.Sprintf("%s %s cnames=%s byes=%d", n.id(key.StreamID),
			key.Kind, n.id(strings.Join(s.RTCP.CNAMEs, ",")), len(s.RTCP.Byes)))
	}
	slices.Sort(v.Tracks)
	slices.Sort(v.ReceiveRTCP)
	for _, k := range []webrtc.RTPCodecType{audio, video} {
		r := c.SenderRTCP(k)
		v.SenderRTCP = append(v.SenderRTCP, fmt.Sprintf("%s pli=%d fir=%d nack=%d cnames=%s byes=%d",
			k, r.PLI, r.FIR, r.NACK, n.id(strings.Join(r.CNAMEs, ",")), len(r.Byes)))
	}
	return v
}

// scriptedSession runs one role-play and returns what the partner saw. With a coach, the coach
// joins silently, whispers to the rep, goes silent and leaves, while rep and partner talk.
func scriptedSession(t *testing.T, withCoach bool) view {
	// The keyframe clock is off so that every keyframe request the partner receives is one a
	// receiver caused: a hidden coach must cause none.
	e := newEnv(t, func(c *signaling.Config) { c.SFU.KeyframeInterval = -1 })
	tk := e.session("Differential")
	// Each step waits for the last to settle, so that both runs order their frames alike.
	partner := e.dial(tk.partner, client.Audio|client.Video)
	upConnected(t, partner)
	rep := e.dial(tk.rep, client.Audio|client.Video)
	upConnected(t, rep)
	waitFor(t, "the rep publishing in the partner's roster", 10*time.Second, func() bool {
		r := partner.Roster()
		return len(r) == 1 && r[0].Audio && r[0].Video
	})
	for _, k := range []webrtc.RTPCodecType{audio, video} {
		flowing(t, partner, rep.ID(), k, 30)
		flowing(t, rep, partner.ID(), k, 30)
	}
	if withCoach {
		coach := e.dial(tk.coach, client.Audio|client.Video)
		flowing(t, coach, partner.ID(), video, 30)
		flowing(t, coach, rep.ID(), audio, 30)
		if err := coach.SetMode(proto.ModeWhisper, rep.ID()); err != nil {
			t.Fatal(err)
		}
		flowing(t, rep, coach.ID(), audio, 30)
		if err := coach.SetMode(proto.ModeSilent, ""); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "whisper ends", 5*time.Second, func() bool {
			_, ok := inRoster(rep, coach.ID())
			return !ok
		})
		if err := coach.Leave(); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "coach gone", 5*time.Second, func() bool {
			_, ended := coach.Ended()
			return ended
		})
	} else {
		time.Sleep(2 * time.Second)
	}
	flowing(t, partner, rep.ID(), video, 30)
	time.Sleep(500 * time.Millisecond)
	return observe(partner)
}

func upConnected(t *testing.T, c *client.Client) {
	t.Helper()
	waitFor(t, "up connection", 10*time.Second, func() bool {
		info, ok := c.Peer(proto.PCUp)
		return ok && info.State == webrtc.PeerConnectionStateConnected
	})
}

// TestSilentCoachLeavesNoTrace compares everything the partner receives in a session without a
// coach and in the same session with a coach who watches, whispers to the rep and leaves.
func TestSilentCoachLeavesNoTrace(t *testing.T) {
	var without, with view
	t.Run("without coach", func(t *testing.T) { without = scriptedSession(t, false) })
	t.Run("with coach", func(t *testing.T) { with = scriptedSession(t, true) })
	if t.Failed() {
		return
	}
	if len(without.Frames) == 0 || without.DownOffers == 0 || len(without.Tracks) != 2 {
		t.Fatalf("the baseline run saw too little to compare: %+v", without)
	}
	compare := func(what string, a, b any) {
		if as, bs := fmt.Sprintf("%q", a), fmt.Sprintf("%q", b); as != bs {
			t.Errorf("%s differ:\nwithout coach: %s\nwith coach:    %s", what, as, bs)
		}
	}
	compare("signaling frames", without.Frames, with.Frames)
	compare("candidate counts", without.Candidates, with.Candidates)
	compare("down renegotiations", without.DownOffers, with.DownOffers)
	compare("up answers", without.UpAnswers, with.UpAnswers)
	compare("received tracks", without.Tracks, with.Tracks)
	compare("RTCP about the partner's tracks", without.SenderRTCP, with.SenderRTCP)
	compare("RTCP on received tracks", without.ReceiveRTCP, with.ReceiveRTCP)
}
