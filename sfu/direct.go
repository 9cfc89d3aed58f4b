package sfu

import (
	"encoding/binary"
	"log/slog"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/srtp/v3"
	"github.com/pion/webrtc/v4"
)

// directReceiver takes a publisher's SRTP packets off the server's socket as ICE's read loop
// reads them, decrypts them and hands them to their up-track, all on that one goroutine.
// Through Pion a packet crosses three buffers and four goroutines before an up-track sees it
// (ICE's read loop, the DTLS/SRTP demultiplexer, the SRTP session, the track's reader), which
// costs more CPU than everything else a forwarded packet needs (docs/performance.md).
//
// Only RTP from the selected candidate pair's remote address, for an SSRC whose up-track is
// published, on a UDP socket of the MediaNet, goes this way; STUN, DTLS, RTCP and everything
// else still goes through Pion, and so does all of it when the keys are not known (the server
// was not the DTLS server) or the first packet fails to decrypt with them.
type directReceiver struct {
	path
	tracks atomic.Pointer[map[uint32]*UpTrack] // copy on write under mu
	// Guarded by mu: verified, a packet decrypted with ctx, so its keys are right; rtcpBuf.
	verified bool
	rtcpBuf  []byte
}

// path is what the direct receiver and sender share: the connection's SRTP context, made once
// the keys are known, and the socket and remote address of its selected pair.
type path struct {
	keys  *keyCatcher
	media *MediaNet
	pion  *pionRTCP // told whether the path takes the connection's RTCP
	log   *slog.Logger

	rtcpTaken atomic.Uint64 // RTCP packets taken off the socket

	mu     sync.Mutex // guards the following fields, and the owner's; serializes SRTP
	ctx    *srtp.Context
	off    bool // keys unknown or wrong, or closed: Pion does it all
	at     *trackedConn
	remote netip.AddrPort
}

// moveLocked points p at pair's socket and remote address, making the context first (local:
// the server's, to send; else the peer's, to receive). It reports whether p has a route; if
// not, it logs why under fallback. The caller holds p.mu.
func (p *path) moveLocked(pair *webrtc.ICECandidatePair, local bool, fallback string) bool {
	p.at = nil
	if p.off {
		return false
	}
	if p.ctx == nil {
		ctx, err := p.keys.context(local)
		if err != nil {
			p.off = true
			p.log.Debug(fallback, "why", err)
			return false
		}
		p.ctx = ctx
	}
	conn, remote, ok := p.media.route(pair)
	if !ok {
		if pair != nil {
			p.log.Debug(fallback, "pair", pair.String())
		}
		return false
	}
	p.at, p.remote = conn, remote
	return true
}

func newDirectReceiver(keys *keyCatcher, media *MediaNet, pion *pionRTCP, log *slog.Logger) *directReceiver {
	d := &directReceiver{path: path{keys: keys, media: media, pion: pion, log: log}, rtcpBuf: make([]byte, maxPacket)}
	d.tracks.Store(&map[uint32]*UpTrack{})
	return d
}

// attach routes the remote address of the connection's selected pair to d, once the
// connection is up (DTLS done: the keys are known). A pair that is not UDP, or not on one
// of the MediaNet's sockets, leaves the packets to Pion.
func (d *directReceiver) attach(pair *webrtc.ICECandidatePair) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.detachLocked()
	if d.moveLocked(pair, false, "receiving through Pion") {
		d.at.route(d.remote, d)
	}
	d.pion.setDirect(d.at != nil && d.verified)
}

func (d *directReceiver) detachLocked() {
	if d.at != nil {
		d.at.unroute(d.remote, d)
		d.at = nil
	}
}

// close stops taking packets.
func (d *directReceiver) close() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.off = true
	d.detachLocked()
}

// add has t's packets taken directly; the caller holds t.rmu.
func (d *directReceiver) add(t *UpTrack) {
	d.updateTracks(func(m map[uint32]*UpTrack) { m[t.ssrc] = t })
}

func (d *directReceiver) remove(t *UpTrack) {
	d.updateTracks(func(m map[uint32]*UpTrack) {
		if m[t.ssrc] == t {
			delete(m, t.ssrc)
		}
	})
}

func (d *directReceiver) updateTracks(f func(map[uint32]*UpTrack)) {
	d.mu.Lock()
	defer d.mu.Unlock()
	old := *d.tracks.Load()
	m := make(map[uint32]*UpTrack, len(old)+1)
	for k, v := range old {
		m[k] = v
	}
	f(m)
	d.tracks.Store(&m)
}

// receive is given an SRTP or SRTCP packet from the routed address by the socket's reader.
// It reports whether it took the packet; one it did not take goes on to Pion.
func (d *directReceiver) receive(b []byte) bool {
	if !isRTP(b) {
		return d.receiveRTCP(b)
	}
	t := (*d.tracks.Load())[binary.BigEndian.Uint32(b[8:12])]
	if t == nil {
		return false
	}
	return t.receiveSRTP(d, b)
}

// receiveRTCP takes the publisher's RTCP once a packet has decrypted with the path's keys, and
// passes the sender reports of published tracks on (for the tracks' feedback and sinks). The
// rest is for no one: with the path direct nobody reads what Pion would be handed.
func (d *directReceiver) receiveRTCP(b []byte) bool {
	d.mu.Lock()
	if d.off || !d.verified {
		d.mu.Unlock()
		return false
	}
	plain, err := d.ctx.DecryptRTCP(d.rtcpBuf[:0], b, nil)
	d.mu.Unlock()
	if err != nil {
		return false
	}
	pkts, err := rtcp.Unmarshal(plain)
	if err != nil {
		return true // decrypted but malformed: nothing for anyone
	}
	tracks := *d.tracks.Load()
	var now time.Time
	for _, p := range pkts {
		sr, ok := p.(*rtcp.SenderReport)
		if !ok {
			continue
		}
		if t := tracks[sr.SSRC]; t != nil {
			if now.IsZero() {
				now = time.Now()
			}
			t.senderReport(sr, now)
		}
	}
	d.rtcpTaken.Add(1)
	return true
}

// decrypt decrypts b into dst and its header into h. A packet that fails is dropped (a replay,
// a forgery), unless no packet has decrypted yet: then the keys are wrong, d turns itself off
// and the packet goes to Pion (ok false).
func (d *directReceiver) decrypt(dst, b []byte, h *rtp.Header) (out []byte, ok bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.off {
		return nil, false
	}
	out, err := d.ctx.DecryptRTP(dst, b, h)
	if err == nil {
		if !d.verified {
			d.verified = true
			d.pion.setDirect(d.at != nil)
		}
		return out, true
	}
	if d.verified {
		return nil, true
	}
	d.off = true
	d.detachLocked()
	d.log.Warn("direct receive turned off: the first packet did not decrypt", "err", err)
	return nil, false
}

// route is the socket and remote address of a selected candidate pair, if it is UDP on one of
// m's sockets.
func (m *MediaNet) route(pair *webrtc.ICECandidatePair) (*trackedConn, netip.AddrPort, bool) {
	if pair == nil || pair.Local == nil || pair.Remote == nil ||
		pair.Local.Protocol != webrtc.ICEProtocolUDP || pair.Remote.Protocol != webrtc.ICEProtocolUDP {
		return nil, netip.AddrPort{}, false
	}
	local, err1 := netip.ParseAddr(pair.Local.Address)
	remote, err2 := netip.ParseAddr(pair.Remote.Address)
	if err1 != nil || err2 != nil {
		return nil, netip.AddrPort{}, false
	}
	conn := m.conn(netip.AddrPortFrom(local, pair.Local.Port))
	if conn == nil {
		return nil, netip.AddrPort{}, false
	}
	return conn, routeKey(netip.AddrPortFrom(remote, pair.Remote.Port)), true
}

// routeKey is the form of a remote address that routes are kept under. It drops zones: a
// candidate's link-local address comes without one, a datagram's with its interface's.
func routeKey(ap netip.AddrPort) netip.AddrPort {
	return netip.AddrPortFrom(ap.Addr().Unmap().WithZone(""), ap.Port())
}

// isRTP reports whether a datagram is RTP (RFC 7983 and RFC 5761: first byte 128–191, and
// a second byte outside RTCP's packet types 192–223).
func isRTP(b []byte) bool {
	return len(b) >= 12 && b[0] >= 128 && b[0] <= 191 && (b[1] < 192 || b[1] > 223)
}
