// Package rtctest connects Pion PeerConnections over loopback inside tests and benchmarks: a
// sending one, as the SFU's down connection is, to a receiving one, as a browser's is.
//
// It is test support only: nothing outside tests may import it. It imports no project package,
// so that the SFU's own tests can use it as well as those of the packages built on the SFU.
package rtctest

import (
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// maxPacket is the largest RTP packet read (Pion's receive MTU is 1460).
const maxPacket = 1500

// connectTimeout bounds how long Receive waits for the connection.
const connectTimeout = 10 * time.Second

// Receive connects send, with its tracks already added, to recv: recv offers to receive one
// track of kind and send answers, each description with all its candidates, and Receive
// returns once send's connection is up. recv reads every track it gets into one buffer, so
// that a benchmark's allocations are the sender's, and hands each packet to got (nil: drops
// it). Closing the connections is the caller's.
func Receive(tb testing.TB, send, recv *webrtc.PeerConnection, kind webrtc.RTPCodecType, got func(*rtp.Packet)) {
	tb.Helper()
	recv.OnTrack(func(t *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		buf := make([]byte, maxPacket)
		for {
			n, _, err := t.Read(buf)
			if err != nil {
				return
			}
			if got == nil {
				continue
			}
			p := &rtp.Packet{}
			if p.Unmarshal(buf[:n]) == nil {
				got(p)
			}
		}
	})
	if _, err := recv.AddTransceiverFromKind(kind, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}); err != nil {
		tb.Fatal(err)
	}
	signal(tb, recv, send, true)
	signal(tb, send, recv, false)
	deadline := time.Now().Add(connectTimeout)
	for send.ConnectionState() != webrtc.PeerConnectionStateConnected {
		if time.Now().After(deadline) {
			tb.Fatalf("connection not up: %s", send.ConnectionState())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// signal has from make an offer (or an answer), waits for its candidates and gives the
// description to to.
func signal(tb testing.TB, from, to *webrtc.PeerConnection, offer bool) {
	tb.Helper()
	if err := to.SetRemoteDescription(Describe(tb, from, offer)); err != nil {
		tb.Fatal(err)
	}
}

// Describe has pc make an offer (or an answer), sets it as its local description, waits for
// its candidates and returns the description with them.
func Describe(tb testing.TB, pc *webrtc.PeerConnection, offer bool) webrtc.SessionDescription {
	tb.Helper()
	var sd webrtc.SessionDescription
	var err error
	if offer {
		sd, err = pc.CreateOffer(nil)
	} else {
		sd, err = pc.CreateAnswer(nil)
	}
	if err != nil {
		tb.Fatal(err)
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(sd); err != nil {
		tb.Fatal(err)
	}
	<-gathered
	return *pc.LocalDescription()
}
