package e2e

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"ringside/internal/app"
	"ringside/internal/app/apptest"
	"ringside/internal/client"
	"ringside/internal/media"
	"ringside/internal/proto"
	"ringside/recorder"
)

// publishAt joins with token and starts publishing only once its up connection is connected,
// so the first packet leaves at the returned time.
func publishAt(t *testing.T, wsURL, token string) (*client.Client, time.Time) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := client.Dial(ctx, client.Config{URL: wsURL, Token: token, Publish: client.Audio | client.Video})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "up connection", 10*time.Second, func() bool {
		info, ok := c.Peer(proto.PCUp)
		return ok && info.State == webrtc.PeerConnectionStateConnected
	})
	start := time.Now()
	stop := media.LoopFixtures(c.AudioTrack(), c.VideoTrack())
	t.Cleanup(func() {
		stop()
		_ = c.Close()
	})
	return c, start
}

// TestManifestOffsetsMatchPublishTimes: peers that start publishing at known times get
// manifest offsets within 50 ms of them, for audio and video alike.
func TestManifestOffsetsMatchPublishTimes(t *testing.T) {
	srv := apptest.Start(t)
	id, _, tokens := srv.CreateSession(t, "Offsets")
	rep, repStart := publishAt(t, srv.WSURL, tokens["rep"])
	time.Sleep(1500 * time.Millisecond)
	partner, partnerStart := publishAt(t, srv.WSURL, tokens["partner"])
	flowing(t, rep, partner.ID(), video, 30)
	flowing(t, partner, rep.ID(), video, 30)
	srv.EndSession(t, id)

	m, err := recorder.ReadManifest(filepath.Join(srv.DataDir, app.RecordingsDir, id))
	if err != nil {
		t.Fatal(err)
	}
	starts := map[string]time.Time{"rep": repStart, "partner": partnerStart}
	if len(m.Tracks) != 4 {
		t.Fatalf("manifest has %d tracks, want 4: %+v", len(m.Tracks), m.Tracks)
	}
	for _, tr := range m.Tracks {
		want := starts[tr.Role].Sub(m.StartedAt).Milliseconds()
		if d := tr.StartOffsetMs - want; d < -50 || d > 50 {
			t.Errorf("%s %s starts at %d ms in the manifest, published at %d ms (off by %d ms)",
				tr.Role, tr.Kind, tr.StartOffsetMs, want, d)
		}
	}
}
