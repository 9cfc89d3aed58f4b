package apptest

import (
	"context"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"ringside/internal/client"
	"ringside/internal/media"
)

// Dial joins wsURL with cfg (its URL set to wsURL) and loops the test fixtures on whatever it
// publishes until the test ends.
func Dial(t testing.TB, wsURL string, cfg client.Config) *client.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cfg.URL = wsURL
	c, err := client.Dial(ctx, cfg)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	stop := media.LoopFixtures(c.AudioTrack(), c.VideoTrack())
	t.Cleanup(func() {
		stop()
		_ = c.Close()
	})
	return c
}

// WaitFor polls cond until it holds, failing the test after d.
func WaitFor(t testing.TB, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Flowing waits until c has received n more packets of kind from the participant from.
func Flowing(t testing.TB, c *client.Client, from string, kind webrtc.RTPCodecType, n uint64) {
	t.Helper()
	count := func() uint64 {
		st, _ := c.Track(from, kind)
		return st.Packets
	}
	start := count()
	WaitFor(t, kind.String()+" from "+from, 20*time.Second, func() bool { return count() >= start+n })
}
