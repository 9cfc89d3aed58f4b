package analytics

import (
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"ringside/internal/rtctest"
	"ringside/sfu"
)

// opusPayload is the size of a 20 ms Opus packet at WebRTC's usual 32 kbit/s.
const opusPayload = 80

// BenchmarkAnalytics is the analysis' cost per audio packet on the SFU's reader goroutine
// (span.WriteRTP: find the extension, take the lock, feed the detector), talking half the time.
func BenchmarkAnalytics(b *testing.B) {
	s := New(Config{Store: &memStore{}}).Start("s1", time.Now())
	w, _ := s.StartTrack(audioInfo(sfu.RoleRep))
	talk, silence := packet(0, loud), packet(0, quiet)
	talk.Payload, silence.Payload = make([]byte, opusPayload), make([]byte, opusPayload)
	arrival := time.Now()
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		p := silence
		if n%100 < 50 {
			p = talk
		}
		p.Timestamp = uint32(n * frameMs * tsPerMs)
		w.WriteRTP(p, arrival.Add(time.Duration(n*frameMs)*time.Millisecond))
		n++
	}
}

// BenchmarkForwardAudio is what forwarding one audio packet to one receiver costs the SFU: a
// write on a local track of a PeerConnection built from the SFU's API (sfu.NewAPI), connected
// over loopback to a receiving PeerConnection, through Pion's interceptors, SRTP and the UDP
// send, as each of the SFU's down-tracks writes (see sfu.BenchmarkWritePath for video).
func BenchmarkForwardAudio(b *testing.B) {
	track := connectedAudioTrack(b)
	p := &rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 111, SSRC: 1}, Payload: make([]byte, opusPayload)}
	b.ReportAllocs()
	for b.Loop() {
		p.SequenceNumber++
		p.Timestamp += frameMs * tsPerMs
		if err := track.WriteRTP(p); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAnalyticsShare interleaves the two above, a batch of packets of each per
// iteration, and reports the analysis' cost in percent of forwarding the packet to a single
// receiver. A real call forwards each audio packet to at least one receiver and reads and
// decrypts it first, so the share of the SFU's whole forwarding CPU is lower still.
func BenchmarkAnalyticsShare(b *testing.B) {
	const batch = 256
	track := connectedAudioTrack(b)
	out := &rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 111, SSRC: 1}, Payload: make([]byte, opusPayload)}
	s := New(Config{Store: &memStore{}}).Start("s1", time.Now())
	w, _ := s.StartTrack(audioInfo(sfu.RoleRep))
	talk, silence := packet(0, loud), packet(0, quiet)
	talk.Payload, silence.Payload = make([]byte, opusPayload), make([]byte, opusPayload)
	arrival := time.Now()
	var forwarding, analysing time.Duration
	n := 0
	for b.Loop() {
		t0 := time.Now()
		for range batch {
			out.SequenceNumber++
			out.Timestamp += frameMs * tsPerMs
			if err := track.WriteRTP(out); err != nil {
				b.Fatal(err)
			}
		}
		t1 := time.Now()
		for range batch {
			p := silence
			if n%100 < 50 {
				p = talk
			}
			p.Timestamp = uint32(n * frameMs * tsPerMs)
			w.WriteRTP(p, arrival.Add(time.Duration(n*frameMs)*time.Millisecond))
			n++
		}
		t2 := time.Now()
		forwarding += t1.Sub(t0)
		analysing += t2.Sub(t1)
	}
	packets := float64(b.N * batch)
	b.ReportMetric(float64(analysing.Nanoseconds())/packets, "analytics-ns/packet")
	b.ReportMetric(float64(forwarding.Nanoseconds())/packets, "forward-ns/packet")
	b.ReportMetric(100*float64(analysing)/float64(forwarding), "%-of-forward")
}

// connectedAudioTrack returns an Opus track on a down PeerConnection of the SFU's API whose
// connection to a receiver on loopback is up; the receiver reads and drops what arrives.
func connectedAudioTrack(b *testing.B) *webrtc.TrackLocalStaticRTP {
	b.Helper()
	api, err := sfu.NewAPI(sfu.Config{IncludeLoopback: true})
	if err != nil {
		b.Fatal(err)
	}
	send, err := api.NewDown() // as the SFU's down connections send
	if err != nil {
		b.Fatal(err)
	}
	recv, err := api.NewUp() // and its up connections receive
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		_ = send.Close()
		_ = recv.Close()
	})
	track, err := webrtc.NewTrackLocalStaticRTP(sfu.OpusCodec.RTPCodecCapability, "audio", "bench")
	if err != nil {
		b.Fatal(err)
	}
	sender, err := send.AddTrack(track)
	if err != nil {
		b.Fatal(err)
	}
	go func() {
		for {
			if _, _, err := sender.ReadRTCP(); err != nil {
				return
			}
		}
	}()
	rtctest.Receive(b, send, recv, webrtc.RTPCodecTypeAudio, nil)
	return track
}
