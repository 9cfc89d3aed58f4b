package client

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/gorilla/websocket"
	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/webrtc/v4"
)

// Kinds is a set of media kinds a client publishes.
type Kinds uint8

// The kinds a client can publish.
const (
	Audio Kinds = 1 << iota
	Video
)

// Has reports whether k holds every kind of want.
func (k Kinds) Has(want Kinds) bool { return k&want == want }

// Defaults for Config's zero values.
const (
	DefaultSendQueue        = 256
	DefaultHandshakeTimeout = 10 * time.Second
)

// Config is what Dial needs. Only URL and Token are required.
type Config struct {
	// URL is the server's websocket endpoint, e.g. "ws://127.0.0.1:8080/ws".
	URL string
	// Token is the invite token.
	Token string
	// Resume is a resume secret to send with the first join (a participant resumed by a new
	// client); normally empty.
	Resume string
	// Publish is the set of kinds the up connection sends. With none, there is no up
	// connection and no up offer.
	Publish Kinds
	// API builds the PeerConnections; nil means NewAPI(). One API may serve many clients.
	API *webrtc.API
	// ICEServers, when not nil, replaces the welcome's iceServers (an empty slice means none).
	ICEServers []webrtc.ICEServer
	// ICETransportPolicy is both connections' candidate policy; ICETransportPolicyRelay
	// uses TURN relays only (the zero value allows every candidate).
	ICETransportPolicy webrtc.ICETransportPolicy
	// Logger receives the client's logs; nil discards them.
	Logger *slog.Logger
	// Dialer opens the websocket; nil means one with DefaultHandshakeTimeout.
	Dialer *websocket.Dialer
	// Header is sent with the websocket handshake (e.g. Origin).
	Header http.Header
	// SendQueue bounds the frames waiting for the websocket writer; 0 means DefaultSendQueue.
	SendQueue int
}

// NewAPI returns the default API: Opus and VP8 only, Pion's default interceptors (NACK, RTCP
// reports, TWCC), and mDNS candidates disabled.
func NewAPI() (*webrtc.API, error) {
	m := &webrtc.MediaEngine{}
	if err := m.RegisterCodec(webrtc.RTPCodecParameters{
		RTPCodecCapability: opusCapability(),
		PayloadType:        111,
	}, webrtc.RTPCodecTypeAudio); err != nil {
		return nil, err
	}
	if err := m.RegisterCodec(webrtc.RTPCodecParameters{
		RTPCodecCapability: vp8Capability(),
		PayloadType:        96,
	}, webrtc.RTPCodecTypeVideo); err != nil {
		return nil, err
	}
	ir := &interceptor.Registry{}
	if err := webrtc.RegisterDefaultInterceptors(m, ir); err != nil {
		return nil, err
	}
	var se webrtc.SettingEngine
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	return webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(ir),
		webrtc.WithSettingEngine(se)), nil
}

func opusCapability() webrtc.RTPCodecCapability {
	return webrtc.RTPCodecCapability{
		MimeType:    webrtc.MimeTypeOpus,
		ClockRate:   48000,
		Channels:    2,
		SDPFmtpLine: "minptime=10;useinbandfec=1",
	}
}

func vp8Capability() webrtc.RTPCodecCapability {
	return webrtc.RTPCodecCapability{
		MimeType:  webrtc.MimeTypeVP8,
		ClockRate: 90000,
		RTCPFeedback: []webrtc.RTCPFeedback{
			{Type: "goog-remb"}, {Type: "ccm", Parameter: "fir"},
			{Type: "nack"}, {Type: "nack", Parameter: "pli"},
		},
	}
}
