package client

import (
	"os"
	"testing"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/logging"
	"github.com/pion/webrtc/v4"

	"ringside/internal/proto"
)

func TestDebugUfrags(t *testing.T) {
	s := newFakeServer(t)
	s.api = taggedAPI("SERVER")
	c, err := Dial(t.Context(), Config{URL: s.url(), Token: goodToken, Publish: Audio | Video, API: taggedAPI("CLIENT")})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	feed(t, c)
	waitFor(t, c, "media", func(c *Client) bool { a, _ := c.Track(otherID, audio); return a.Packets >= 25 && peersConnected(c) })
	c.CutWebsocket()
	if err := c.Resume(t.Context()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, c, "restart", func(c *Client) bool {
		up, _ := c.Peer(proto.PCUp)
		down, _ := c.Peer(proto.PCDown)
		return len(up.RemoteSDPs) == 2 && len(down.LocalSDPs) == 2 && peersConnected(c)
	})
	for _, pc := range []proto.PC{proto.PCUp, proto.PCDown} {
		info, _ := c.Peer(pc)
		for _, s := range info.LocalSDPs {
			t.Logf("%s client local %s", pc, ufrag(s))
		}
		for _, s := range info.RemoteSDPs {
			t.Logf("%s client remote %s", pc, ufrag(s))
		}
	}
	for _, f := range c.Frames() {
		if frameType(t, f) == "candidate" {
			t.Logf("%s", f)
		}
	}
}

func taggedAPI(tag string) *webrtc.API {
	m := &webrtc.MediaEngine{}
	m.RegisterCodec(webrtc.RTPCodecParameters{RTPCodecCapability: opusCapability(), PayloadType: 111}, webrtc.RTPCodecTypeAudio)
	m.RegisterCodec(webrtc.RTPCodecParameters{RTPCodecCapability: vp8Capability(), PayloadType: 96}, webrtc.RTPCodecTypeVideo)
	ir := &interceptor.Registry{}
	webrtc.RegisterDefaultInterceptors(m, ir)
	var se webrtc.SettingEngine
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	lf := logging.NewDefaultLoggerFactory()
	lf.Writer = os.Stderr
	lf.DefaultLogLevel = logging.LogLevelWarn
	se.LoggerFactory = &prefixFactory{lf, tag}
	return webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(ir), webrtc.WithSettingEngine(se))
}

type prefixFactory struct {
	*logging.DefaultLoggerFactory
	tag string
}

func (f *prefixFactory) NewLogger(scope string) logging.LeveledLogger {
	return f.DefaultLoggerFactory.NewLogger(f.tag + "-" + scope)
}
