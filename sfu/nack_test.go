package sfu

import (
	"bytes"
	"encoding/binary"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// TestNACKRetransmitsTheOriginalPacket: a receiver that reports a lost video packet gets that
// very packet again, payload and all, from the down-track's history over a real connection
// (through Pion's write path: this API has no MediaNet, so no direct sender). Packets older
// than the history are not resent, so a stale header can never go out with another packet's
// payload.
func TestNACKRetransmitsTheOriginalPacket(t *testing.T) {
	api, err := NewAPI(Config{IncludeLoopback: true})
	if err != nil {
		t.Fatal(err)
	}
	up := connectableVideo()
	d := newDownTrack(up, "r1", true)

	var mu sync.Mutex
	got := map[uint16][][]byte{} // sequence number → every payload received with it
	recv := connectDown(t, api, d, replayingReceiver(t), func(p *rtp.Packet) {
		mu.Lock()
		got[p.SequenceNumber] = append(got[p.SequenceNumber], bytes.Clone(p.Payload))
		mu.Unlock()
	})
	up.addDown(d)

	// Each payload is its own buffer and says which packet it is, as the up-track's ring
	// slots do.
	const sent = 3 * nackHistory
	payloadOf := func(seq uint16) []byte {
		p := vp8Packet(seq, 0, seq == 1000).Payload
		binary.BigEndian.PutUint16(p[2:], seq)
		return p
	}
	for seq := uint16(1000); seq < 1000+sent; seq++ {
		pkt := vp8Packet(seq, uint32(seq)*3000, seq == 1000)
		pkt.Payload = payloadOf(seq)
		up.forward(pkt, time.Now())
		time.Sleep(200 * time.Microsecond) // paced, so the receiver's socket keeps up
	}
	waitFor(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(got[1000+sent-1]) > 0
	})

	b := d.bind.Load()
	recent := uint16(1000 + sent - nackHistory/2) // within the history
	stale := uint16(1000 + 10)                    // long out of it
	if err := recv.WriteRTCP([]rtcp.Packet{&rtcp.TransportLayerNack{
		MediaSSRC: b.ssrc,
		Nacks:     rtcp.NackPairsFromSequenceNumbers([]uint16{recent, stale}),
	}}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(got[recent]) > 1
	})
	time.Sleep(200 * time.Millisecond) // time for a wrong retransmission of stale to arrive

	mu.Lock()
	defer mu.Unlock()
	for i, p := range got[recent] {
		if !bytes.Equal(p, payloadOf(recent)) {
			t.Errorf("copy %d of packet %d has another payload (says %d)", i, recent,
				binary.BigEndian.Uint16(p[2:]))
		}
	}
	if n := len(got[stale]); n != 1 {
		t.Errorf("packet %d, older than the history, arrived %d times", stale, n)
	}
}

// replayingReceiver makes receivers that accept a packet they already have: a retransmission
// keeps the original's sequence number, and SRTP would drop it as a replay. Here nothing is
// lost, so the test asks again for packets that did arrive.
func replayingReceiver(t *testing.T) *webrtc.API {
	t.Helper()
	m, err := upEngine()
	if err != nil {
		t.Fatal(err)
	}
	se := webrtc.SettingEngine{}
	se.SetIncludeLoopbackCandidate(true)
	se.DisableSRTPReplayProtection(true)
	return webrtc.NewAPI(webrtc.WithMediaEngine(m),
		webrtc.WithSettingEngine(se))
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
