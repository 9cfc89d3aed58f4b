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
	"github.com/pion/interceptor/pkg/nack"
	"github.com/pion/interceptor/pkg/report"
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
// connections only send it, so each gets only the interceptors its direction uses: every
// interceptor costs a goroutine and a ticker per connection, and on the wrong side it ticks
// for nothing.
type API struct {
	upEngine *webrtc.MediaEngine
	settings webrtc.SettingEngine // the up connections', copied for each one's own hooks
	direct   *MediaNet            // nil: up connections receive through Pion only
	down     *webrtc.API

	mu      sync.Mutex // guards the following fields
	cert    webrtc.Certificate
	certAge time.Time
}

// NewAPI builds the Pion APIs every PeerConnection of the server is made from.
func NewAPI(cfg Config) (*API, error) {
	se := webrtc.SettingEngine{}
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
	downEngine, downReg, err := downInterceptors()
	if err != nil {
		return nil, err
	}
	a := &API{
		upEngine: upEngine,
		settings: se,
		down: webrtc.NewAPI(webrtc.WithMediaEngine(downEngine), webrtc.WithInterceptorRegistry(downReg),
			webrtc.WithSettingEngine(se)),
	}
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

// newUp makes an up connection with the keyCatcher of its DTLS handshake (nil when up
// connections receive through Pion only). Each has an API of its own for the catcher's hooks;
// Pion copies the media engine for every connection anyway, and the interceptors that matter
// on this side run in the up-tracks (feedback), so the API holds nothing else.
func (a *API) newUp() (*webrtc.PeerConnection, *keyCatcher, error) {
	se := a.settings
	var keys *keyCatcher
	if a.direct != nil {
		keys = &keyCatcher{}
		keys.configure(&se)
	}
	api := webrtc.NewAPI(webrtc.WithMediaEngine(a.upEngine),
		webrtc.WithInterceptorRegistry(&interceptor.Registry{}), webrtc.WithSettingEngine(se))
	pc, err := a.newPC(api)
	return pc, keys, err
}

// NewDown makes a down connection: it sends a participant what the policy grants them.
func (a *API) NewDown() (*webrtc.PeerConnection, error) { return a.newPC(a.down) }

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

// downInterceptors are the sending side's: the NACK responder and sender reports (which
// receivers use to sync audio and video).
func downInterceptors() (*webrtc.MediaEngine, *interceptor.Registry, error) {
	m, err := mediaEngine()
	if err != nil {
		return nil, nil, err
	}
	// The responder keeps nackHistory packets of each video track, without copying them: the
	// up-track reader and the down-tracks keep what it holds unchanged (see nackHistory).
	resp, err := nack.NewResponderInterceptor(nack.ResponderSize(nackHistory), nack.DisableCopy())
	if err != nil {
		return nil, nil, fmt.Errorf("sfu: nack responder: %w", err)
	}
	sr, err := report.NewSenderInterceptor()
	if err != nil {
		return nil, nil, fmt.Errorf("sfu: sender reports: %w", err)
	}
	reg := &interceptor.Registry{}
	reg.Add(resp)
	reg.Add(sr)
	return m, reg, nil
}
