package sfu

import (
	"errors"
	"log/slog"
	"sync/atomic"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// errNotDirect is a write the direct sender cannot take: it goes through Pion.
var errNotDirect = errors.New("sfu: no direct path")

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
}

func newDirectSender(keys *keyCatcher, media *MediaNet, log *slog.Logger) *directSender {
	return &directSender{path: path{keys: keys, media: media, log: log},
		plain: make([]byte, maxPacket+64), sealed: make([]byte, maxPacket+64)}
}

// attach sends to the remote address of the connection's selected pair from now on, if it
// can; a pair it cannot serve sends through Pion.
func (s *directSender) attach(pair *webrtc.ICECandidatePair) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.on.Store(s.moveLocked(pair, true, "sending through Pion"))
}

func (s *directSender) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.off, s.at = true, nil
	s.on.Store(false)
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
