package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"ringside/internal/app"
	"ringside/internal/app/apptest"
	"ringside/internal/client"
)

// smallDisk mounts a tmpfs of size bytes at dir for the test. Mounting needs root, which make
// test has (CI runs as root); elsewhere the test fails and says why.
func smallDisk(t *testing.T, dir, size string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput(); err != nil {
		t.Fatalf("mounting a %s tmpfs for the full-disk test needs root (make test runs as root): %v: %s", size, err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", "-l", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})
}

// TestFullDiskStopsRecordingNotCall records onto a tiny file system: when it fills, every
// participant is told the recording failed, and the call goes on undisturbed.
func TestFullDiskStopsRecordingNotCall(t *testing.T) {
	dataDir := t.TempDir()
	smallDisk(t, filepath.Join(dataDir, app.RecordingsDir), "256k")
	srv := apptest.Start(t, apptest.WithDataDir(dataDir))
	_, _, tokens := srv.CreateSession(t, "Full disk")

	rep := dial(t, srv.WSURL, tokens["rep"], client.Audio|client.Video)
	partner := dial(t, srv.WSURL, tokens["partner"], client.Audio|client.Video)
	for _, c := range []*client.Client{rep, partner} {
		waitFor(t, "the recording to fail on the full disk", 60*time.Second, func() bool {
			r, ok := c.Recording()
			return ok && r.State == "failed"
		})
	}
	if r, _ := rep.Recording(); r.Reason == "" {
		t.Errorf("the failure carries no reason")
	}
	// The call goes on after the failure, without a gap.
	for _, pair := range []struct {
		c    *client.Client
		from string
	}{{rep, partner.ID()}, {partner, rep.ID()}} {
		for _, k := range []webrtc.RTPCodecType{audio, video} {
			flowing(t, pair.c, pair.from, k, 30)
			if s, _ := pair.c.Track(pair.from, k); s.MaxInterArrival > 500*time.Millisecond {
				t.Errorf("%s gapped by %s around the disk failure", k, s.MaxInterArrival)
			}
		}
	}
	for _, c := range []*client.Client{rep, partner} {
		if !c.Connected() {
			t.Errorf("a participant was disconnected by the disk failure")
		}
		for _, e := range c.Errors() {
			t.Errorf("error sent to a participant: %+v", e)
		}
	}
	if _, ok := rep.Ended(); ok {
		t.Errorf("the call ended")
	}
}
