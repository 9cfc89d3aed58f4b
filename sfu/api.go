package sfu

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"fmt"
	"sync"
	"time"

	"github.com/pion/dtls/v3"
	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
)

// Codecs the SFU negotiates. Only these two are recorded and forwarded: restricting the media
// engine makes every browser agree on them.
var (
	OpusCodec = webrtc.RTPCodecParameters{
		RTPCodecCapability: webrtc.RTPCodecCapability{
			MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2,
			SDPFmtpLine: "minptime=10;useinbandfec=1",
		},
		PayloadType: 111,
	}
	VP8Codec = webrtc.RTPCodecParameters{
		RTPCodecCapability: webrtc.RTPCodecCapability{
			MimeType: webrtc.MimeTypeVP8, ClockRate: 90000,
			RTCPFeedback: []webrtc.RTCPFeedback{{Type: "goog-remb"}, {Type: "ccm", Parameter: "fir"}},
		},
		PayloadType: 96,
	}
)

// AudioLevelURI is the RFC 6464 header extension, negotiated for talk analytics.
const AudioLevelURI = sdp.AudioLevelURI

// certLifetime is how long one DTLS certificate serves new connections before the next is
// made. Pion's certificates expire after a month; a connection keeps the one it started with.
const certLifetime = 7 * 24 * time.Hour

// API makes the server's PeerConnections. Up connections only receive media and down
// connections only send it. Neither has Pion's interceptors: the feedback each direction
// needs is the tracks' own, so that it also covers what the direct receiver and sender move
// past Pion's stack.
type API struct {
	upEngine, downEngine *webrtc.MediaEngine
	settings             webrtc.SettingEngine // copied for each connection's own hooks
	direct               *MediaNet            // nil: connections receive and send through Pion only

	mu      sync.Mutex // guards the following fields
	cert    webrtc.Certificate
	certAge time.Time
}

// NewAPI builds the Pion APIs every PeerConnection of the server is made from.
func NewAPI(cfg Config) (*API, error) {
	se := webrtc.SettingEngine{LoggerFactory: newPionLogs(cfg.Logger)}
	// AES-GCM first: several times cheaper per packet than AES-CM + HMAC-SHA1 in Pion.
	se.SetSRTPProtectionProfiles(dtls.SRTP_AEAD_AES_128_GCM, dtls.SRTP_AES128_CM_HMAC_SHA1_80)
	// mDNS would send multicast queries onto the host's network; browsers reach us through our
	// host candidates (their own become peer-reflexive), so we neither need nor want it.
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetIncludeLoopbackCandidate(cfg.IncludeLoopback)
	if err := cfg.Media.configure(&se, cfg); err != nil {
		return nil, err
	}
	if cfg.PublicIP != "" {
		se.SetNAT1To1IPs([]string{cfg.PublicIP}, webrtc.ICECandidateTypeHost)
	}
	// A phone switching networks loses ICE for a few seconds; don't give up on it too soon.
	se.SetICETimeouts(5*time.Second, 25*time.Second, 2*time.Second)

	upEngine, err := upEngine()
	if err != nil {
		return nil, err
	}
	downEngine, err := mediaEngine()
	if err != nil {
		return nil, err
	}
	a := &API{upEngine: upEngine, downEngine: downEngine, settings: se}
	if !cfg.PionReceive {
		a.direct = cfg.Media
	}
	if _, err := a.certificate(); err != nil {
		return nil, err
	}
	return a, nil
}

// NewUp makes an up connection: it receives what a participant publishes.
func (a *API) NewUp() (*webrtc.PeerConnection, error) {
	pc, _, err := a.newUp()
	return pc, err
}

// NewDown makes a down connection: it sends a participant what the policy grants them.
func (a *API) NewDown() (*webrtc.PeerConnection, error) {
	pc, _, err := a.newDown()
	return pc, err
}

// newUp makes an up connection with the keyCatcher of its DTLS handshake (nil when it
// receives through Pion only).
func (a *API) newUp() (*webrtc.PeerConnection, *keyCatcher, error) { return a.newConn(a.upEngine) }

// newDown makes a down connection with the keyCatcher of its DTLS handshake (nil when it
// sends through Pion only).
func (a *API) newDown() (*webrtc.PeerConnection, *keyCatcher, error) {
	return a.newConn(a.downEngine)
}

// newConn makes a connection with an API of its own, for its keyCatcher's hooks: Pion copies
// the media engine for every connection anyway. The API has no interceptors: what they did is
// done by the up-tracks (feedback: NACKs, receiver reports, TWCC) and down-tracks (NACK
// history, sender reports), on packets that the direct receiver and sender move past Pion.
func (a *API) newConn(engine *webrtc.MediaEngine) (*webrtc.PeerConnection, *keyCatcher, error) {
	se := a.settings
	var keys *keyCatcher
	if a.direct != nil {
		keys = &keyCatcher{}
		keys.configure(&se)
	}
	api := webrtc.NewAPI(webrtc.WithMediaEngine(engine),
		webrtc.WithInterceptorRegistry(&interceptor.Registry{}), webrtc.WithSettingEngine(se))
	pc, err := a.newPC(api)
	return pc, keys, err
}

func (a *API) newPC(api *webrtc.API) (*webrtc.PeerConnection, error) {
	cert, err := a.certificate()
	if err != nil {
		return nil, err
	}
	return api.NewPeerConnection(webrtc.Configuration{Certificates: []webrtc.Certificate{cert}})
}

// certificate returns the DTLS certificate for a new connection. Sharing one spares every
// join an ECDSA key generation and a certificate of its own in memory; the fingerprint the
// SDP carries is then the server's, the same for everyone, so it tells nobody anything.
func (a *API) certificate() (webrtc.Certificate, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if !a.certAge.IsZero() && time.Since(a.certAge) < certLifetime {
		return a.cert, nil
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return webrtc.Certificate{}, fmt.Errorf("sfu: dtls key: %w", err)
	}
	cert, err := webrtc.GenerateCertificate(key)
	if err != nil {
		return webrtc.Certificate{}, fmt.Errorf("sfu: dtls certificate: %w", err)
	}
	a.cert, a.certAge = *cert, time.Now()
	return a.cert, nil
}

// mediaEngine registers the two codecs, with the RTCP feedback browsers should send about
// what they receive.
func mediaEngine() (*webrtc.MediaEngine, error) {
	m := &webrtc.MediaEngine{}
	if err := m.RegisterCodec(OpusCodec, webrtc.RTPCodecTypeAudio); err != nil {
		return nil, fmt.Errorf("sfu: register opus: %w", err)
	}
	if err := m.RegisterCodec(VP8Codec, webrtc.RTPCodecTypeVideo); err != nil {
		return nil, fmt.Errorf("sfu: register vp8: %w", err)
	}
	m.RegisterFeedback(webrtc.RTCPFeedback{Type: "nack"}, webrtc.RTPCodecTypeVideo)
	m.RegisterFeedback(webrtc.RTCPFeedback{Type: "nack", Parameter: "pli"}, webrtc.RTPCodecTypeVideo)
	return m, nil
}

// upEngine is the receiving side's media engine: the codecs, the audio-level extension for
// talk analytics and TWCC for the publishers' bandwidth estimation. Its feedback (NACKs,
// receiver reports, TWCC) is the up-tracks' (feedback.go). Pion's stats interceptor is left
// out on both sides: it costs a lock and a map lookup per packet and we keep our own counters.
func upEngine() (*webrtc.MediaEngine, error) {
	m, err := mediaEngine()
	if err != nil {
		return nil, err
	}
	if err := m.RegisterHeaderExtension(webrtc.RTPHeaderExtensionCapability{URI: AudioLevelURI},
		webrtc.RTPCodecTypeAudio); err != nil {
		return nil, fmt.Errorf("sfu: register audio level: %w", err)
	}
	m.RegisterFeedback(webrtc.RTCPFeedback{Type: webrtc.TypeRTCPFBTransportCC}, webrtc.RTPCodecTypeVideo)
	if err := m.RegisterHeaderExtension(webrtc.RTPHeaderExtensionCapability{URI: sdp.TransportCCURI},
		webrtc.RTPCodecTypeVideo); err != nil {
		return nil, fmt.Errorf("sfu: twcc extension: %w", err)
	}
	return m, nil
}
