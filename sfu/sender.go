package sfu

import (
	"errors"
	"log/slog"
	"maps"
	"sync"
	"sync/atomic"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/srtp/v3"
	"github.com/pion/webrtc/v4"
)

// errNotDirect is a write the direct sender cannot take: it goes through Pion.
var errNotDirect = errors.New("sfu: no direct path")

// errRolledOver is a write neither path may take (see directSender.rolledOver).
var errRolledOver = errors.New("sfu: the direct path rolled the sequence numbers over; Pion's SRTP context cannot follow")

// directSender writes a down connection's RTP itself: it SRTP-encrypts with the server's keys
// from the connection's DTLS handshake and sends from the socket of the selected candidate
// pair to its remote address, which is all the floor does. Through Pion each write also
// crosses its interceptor chain, the SRTP session's lock, the DTLS/SRTP multiplexer and the
// ICE agent's pair bookkeeping, for every receiver of every packet.
//
// Like the direct receiver it serves only UDP pairs on the MediaNet's sockets, and only once
// the keys are known; otherwise (ICE-TCP, a relayed pair, the server was the DTLS client) the
// down-tracks write through Pion, as before.
type directSender struct {
	path
	on atomic.Bool // attached: write will send
	// Guarded by mu:
	plain, sealed []byte
	hdr           rtp.Header

	downs   atomic.Pointer[map[uint32]*DownTrack] // by their SSRC on this connection; copy on write under rmu
	rmu     sync.Mutex                            // guards rtcpBuf, serializes decrypting the receiver's RTCP
	rtcpBuf []byte
}

func newDirectSender(keys *keyCatcher, media *MediaNet, pion *pionRTCP, log *slog.Logger) *directSender {
	s := &directSender{path: path{keys: keys, media: media, pion: pion, log: log},
		plain: make([]byte, maxPacket+64), sealed: make([]byte, maxPacket+64), rtcpBuf: make([]byte, maxPacket)}
	s.downs.Store(&map[uint32]*DownTrack{})
	return s
}

// attach sends to the remote address of the connection's selected pair from now on, and takes
// the receiver's RTCP from there, if it can; a pair it cannot serve sends through Pion.
func (s *directSender) attach(pair *webrtc.ICECandidatePair) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.at != nil {
		s.at.unroute(s.remote, s)
	}
	ok := s.moveLocked(pair, true, "sending through Pion")
	if ok {
		s.at.route(s.remote, s)
	}
	s.on.Store(ok)
	s.pion.setDirect(ok)
}

func (s *directSender) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.at != nil {
		s.at.unroute(s.remote, s)
	}
	s.off, s.at = true, nil
	s.on.Store(false)
}

// track has the receiver's RTCP about ssrc handed to d (nil: to no one).
func (s *directSender) track(ssrc uint32, d *DownTrack) {
	if s == nil {
		return
	}
	s.rmu.Lock()
	defer s.rmu.Unlock()
	m := maps.Clone(*s.downs.Load())
	if d != nil {
		m[ssrc] = d
	} else {
		delete(m, ssrc)
	}
	s.downs.Store(&m)
}

// receive takes the receiver's RTCP (NACKs, keyframe requests, reports) from the socket's
// reader once the sender is on, and hands what is about tracks of this connection to their
// down-tracks; the rest is for no one (with the path direct nobody reads what Pion would be
// handed). Before, all of it goes on to Pion.
func (s *directSender) receive(b []byte) bool {
	if isRTP(b) || !s.on.Load() {
		return false
	}
	s.rmu.Lock()
	plain, err := s.remoteCtx().DecryptRTCP(s.rtcpBuf[:0], b, nil)
	s.rmu.Unlock()
	if err != nil {
		return false
	}
	pkts, err := rtcp.Unmarshal(plain)
	if err != nil {
		return true // decrypted but malformed: nothing for anyone
	}
	downs := *s.downs.Load()
	for _, p := range pkts {
		for _, ssrc := range p.DestinationSSRC() {
			if d := downs[ssrc]; d != nil {
				d.handleRTCP([]rtcp.Packet{p})
				break
			}
		}
	}
	s.rtcpTaken.Add(1)
	return true
}

// remoteCtx decrypts the receiver's SRTCP; it exists once the sender is on.
func (s *directSender) remoteCtx() *srtp.Context {
	ctx, _ := s.keys.context(false)
	return ctx
}

// rolledOver reports whether the direct sender's SRTP context has counted a rollover of ssrc's
// sequence numbers. Pion's context for the connection, which saw none of those packets, has
// not: a packet it sent now would be encrypted under a rollover count the receiver has left
// behind (so it would not decrypt), and under the counter (nonce) of a packet already sent with
// another payload, which AES-GCM must never do. So after a fall back to Pion (an ICE restart
// onto an ICE-TCP pair), a track whose sequence numbers have wrapped (within some 20 minutes of
// its start, as they start at random) is dropped rather than sent.
func (s *directSender) rolledOver(ssrc uint32) bool {
	if s == nil {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ctx == nil {
		return false
	}
	roc, ok := s.ctx.ROC(ssrc)
	return ok && roc > 0
}

// write sends one packet, returning its size, or errNotDirect if it is for Pion to send.
func (s *directSender) write(h *rtp.Header, payload []byte) (int, error) {
	if s == nil || !s.on.Load() {
		return 0, errNotDirect
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.at == nil {
		return 0, errNotDirect
	}
	pkt := rtp.Packet{Header: *h, Payload: payload}
	n, err := pkt.MarshalTo(s.plain)
	if err != nil {
		return 0, err
	}
	sealed, err := s.ctx.EncryptRTP(s.sealed[:0], s.plain[:n], &s.hdr)
	if err != nil {
		return 0, err
	}
	if _, err := s.at.WriteToAddrPort(sealed, s.remote); err != nil {
		return 0, err
	}
	return n, nil
}
