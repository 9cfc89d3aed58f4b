package sfu

import (
	"fmt"
	"time"

	"github.com/pion/dtls/v3"
	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/interceptor/pkg/nack"
	"github.com/pion/interceptor/pkg/report"
	"github.com/pion/interceptor/pkg/twcc"
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

// NewAPI builds the Pion API every PeerConnection of the server is made from.
func NewAPI(cfg Config) (*webrtc.API, error) {
	m := &webrtc.MediaEngine{}
	if err := m.RegisterCodec(OpusCodec, webrtc.RTPCodecTypeAudio); err != nil {
		return nil, fmt.Errorf("sfu: register opus: %w", err)
	}
	if err := m.RegisterCodec(VP8Codec, webrtc.RTPCodecTypeVideo); err != nil {
		return nil, fmt.Errorf("sfu: register vp8: %w", err)
	}
	if err := m.RegisterHeaderExtension(webrtc.RTPHeaderExtensionCapability{URI: AudioLevelURI},
		webrtc.RTPCodecTypeAudio); err != nil {
		return nil, fmt.Errorf("sfu: register audio level: %w", err)
	}

	reg := &interceptor.Registry{}
	if err := registerInterceptors(m, reg); err != nil {
		return nil, err
	}

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

	return webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(reg),
		webrtc.WithSettingEngine(se)), nil
}

// registerInterceptors adds NACK (generator for what we receive, responder for what we send),
// RTCP sender/receiver reports and TWCC feedback for publishers' bandwidth estimation. Pion's
// stats interceptor is left out: it costs a lock and a map lookup per packet and we keep our
// own counters on the down-tracks.
func registerInterceptors(m *webrtc.MediaEngine, reg *interceptor.Registry) error {
	gen, err := nack.NewGeneratorInterceptor()
	if err != nil {
		return fmt.Errorf("sfu: nack generator: %w", err)
	}
	resp, err := nack.NewResponderInterceptor()
	if err != nil {
		return fmt.Errorf("sfu: nack responder: %w", err)
	}
	m.RegisterFeedback(webrtc.RTCPFeedback{Type: "nack"}, webrtc.RTPCodecTypeVideo)
	m.RegisterFeedback(webrtc.RTCPFeedback{Type: "nack", Parameter: "pli"}, webrtc.RTPCodecTypeVideo)
	reg.Add(resp)
	reg.Add(gen)

	rr, err := report.NewReceiverInterceptor()
	if err != nil {
		return fmt.Errorf("sfu: receiver reports: %w", err)
	}
	sr, err := report.NewSenderInterceptor()
	if err != nil {
		return fmt.Errorf("sfu: sender reports: %w", err)
	}
	reg.Add(rr)
	reg.Add(sr)

	m.RegisterFeedback(webrtc.RTCPFeedback{Type: webrtc.TypeRTCPFBTransportCC}, webrtc.RTPCodecTypeVideo)
	if err := m.RegisterHeaderExtension(webrtc.RTPHeaderExtensionCapability{URI: sdp.TransportCCURI},
		webrtc.RTPCodecTypeVideo); err != nil {
		return fmt.Errorf("sfu: twcc extension: %w", err)
	}
	fb, err := twcc.NewSenderInterceptor()
	if err != nil {
		return fmt.Errorf("sfu: twcc: %w", err)
	}
	reg.Add(fb)
	return nil
}
