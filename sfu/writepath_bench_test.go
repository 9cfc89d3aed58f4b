package sfu

import (
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"ringside/internal/rtctest"
)

// connectDown negotiates d on a real PeerConnection of api to a receiving PeerConnection over
// loopback, as the SFU's down connection would be, and returns the receiver once d is bound
// and the connection is up. The receiver, made by recvAPI (nil: an up connection of api),
// hands what arrives to got (nil: drops it).
func connectDown(tb testing.TB, api *API, d *DownTrack, recvAPI *webrtc.API, got func(*rtp.Packet)) *webrtc.PeerConnection {
	tb.Helper()
	send, keys, err := api.newDown()
	if err != nil {
		tb.Fatal(err)
	}
	// With a MediaNet, the down-track sends as a server's does: through a direct sender.
	pion := newPionRTCP()
	if keys != nil {
		d.sender = newDirectSender(keys, api.direct, pion, discardLogger())
		follow(send, discardLogger(), d.sender.attach)
	}
	var recv *webrtc.PeerConnection
	if recvAPI != nil {
		recv, err = recvAPI.NewPeerConnection(webrtc.Configuration{})
	} else {
		recv, err = api.NewUp()
	}
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		_ = send.Close()
		_ = recv.Close()
	})
	sender, err := send.AddTrack(d)
	if err != nil {
		tb.Fatal(err)
	}
	pion.add(sender, d.rtcpFromPion)
	rtctest.Receive(tb, send, recv, d.Kind(), got)
	deadline := time.Now().Add(10 * time.Second)
	for d.bind.Load() == nil {
		if time.Now().After(deadline) {
			tb.Fatal("down-track not bound")
		}
		time.Sleep(10 * time.Millisecond)
	}
	return recv
}

// BenchmarkWritePath measures what the SFU spends sending: one published video packet
// (1100-byte payload) forwarded to three receivers over real PeerConnections on loopback,
// through Ringside's fan-out and the direct sender (header, SRTP, the UDP send), as a server
// with a MediaNet does. ns/forward is per receiver; compare it with BenchmarkFloor. The
// receive side (reading the publisher) is not included: the load run measures the whole.
func BenchmarkWritePath(b *testing.B) {
	media, err := ListenMedia(Config{})
	if err != nil {
		b.Fatal(err)
	}
	defer media.Close()
	benchmarkWritePath(b, Config{IncludeLoopback: true, Media: media})
}

// BenchmarkWritePathPion is BenchmarkWritePath through Pion's write path (no MediaNet).
func BenchmarkWritePathPion(b *testing.B) {
	benchmarkWritePath(b, Config{IncludeLoopback: true})
}

func benchmarkWritePath(b *testing.B, cfg Config) {
	api, err := NewAPI(cfg)
	if err != nil {
		b.Fatal(err)
	}
	up := connectableVideo()
	const receivers = 3
	for i := range receivers {
		d := newDownTrack(up, ParticipantID(rune('a'+i)), true)
		connectDown(b, api, d, nil, nil)
		up.addDown(d)
	}
	pkt, now := vp8Packet(1, 0, true), time.Now()
	pkt.Payload = pkt.Payload[:floorPayload]
	b.ReportAllocs()
	b.SetBytes(receivers * floorPayload)
	for b.Loop() {
		pkt.SequenceNumber++
		pkt.Timestamp += 3000
		up.forward(pkt, now)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/receivers, "ns/forward")
	for _, d := range up.out.Load().downs {
		s := d.Stats()
		if s.Packets == 0 || s.Dropped > 0 {
			b.Errorf("down-track %s: %+v", d.receiver, s)
		}
		if cfg.Media != nil && d.direct.Load() < s.Packets*9/10 {
			b.Errorf("down-track %s sent %d of %d packets directly", d.receiver, d.direct.Load(), s.Packets)
		}
	}
}
