package client

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"

	"ringside/internal/media"
	"ringside/internal/proto"
)

// Identities the fake server hands out.
const (
	goodToken = "good-token"
	selfID    = "p1"
	otherID   = "p2" // the publisher of the fake server's down tracks
)

// fakeServer speaks docs/protocol.md to one participant, with real Pion PeerConnections on
// its side: it answers up and records what arrives, offers down two tracks of otherID playing
// the fixtures, and trickles candidates. It keeps the participant's PeerConnections across
// websockets, so a client can resume. It is a small real peer, not a model of signaling/.
type fakeServer struct {
	t    *testing.T
	api  *webrtc.API
	http *httptest.Server
	ctx  context.Context
	stop context.CancelFunc
	wg   sync.WaitGroup // handlers and publishers

	audio, video *webrtc.TrackLocalStaticSample // down tracks, stream id otherID

	wmu sync.Mutex // serializes websocket writes

	mu          sync.Mutex // guards the following fields
	ws          *websocket.Conn
	secret      string
	up, down    *fakePeer
	upPackets   map[webrtc.RTPCodecType]int
	downSenders map[webrtc.RTPCodecType]*webrtc.RTPSender
	upCodecs    map[webrtc.RTPCodecType]string
	candidates  map[proto.PC]int
	joins       []proto.Join
	mute        bool // ignore every frame
	// candidatesFirst sends each SDP after all its candidates, to check the client keeps
	// candidates until they can be applied.
	candidatesFirst bool
}

func newFakeServer(t *testing.T) *fakeServer {
	t.Helper()
	api, err := NewAPI()
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	s := &fakeServer{
		t: t, api: api, ctx: ctx, stop: stop,
		upPackets:   make(map[webrtc.RTPCodecType]int),
		downSenders: make(map[webrtc.RTPCodecType]*webrtc.RTPSender),
		upCodecs:    make(map[webrtc.RTPCodecType]string),
		candidates:  make(map[proto.PC]int),
	}
	s.audio = s.publish(opusCapability(), "audio.ogg", otherID+"-audio")
	s.video = s.publish(vp8Capability(), "video.ivf", otherID+"-video")
	s.http = httptest.NewServer(http.HandlerFunc(s.serveWS))
	t.Cleanup(s.close)
	return s
}

func (s *fakeServer) url() string { return "ws" + strings.TrimPrefix(s.http.URL, "http") + "/ws" }

func (s *fakeServer) publish(codec webrtc.RTPCodecCapability, fixture, id string) *webrtc.TrackLocalStaticSample {
	track, err := webrtc.NewTrackLocalStaticSample(codec, id, otherID)
	if err != nil {
		s.t.Fatal(err)
	}
	clip, err := media.Load(media.Fixture(fixture))
	if err != nil {
		s.t.Fatal(err)
	}
	s.wg.Go(func() { _ = clip.Publish(s.ctx, track) })
	return track
}

func (s *fakeServer) close() {
	s.stop()
	s.mu.Lock()
	ws, up, down := s.ws, s.up, s.down
	s.mu.Unlock()
	if ws != nil {
		_ = ws.Close()
	}
	for _, p := range []*fakePeer{up, down} {
		if p != nil {
			_ = p.pc.GracefulClose()
		}
	}
	s.http.Close()
	s.wg.Wait()
}

// forgetResume makes the server refuse the current resume secret, as after a grace period.
func (s *fakeServer) forgetResume() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.secret = "forgotten"
}

func (s *fakeServer) upPacketCount(kind webrtc.RTPCodecType) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.upPackets[kind]
}

func (s *fakeServer) serveWS(w http.ResponseWriter, r *http.Request) {
	up := websocket.Upgrader{}
	ws, err := up.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	s.wg.Add(1)
	defer s.wg.Done()
	defer ws.Close()
	for {
		_, frame, err := ws.ReadMessage()
		if err != nil {
			break
		}
		if !s.handle(ws, frame) {
			break
		}
	}
	s.mu.Lock()
	if s.ws == ws {
		s.ws = nil
	}
	s.mu.Unlock()
}

// handle answers one client frame; false ends the connection.
func (s *fakeServer) handle(ws *websocket.Conn, frame []byte) bool {
	s.mu.Lock()
	mute := s.mute
	s.mu.Unlock()
	if mute {
		return true
	}
	msg, err := proto.Decode(frame)
	if err != nil {
		s.writeTo(ws, proto.Error{Type: proto.TypeError, Code: proto.CodeBadMessage, Message: err.Error()})
		return true
	}
	switch m := msg.(type) {
	case *proto.Join:
		return s.join(ws, m)
	case *proto.SDP:
		s.sdp(m)
	case *proto.Candidate:
		s.candidate(m)
	case *proto.Mode:
		s.write(proto.Mode{Type: proto.TypeMode, Mode: m.Mode, Target: m.Target})
	case *proto.Mark:
		s.write(proto.Marked{Type: proto.TypeMarked, ID: "m1", AtMs: 1500, Note: m.Note})
	case *proto.Mute:
		s.write(proto.Roster{Type: proto.TypeRoster, Members: []proto.Member{
			{ID: otherID, Role: "partner", Name: "Ben", Audio: m.Audio, Video: m.Video},
		}})
	case *proto.Leave:
		s.write(proto.Ended{Type: proto.TypeEnded, Reason: proto.EndedLeft})
		s.closeWS(ws, websocket.CloseNormalClosure, "left")
		return false
	}
	return true
}

func (s *fakeServer) join(ws *websocket.Conn, j *proto.Join) bool {
	s.mu.Lock()
	s.joins = append(s.joins, *j)
	secret := s.secret
	s.mu.Unlock()
	refuse := func(code string) bool {
		s.writeTo(ws, proto.Error{Type: proto.TypeError, Code: code, Message: "refused", Fatal: true})
		s.closeWS(ws, websocket.ClosePolicyViolation, code)
		return false
	}
	switch {
	case j.Token != goodToken:
		return refuse(proto.CodeBadToken)
	case j.Resume != "" && j.Resume != secret:
		return refuse(proto.CodeResumeFailed)
	}
	resumed := j.Resume != ""
	s.mu.Lock()
	s.ws = ws
	if !resumed {
		s.secret = "secret-1"
	}
	secret = s.secret
	s.mu.Unlock()
	if !resumed && !s.newPeers() {
		return false
	}
	s.write(proto.Welcome{
		Type: proto.TypeWelcome, Version: proto.Version,
		Session: proto.SessionInfo{ID: "s1", Title: "Discovery call practice"},
		You:     proto.Self{ID: selfID, Role: "rep", Name: "Ana"},
		Resume:  secret, Resumed: resumed, Recording: true,
	})
	s.write(proto.Roster{Type: proto.TypeRoster, Members: []proto.Member{
		{ID: otherID, Role: "partner", Name: "Ben", Audio: true, Video: true},
	}})
	s.down.offer(resumed)
	return true
}

func (s *fakeServer) newPeers() bool {
	up, err := s.newPeer(proto.PCUp)
	if err != nil {
		s.t.Error(err)
		return false
	}
	down, err := s.newPeer(proto.PCDown)
	if err != nil {
		s.t.Error(err)
		return false
	}
	for _, track := range []*webrtc.TrackLocalStaticSample{s.audio, s.video} {
		if err := s.addDownTrack(down, track); err != nil {
			s.t.Error(err)
			return false
		}
	}
	up.pc.OnTrack(func(track *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		s.mu.Lock()
		s.upCodecs[track.Kind()] = track.Codec().MimeType
		s.mu.Unlock()
		if track.Kind() == webrtc.RTPCodecTypeVideo {
			pli := &rtcp.PictureLossIndication{MediaSSRC: uint32(track.SSRC())}
			_ = up.pc.WriteRTCP([]rtcp.Packet{pli})
		}
		buf := make([]byte, readBuffer)
		for {
			if _, _, err := track.Read(buf); err != nil {
				return
			}
			s.mu.Lock()
			s.upPackets[track.Kind()]++
			s.mu.Unlock()
		}
	})
	s.mu.Lock()
	s.up, s.down = up, down
	s.mu.Unlock()
	return true
}

// addDownTrack adds track to down, draining its sender's RTCP; the caller offers.
func (s *fakeServer) addDownTrack(down *fakePeer, track *webrtc.TrackLocalStaticSample) error {
	sender, err := down.pc.AddTrack(track)
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.downSenders[track.Kind()] = sender
	s.mu.Unlock()
	s.wg.Go(func() {
		for {
			if _, _, err := sender.ReadRTCP(); err != nil {
				return
			}
		}
	})
	return nil
}

// toggleDownVideo removes the down video track, or adds it back, and renegotiates down, as the
// server does when what a participant may receive changes.
func (s *fakeServer) toggleDownVideo() {
	s.mu.Lock()
	down := s.down
	s.mu.Unlock()
	// One offer at a time: wait for the answer to the previous one.
	for deadline := time.Now().Add(5 * time.Second); down.pc.SignalingState() != webrtc.SignalingStateStable; {
		if time.Now().After(deadline) {
			s.t.Fatal("server: down offer never answered")
		}
		time.Sleep(10 * time.Millisecond)
	}
	s.mu.Lock()
	sender := s.downSenders[webrtc.RTPCodecTypeVideo]
	delete(s.downSenders, webrtc.RTPCodecTypeVideo)
	s.mu.Unlock()
	var err error
	if sender != nil {
		err = down.pc.RemoveTrack(sender)
	} else {
		err = s.addDownTrack(down, s.video)
	}
	if err != nil {
		s.t.Fatal(err)
	}
	down.offer(false)
}

func (s *fakeServer) sdp(m *proto.SDP) {
	s.mu.Lock()
	up, down := s.up, s.down
	s.mu.Unlock()
	switch {
	case m.Type == proto.TypeOffer && m.PC == proto.PCUp:
		up.answer(m.SDP)
	case m.Type == proto.TypeAnswer && m.PC == proto.PCDown:
		if err := down.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: m.SDP}); err != nil {
			s.t.Errorf("server: down answer: %v", err)
		}
	default:
		s.t.Errorf("server: unexpected %s for %s", m.Type, m.PC)
	}
}

func (s *fakeServer) candidate(m *proto.Candidate) {
	s.mu.Lock()
	s.candidates[m.PC]++
	p := s.up
	if m.PC == proto.PCDown {
		p = s.down
	}
	s.mu.Unlock()
	var init webrtc.ICECandidateInit
	if m.Candidate != nil {
		init = webrtc.ICECandidateInit{Candidate: m.Candidate.Candidate, SDPMid: m.Candidate.SDPMid,
			SDPMLineIndex: m.Candidate.SDPMLineIndex}
	}
	if err := p.pc.AddICECandidate(init); err != nil {
		s.t.Errorf("server: %s candidate %q: %v", m.PC, init.Candidate, err)
	}
}

func (s *fakeServer) write(msg any) {
	s.mu.Lock()
	ws := s.ws
	s.mu.Unlock()
	if ws != nil {
		s.writeTo(ws, msg)
	}
}

func (s *fakeServer) writeTo(ws *websocket.Conn, msg any) {
	frame, err := json.Marshal(msg)
	if err != nil {
		s.t.Error(err)
		return
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	_ = ws.WriteMessage(websocket.TextMessage, frame)
}

func (s *fakeServer) closeWS(ws *websocket.Conn, code int, text string) {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	_ = ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, text),
		time.Now().Add(time.Second))
}

// fakePeer is one server-side PeerConnection that trickles its candidates after its SDP.
type fakePeer struct {
	s    *fakeServer
	name proto.PC
	pc   *webrtc.PeerConnection

	mu    sync.Mutex // guards the following fields
	ready bool
	held  []*webrtc.ICECandidate
}

func (s *fakeServer) newPeer(name proto.PC) (*fakePeer, error) {
	pc, err := s.api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return nil, err
	}
	p := &fakePeer{s: s, name: name, pc: pc}
	pc.OnICECandidate(func(c *webrtc.ICECandidate) {
		p.mu.Lock()
		defer p.mu.Unlock()
		if !p.ready {
			p.held = append(p.held, c)
			return
		}
		p.sendCandidate(c)
	})
	return p, nil
}

func (p *fakePeer) sendCandidate(c *webrtc.ICECandidate) {
	msg := proto.Candidate{Type: proto.TypeCandidate, PC: p.name}
	if c != nil {
		init := c.ToJSON()
		msg.Candidate = &proto.ICECandidate{Candidate: init.Candidate, SDPMid: init.SDPMid,
			SDPMLineIndex: init.SDPMLineIndex}
	}
	p.s.write(msg)
}

// hold keeps the candidates gathered from now on until the next SDP is sent. Pion gathers as
// soon as an ICE restart is set, before the SDP that carries it.
func (p *fakePeer) hold() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.ready = false
}

// sendSDP sets desc as the local description and sends it, then the candidates it held.
func (p *fakePeer) sendSDP(desc webrtc.SessionDescription, err error) {
	p.s.mu.Lock()
	first := p.s.candidatesFirst
	p.s.mu.Unlock()
	gathered := webrtc.GatheringCompletePromise(p.pc)
	if err == nil {
		err = p.pc.SetLocalDescription(desc)
	}
	if err != nil {
		p.s.t.Errorf("server: %s %s: %v", p.name, desc.Type, err)
		return
	}
	msg := proto.SDP{Type: desc.Type.String(), PC: p.name, SDP: desc.SDP}
	if first {
		<-gathered
		p.flush()
		p.s.write(msg)
		return
	}
	p.s.write(msg)
	p.flush()
}

// flush sends the held candidates and lets the next ones through.
func (p *fakePeer) flush() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.ready = true
	for _, c := range p.held {
		p.sendCandidate(c)
	}
	p.held = nil
}

func (p *fakePeer) offer(iceRestart bool) {
	p.hold()
	p.sendSDP(p.pc.CreateOffer(&webrtc.OfferOptions{ICERestart: iceRestart}))
}

func (p *fakePeer) answer(offer string) {
	p.hold()
	if err := p.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer}); err != nil {
		p.s.t.Errorf("server: %s offer: %v", p.name, err)
		return
	}
	p.sendSDP(p.pc.CreateAnswer(nil))
}
