package sfu

import (
	"log/slog"
	"net"
	"sync/atomic"
	"testing"

	"github.com/pion/interceptor"
	"github.com/pion/interceptor/pkg/report"
	"github.com/pion/interceptor/pkg/twcc"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
)

// testPeer is a participant's client side: real Pion connections to a Room, negotiated
// through the Participant's methods and Events as signaling would. Events run in order on one
// goroutine, so that a candidate never overtakes the description it belongs to.
type testPeer struct {
	t    *testing.T
	p    *Participant
	up   *webrtc.PeerConnection
	down *webrtc.PeerConnection
	jobs chan func()
	done atomic.Bool // the test is over: negotiation still under way may fail
}

// errorf reports a negotiation failure while the test runs.
func (tp *testPeer) errorf(format string, args ...any) {
	if !tp.done.Load() {
		tp.t.Errorf(format, args...)
	}
}

// joinPeer joins room as id with role; the peer publishes what publish adds to its up
// connection (nothing if nil) and answers every down offer.
func joinPeer(t *testing.T, room *Room, id ParticipantID, role Role, publish func(*webrtc.PeerConnection)) *testPeer {
	t.Helper()
	api := clientAPI(t)
	tp := &testPeer{t: t, jobs: make(chan func(), 64)}
	var err error
	if tp.up, err = api.NewPeerConnection(webrtc.Configuration{}); err != nil {
		t.Fatal(err)
	}
	if tp.down, err = api.NewPeerConnection(webrtc.Configuration{}); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for job := range tp.jobs {
			job()
		}
	}()
	t.Cleanup(func() {
		tp.done.Store(true)
		room.Leave(id)
		_ = tp.up.Close()
		_ = tp.down.Close()
		close(tp.jobs)
		<-done
	})
	if tp.p, err = room.Join(JoinParams{ID: id, Role: role, Name: string(id), Events: tp}); err != nil {
		t.Fatal(err)
	}
	tp.up.OnICECandidate(tp.candidate(ConnUp))
	tp.down.OnICECandidate(tp.candidate(ConnDown))
	if publish == nil {
		return tp
	}
	publish(tp.up)
	offer, err := tp.up.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := tp.up.SetLocalDescription(offer); err != nil {
		t.Fatal(err)
	}
	if err := tp.p.HandleOffer(ConnUp, offer.SDP); err != nil {
		t.Fatal(err)
	}
	return tp
}

func (tp *testPeer) candidate(conn Conn) func(*webrtc.ICECandidate) {
	return func(c *webrtc.ICECandidate) {
		if c != nil {
			_ = tp.p.AddCandidate(conn, c.ToJSON())
		}
	}
}

func (tp *testPeer) Offer(offer string) {
	tp.jobs <- func() {
		if err := tp.down.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer}); err != nil {
			tp.errorf("down offer: %v", err)
			return
		}
		answer, err := tp.down.CreateAnswer(nil)
		if err == nil {
			err = tp.down.SetLocalDescription(answer)
		}
		if err == nil {
			err = tp.p.HandleAnswer(ConnDown, answer.SDP)
		}
		if err != nil {
			tp.errorf("down answer: %v", err)
		}
	}
}

func (tp *testPeer) Answer(answer string) {
	tp.jobs <- func() {
		if err := tp.up.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: answer}); err != nil {
			tp.errorf("up answer: %v", err)
		}
	}
}

func (tp *testPeer) Candidate(conn Conn, c *webrtc.ICECandidateInit) {
	if c == nil {
		return
	}
	tp.jobs <- func() {
		pc := tp.up
		if conn == ConnDown {
			pc = tp.down
		}
		if err := pc.AddICECandidate(*c); err != nil {
			tp.errorf("candidate: %v", err)
		}
	}
}

func (tp *testPeer) Roster([]RosterEntry) {}

// clientAPI is a client's Pion: the server's codecs, TWCC sequence numbers on what it sends
// (as browsers do), loopback candidates.
func clientAPI(t *testing.T) *webrtc.API {
	t.Helper()
	m, err := mediaEngine()
	if err != nil {
		t.Fatal(err)
	}
	if err := m.RegisterHeaderExtension(webrtc.RTPHeaderExtensionCapability{URI: sdp.TransportCCURI},
		webrtc.RTPCodecTypeVideo); err != nil {
		t.Fatal(err)
	}
	reg := &interceptor.Registry{}
	ext, err := twcc.NewHeaderExtensionInterceptor()
	if err != nil {
		t.Fatal(err)
	}
	reg.Add(ext)
	sr, err := report.NewSenderInterceptor()
	if err != nil {
		t.Fatal(err)
	}
	reg.Add(sr) // publishers send sender reports, as browsers do
	se := webrtc.SettingEngine{}
	se.SetIncludeLoopbackCandidate(true)
	se.DisableSRTPReplayProtection(true) // so that a test can ask again for what arrived
	return webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(reg),
		webrtc.WithSettingEngine(se))
}

// freeUDPPort is a UDP port nothing listens on at the moment, for single-port mode.
func freeUDPPort(t *testing.T) uint16 {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return uint16(c.LocalAddr().(*net.UDPAddr).Port)
}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }
