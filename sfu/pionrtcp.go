package sfu

import (
	"errors"
	"net"
	"sync"
	"time"

	"github.com/pion/interceptor"
)

// rtcpSource is where Pion hands over one track's RTCP: a down-track's *webrtc.RTPSender or
// an up-track's *webrtc.RTPReceiver.
type rtcpSource interface {
	Read(b []byte) (int, interceptor.Attributes, error)
	SetReadDeadline(t time.Time) error
}

// pionRTCP drains the RTCP that Pion receives for one connection's tracks, a goroutine per
// track, but only while the connection's direct path does not take that RTCP off the socket
// itself. Once it does (the usual case: a UDP pair on the MediaNet), Pion is handed no RTCP
// and the readers would sit blocked for the whole call: 320 goroutines at 20 rooms, each with
// its stack and a packet buffer (docs/performance.md). A reader stops when the path goes
// direct and starts again if it falls back to Pion (a TCP or relayed pair after an ICE
// restart), so a connection's RTCP always has a reader on the side that receives it.
type pionRTCP struct {
	mu      sync.Mutex // guards the following fields and every reader's
	direct  bool       // the direct path takes this connection's RTCP
	readers map[*rtcpReader]struct{}
}

type rtcpReader struct {
	src     rtcpSource
	handle  func(b []byte) // called on the reader's goroutine
	running bool
}

func newPionRTCP() *pionRTCP {
	return &pionRTCP{readers: map[*rtcpReader]struct{}{}}
}

// add drains src's RTCP into handle while the connection needs it; remove undoes it.
func (g *pionRTCP) add(src rtcpSource, handle func(b []byte)) *rtcpReader {
	r := &rtcpReader{src: src, handle: handle}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.readers[r] = struct{}{}
	if !g.direct {
		g.startLocked(r)
	}
	return r
}

// remove forgets r; its goroutine, if any, ends when Pion closes src.
func (g *pionRTCP) remove(r *rtcpReader) {
	g.mu.Lock()
	defer g.mu.Unlock()
	delete(g.readers, r)
}

// setDirect tells whether the direct path takes the connection's RTCP from now on: the
// readers are stopped (their blocked reads time out at once) or started again. A nil g (a
// path made without one, in tests) has no readers.
func (g *pionRTCP) setDirect(direct bool) {
	if g == nil {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.direct == direct {
		return
	}
	g.direct = direct
	for r := range g.readers {
		switch {
		case direct && r.running:
			// A source whose stream does not exist yet ignores this; its reader stays, as
			// before this type existed.
			_ = r.src.SetReadDeadline(time.Now())
		case !direct && !r.running:
			g.startLocked(r)
		}
	}
}

func (g *pionRTCP) startLocked(r *rtcpReader) {
	_ = r.src.SetReadDeadline(time.Time{})
	r.running = true
	go g.read(r)
}

func (g *pionRTCP) read(r *rtcpReader) {
	buf := make([]byte, maxPacket) // ReadRTCP would allocate one per packet
	for {
		n, _, err := r.src.Read(buf)
		if err == nil {
			r.handle(buf[:n])
			continue
		}
		if !g.keepReading(r, err) {
			return
		}
	}
}

// keepReading decides after a failed read: a timeout while the path is no longer direct was
// a stop that came too late, so reading goes on; anything else ends the reader.
func (g *pionRTCP) keepReading(r *rtcpReader, err error) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	var ne net.Error
	_, listed := g.readers[r]
	if listed && !g.direct && errors.As(err, &ne) && ne.Timeout() {
		_ = r.src.SetReadDeadline(time.Time{})
		return true
	}
	r.running = false
	return false
}
