package sfu

import (
	"bytes"
	"encoding/binary"
	"maps"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// directRun is what one publisher → receiver run through a Room saw.
type directRun struct {
	rep, partner *testPeer
	published    *UpTrack
	// RTCP the direct paths took: the publisher's (sender reports) and the receiver's.
	publisherRTCP, receiverRTCP uint64
	received                    map[uint16][]byte // by the publisher's sequence number (carried in the payload)
	copies                      map[uint16]int    // how many times each arrived
	srs                         int               // sender reports the receiver got
	nacked                      map[uint16]bool   // sequence numbers the server asked the publisher again for
	reports                     int               // receiver reports about the publisher's track
	twcc                        int               // transport-wide congestion feedback packets
}

// runDirect has a rep publish paced VP8 packets (all but lost) to a room built with cfg and
// a partner receive them, and reports what each side saw.
func runDirect(t *testing.T, cfg Config, lost uint16) directRun {
	t.Helper()
	media, err := ListenMedia(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = media.Close() })
	cfg.Media, cfg.IncludeLoopback = media, true
	api, err := NewAPI(cfg)
	if err != nil {
		t.Fatal(err)
	}
	room := NewRoom(RoomParams{ID: "direct", API: api, Config: cfg})
	t.Cleanup(room.Close)

	var mu sync.Mutex
	run := directRun{received: map[uint16][]byte{}, copies: map[uint16]int{}, nacked: map[uint16]bool{}}
	partner := joinPeer(t, room, "partner", RolePartner, nil)
	var downSSRC atomic.Uint32
	partner.down.OnTrack(func(tr *webrtc.TrackRemote, recv *webrtc.RTPReceiver) {
		downSSRC.Store(uint32(tr.SSRC()))
		go func() {
			for {
				pkts, _, err := recv.ReadRTCP()
				if err != nil {
					return
				}
				for _, p := range pkts {
					if sr, ok := p.(*rtcp.SenderReport); ok && sr.SSRC == uint32(tr.SSRC()) && sr.PacketCount > 0 {
						mu.Lock()
						run.srs++
						mu.Unlock()
					}
				}
			}
		}()
		for {
			p, _, err := tr.ReadRTP()
			if err != nil {
				return
			}
			if len(p.Payload) >= 4 {
				seq := binary.BigEndian.Uint16(p.Payload[2:])
				mu.Lock()
				run.received[seq] = bytes.Clone(p.Payload)
				run.copies[seq]++
				mu.Unlock()
			}
		}
	})

	video, err := webrtc.NewTrackLocalStaticRTP(VP8Codec.RTPCodecCapability, "video", "rep")
	if err != nil {
		t.Fatal(err)
	}
	var sender *webrtc.RTPSender
	rep := joinPeer(t, room, "rep", RoleRep, func(pc *webrtc.PeerConnection) {
		if sender, err = pc.AddTrack(video); err != nil {
			t.Fatal(err)
		}
	})
	go func() {
		for {
			pkts, _, err := sender.ReadRTCP()
			if err != nil {
				return
			}
			mu.Lock()
			for _, p := range pkts {
				switch p := p.(type) {
				case *rtcp.TransportLayerNack:
					for _, pair := range p.Nacks {
						for _, seq := range pair.PacketList() {
							run.nacked[seq] = true
						}
					}
				case *rtcp.ReceiverReport:
					run.reports += len(p.Reports)
				case *rtcp.TransportLayerCC:
					run.twcc++
				}
			}
			mu.Unlock()
		}
	}()
	waitUntil(t, "the rep's up connection connects", func() bool {
		return rep.up.ConnectionState() == webrtc.PeerConnectionStateConnected
	})

	// The payload carries its sequence number, so that what arrives can be matched to what
	// was sent whatever the down-track rewrote.
	const first, count = 1000, 400
	payloadOf := func(seq uint16) []byte {
		p := vp8Packet(seq, 0, seq%50 == 0).Payload
		binary.BigEndian.PutUint16(p[2:], seq)
		return p
	}
	// The first count packets are paced closely; then the publisher goes on at a video
	// packet's pace until the test ends, as a live track does (feedback and sender reports
	// are driven by the packets).
	sending := make(chan struct{})
	stop := make(chan struct{})
	defer func() { close(stop); <-sending }()
	go func() {
		defer close(sending)
		for seq := uint16(first); ; seq++ {
			pace := 2 * time.Millisecond
			if seq >= first+count {
				pace = 20 * time.Millisecond
			}
			select {
			case <-stop:
				return
			case <-time.After(pace):
			}
			if seq == lost {
				continue
			}
			pkt := vp8Packet(seq, uint32(seq/5)*3000, seq%50 == 0)
			pkt.Payload = payloadOf(seq)
			if err := video.WriteRTP(pkt); err != nil {
				return
			}
		}
	}()
	waitUntil(t, "the last packet and a receiver report", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(run.received[first+count-1]) > 0 && run.reports > 0
	})
	// The receiver asks again for a packet it has (its SRTP accepts the replay): the server
	// resends it from its history.
	again := uint16(first + count - 10)
	if err := partner.down.WriteRTCP([]rtcp.Packet{&rtcp.TransportLayerNack{
		MediaSSRC: downSSRC.Load(), Nacks: rtcp.NackPairsFromSequenceNumbers([]uint16{again}),
	}}); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the resent packet and a sender report", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return run.copies[again] > 1 && run.srs > 0
	})
	mu.Lock()
	defer mu.Unlock()
	for seq, p := range run.received {
		if !bytes.Equal(p, payloadOf(seq)) {
			t.Errorf("packet %d arrived with another payload", seq)
		}
	}
	waitUntil(t, "a sender report of the publisher's", func() bool {
		rep.p.room.mu.Lock()
		run.published = rep.p.published[webrtc.RTPCodecTypeVideo]
		rep.p.room.mu.Unlock()
		if run.published == nil {
			return false
		}
		run.published.rmu.Lock()
		defer run.published.rmu.Unlock()
		return !run.published.fb.lastSRAt.IsZero()
	})
	if rep.p.direct != nil {
		run.publisherRTCP = rep.p.direct.rtcpTaken.Load()
	}
	if partner.p.sender != nil {
		run.receiverRTCP = partner.p.sender.rtcpTaken.Load()
	}
	if run.published == nil {
		t.Fatal("the rep's video is not published")
	}
	// Packets still in flight go on arriving in run: the caller gets a copy.
	out := run
	out.rep, out.partner = rep, partner
	out.received, out.copies, out.nacked = maps.Clone(run.received), maps.Clone(run.copies), maps.Clone(run.nacked)
	return out
}

// TestDirectReceive: the publisher's packets are taken off the socket by the direct receiver
// (nearly all: the first ones come through Pion, which announces the track), forwarded intact,
// and the feedback Pion's interceptors used to give still reaches the publisher: a NACK for
// the lost packet, receiver reports, TWCC feedback.
func TestDirectReceive(t *testing.T) {
	for _, mode := range []struct {
		name string
		cfg  Config
	}{
		{"ephemeral ports", Config{}},
		{"single port", Config{MediaPort: freeUDPPort(t)}},
	} {
		t.Run(mode.name, func(t *testing.T) {
			const lost = 1234
			run := runDirect(t, mode.cfg, lost)
			c := run.published.counts()
			if c.receivedDirect < c.received*9/10 {
				t.Errorf("%d of %d packets were received directly, want ≥ 90%%", c.receivedDirect, c.received)
			}
			if c.forwardedDirect < c.forwarded*9/10 || c.forwarded < 300 {
				t.Errorf("%d of %d packets were sent directly, want ≥ 90%% of ≥ 300", c.forwardedDirect, c.forwarded)
			}
			// The receiver's down connection is negotiated once the track is published, and
			// then waits for a keyframe (every 50th packet): from the third one on it has all.
			for seq := uint16(1100); seq < 1400; seq++ {
				if seq != lost && run.received[seq] == nil {
					t.Errorf("packet %d did not reach the receiver", seq)
				}
			}
			if !run.nacked[lost] {
				t.Errorf("no NACK for the lost packet %d (NACKed: %v)", lost, run.nacked)
			}
			if run.twcc == 0 {
				t.Error("no TWCC feedback reached the publisher")
			}
			if run.publisherRTCP == 0 || run.receiverRTCP == 0 {
				t.Errorf("RTCP taken directly: %d of the publisher's, %d of the receiver's; want some of both",
					run.publisherRTCP, run.receiverRTCP)
			}
			// With the RTCP taken directly, nothing reads it through Pion.
			waitUntil(t, "Pion's RTCP readers stop", func() bool {
				return run.rep.p.upRTCP.running() == 0 && run.partner.p.downRTCP.running() == 0
			})
		})
	}
}

// TestPionRTCPAfterFallback: when a down connection's direct path goes (its pair can no longer
// be served directly), the receiver's RTCP comes through Pion again and is read there: a NACK
// is answered with the very packet.
func TestPionRTCPAfterFallback(t *testing.T) {
	run := runDirect(t, Config{}, 0)
	downs := run.partner.p.downRTCP
	waitUntil(t, "the direct path takes the receiver's RTCP", func() bool { return downs.running() == 0 })
	run.partner.p.sender.attach(nil) // as a move to a relayed or TCP pair does
	if n := downs.running(); n != 1 {
		t.Fatalf("%d RTCP readers after the fallback, want the down-track's 1", n)
	}
	taken := run.partner.p.sender.rtcpTaken.Load()
	var d *DownTrack
	run.partner.p.room.mu.Lock()
	for _, sub := range run.partner.p.subs {
		d = sub.down
	}
	run.partner.p.room.mu.Unlock()
	// A NACK for a packet a few back from the newest: the down-track resends it through Pion.
	before := d.resent.Load()
	d.hmu.Lock()
	seq := d.newest - 3
	d.hmu.Unlock()
	if err := run.partner.down.WriteRTCP([]rtcp.Packet{&rtcp.TransportLayerNack{
		MediaSSRC: d.bind.Load().ssrc, Nacks: rtcp.NackPairsFromSequenceNumbers([]uint16{seq}),
	}}); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the NACK answered through Pion", func() bool { return d.resent.Load() > before })
	if got := run.partner.p.sender.rtcpTaken.Load(); got != taken {
		t.Errorf("the direct path took %d more RTCP packets after it went", got-taken)
	}
}

// TestPionReceive: with Config.PionReceive everything still arrives, through Pion, with the
// same feedback.
func TestPionReceive(t *testing.T) {
	const lost = 1100
	run := runDirect(t, Config{PionReceive: true}, lost)
	if c := run.published.counts(); c.receivedDirect != 0 || c.received < 390 || c.forwardedDirect != 0 {
		t.Errorf("received %d packets, %d directly, sent %d directly; want ≥ 390, none directly",
			c.received, c.receivedDirect, c.forwardedDirect)
	}
	if !run.nacked[lost] || run.twcc == 0 {
		t.Errorf("feedback missing: NACK for %d %v, TWCC packets %d", lost, run.nacked[lost], run.twcc)
	}
}

// TestDirectReceiverWithWrongKeysTurnsOff: if the first packet does not decrypt with the keys
// the handshake revealed, the direct receiver gives up and Pion receives everything.
func TestDirectReceiverWithWrongKeysTurnsOff(t *testing.T) {
	keys := &keyCatcher{serverRandom: make([]byte, 32), clientRandom: make([]byte, 32),
		master: make([]byte, 48), profile: 0x0007} // SRTP_AEAD_AES_128_GCM, all-zero secrets
	d := newDirectReceiver(keys, nil, nil, discardLogger())
	d.attach(nil)
	if d.ctx == nil || d.off {
		t.Fatalf("attach with keys: ctx %v, off %v", d.ctx, d.off)
	}
	garbage := make([]byte, 200)
	garbage[0] = 0x80
	var h rtp.Header
	if out, ok := d.decrypt(make([]byte, 0, maxPacket), garbage, &h); out != nil || ok {
		t.Fatalf("a packet that cannot decrypt: out %v, taken %v", out != nil, ok)
	}
	if !d.off {
		t.Error("the direct receiver stays on after its keys failed")
	}
}

// waitUntil polls cond for up to ten seconds, failing the test with what it waited for.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// running is how many readers have a goroutine.
func (g *pionRTCP) running() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	n := 0
	for r := range g.readers {
		if r.running {
			n++
		}
	}
	return n
}

// TestPionFallbackAfterRollover: when a down connection's direct path goes, its tracks go on
// through Pion, unless the direct sender has rolled a track's sequence numbers over: Pion's
// SRTP context, which saw none of those packets, would encrypt under a stale rollover count,
// reusing the nonces of packets already sent. Such a track's packets are dropped instead.
func TestPionFallbackAfterRollover(t *testing.T) {
	for _, c := range []struct {
		name  string
		first uint16
		pion  bool // packets after the fallback go out through Pion
	}{
		{"no rollover", 1000, true},
		{"after a rollover", 65500, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			media, err := ListenMedia(Config{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = media.Close() })
			api, err := NewAPI(Config{IncludeLoopback: true, Media: media})
			if err != nil {
				t.Fatal(err)
			}
			up := connectableVideo()
			d := newDownTrack(up, "r1", true)
			var mu sync.Mutex
			got := map[uint16]bool{}
			connectDown(t, api, d, nil, func(p *rtp.Packet) {
				mu.Lock()
				got[p.SequenceNumber] = true
				mu.Unlock()
			})
			up.addDown(d)
			waitFor(t, d.sender.on.Load)
			arrived := func(seq uint16) bool {
				mu.Lock()
				defer mu.Unlock()
				return got[seq]
			}
			send := func(from, n uint16) {
				for seq := from; seq != from+n; seq++ {
					up.forward(vp8Packet(seq, uint32(seq)*3000, seq == c.first), time.Now())
					time.Sleep(200 * time.Microsecond)
				}
			}

			send(c.first, 100)
			waitFor(t, func() bool { return arrived(c.first + 99) })
			if d.direct.Load() < 100 {
				t.Fatalf("%d of 100 packets went directly", d.direct.Load())
			}
			d.sender.attach(nil) // as a move to an ICE-TCP pair does
			send(c.first+100, 20)
			last := c.first + 119
			if c.pion {
				waitFor(t, func() bool { return arrived(last) })
				if n := d.writeErrors.Load(); n != 0 {
					t.Errorf("%d packets dropped through Pion", n)
				}
				return
			}
			time.Sleep(300 * time.Millisecond) // time for a packet to arrive if one was sent
			if n := d.writeErrors.Load(); n != 20 {
				t.Errorf("%d of the 20 packets after the fallback dropped, want all", n)
			}
			if arrived(last) {
				t.Errorf("packet %d arrived after the fallback", last)
			}
		})
	}
}
