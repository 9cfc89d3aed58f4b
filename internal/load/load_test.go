package load

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"ringside/internal/app/apptest"
	"ringside/internal/rtctest"
)

// TestRunAgainstServer runs the generator for a few seconds against a whole server in the
// test process: two rooms, a coach each cycling its modes, and the server's own pid for CPU and
// memory. It checks the generator works (figures present and sane), not how fast anything is.
func TestRunAgainstServer(t *testing.T) {
	if testing.Short() {
		t.Skip("runs media for seconds")
	}
	checkGoroutines(t)
	srv := apptest.Start(t)
	var progress bytes.Buffer
	res, err := Run(t.Context(), Config{
		URL:           srv.URL,
		AdminToken:    srv.AdminToken,
		Rooms:         2,
		Coaches:       1,
		CoachMedia:    true,
		ModeInterval:  time.Second,
		Duration:      4 * time.Second,
		Warmup:        2 * time.Second,
		JoinRate:      50,
		ServerPID:     os.Getpid(),
		Progress:      &progress,
		ProgressEvery: time.Second,
	})
	if err != nil {
		t.Fatalf("run: %v\n%s", err, res)
	}
	t.Logf("\n%s", res)
	if res.Joined != 6 || res.Failed != 0 {
		t.Errorf("joined %d, failed %d (%v), want 6 and 0", res.Joined, res.Failed, res.JoinErrors)
	}
	if res.PacketsSent == 0 || res.PacketsReceived == 0 {
		t.Errorf("sent %d, received %d packets", res.PacketsSent, res.PacketsReceived)
	}
	if res.LossPercent < 0 || res.LossPercent > 100 {
		t.Errorf("loss %.2f%%", res.LossPercent)
	}
	l := res.Latency
	if l.Samples == 0 || l.P50 <= 0 || l.P50 > l.P95 || l.P95 > l.P99 || l.P99 > l.Max {
		t.Errorf("latency percentiles %+v", l)
	}
	if res.JoinToMedia.Samples == 0 || res.JoinToMedia.P50 <= 0 {
		t.Errorf("join to media %+v", res.JoinToMedia)
	}
	if res.ReceiversPerPacket <= 0 {
		t.Errorf("receivers per packet %.2f", res.ReceiversPerPacket)
	}
	if res.ModeChanges == 0 {
		t.Errorf("no coach mode change was sent")
	}
	s := res.Server
	if s == nil || s.CPUSeconds <= 0 || s.MicrosPerForwarded <= 0 || s.RSSMiB <= 0 {
		t.Errorf("server figures %+v", s)
	}
	if g := res.Generator; g == nil || g.CPUSeconds <= 0 || g.CPUPercent <= 0 || g.MicrosPerReceivedPacket <= 0 {
		t.Errorf("generator figures %+v", g)
	} else if !strings.Contains(res.String(), "load generator cpu") {
		t.Errorf("the text result has no generator line:\n%s", res)
	}
	if !strings.Contains(progress.String(), "joined 6/6") {
		t.Errorf("progress lines:\n%s", progress.String())
	}
	if _, err := json.Marshal(res); err != nil {
		t.Errorf("result does not encode: %v", err)
	}
}

func TestRunRefusesRemoteServer(t *testing.T) {
	_, err := Run(context.Background(), Config{URL: "http://192.0.2.250:8080", AdminToken: "x", Duration: time.Second})
	if !errors.Is(err, ErrNotLocal) {
		t.Fatalf("run against another machine: %v, want ErrNotLocal", err)
	}
}

func TestConfigLimits(t *testing.T) {
	for name, c := range map[string]Config{
		"no url":        {AdminToken: "x"},
		"no token":      {URL: "http://127.0.0.1:1"},
		"too many":      {URL: "http://127.0.0.1:1", AdminToken: "x", Rooms: MaxRooms + 1},
		"coaches":       {URL: "http://127.0.0.1:1", AdminToken: "x", Coaches: MaxCoaches + 1},
		"long":          {URL: "http://127.0.0.1:1", AdminToken: "x", Duration: MaxDuration + 1},
		"tiny audio":    {URL: "http://127.0.0.1:1", AdminToken: "x", AudioPayload: 3},
		"keyframe rate": {URL: "http://127.0.0.1:1", AdminToken: "x", KeyframeInterval: time.Millisecond},
	} {
		if err := c.withDefaults(); !errors.Is(err, ErrConfig) {
			t.Errorf("%s: %v, want ErrConfig", name, err)
		}
	}
}

// TestVP8Stamps checks that every packet Pion's packetizer cuts from a synthetic frame
// carries a stamp where the receiver looks for it, and that the SFU's keyframe test would see
// keyframes as such.
func TestVP8Stamps(t *testing.T) {
	for _, key := range []bool{true, false} {
		frame := make([]byte, 3000)
		vp8Frame(frame, key, 12345)
		// Cut as Pion does: a 4-byte descriptor (X, I with a 15-bit picture id), S on the first.
		for off, first := 0, true; off < len(frame); off, first = off+vp8Fragment, false {
			end := min(off+vp8Fragment, len(frame))
			desc := []byte{0x80, 0x80, 0x80, 0x01}
			if first {
				desc[0] |= 0x10
			}
			payload := append(desc, frame[off:end]...)
			i := stampOffset(webrtc.RTPCodecTypeVideo, payload)
			got, ok := readStamp(payload[i:])
			if !ok || got != 12345 {
				t.Errorf("key=%v packet at %d: stamp %d, %v", key, off, got, ok)
			}
			if first && (payload[4]&0x01 == 0) != key {
				t.Errorf("key=%v: frame tag P bit says keyframe=%v", key, payload[4]&0x01 == 0)
			}
		}
	}
}

func TestHistogram(t *testing.T) {
	var h histogram
	for i := 1; i <= 1000; i++ {
		h.add(time.Duration(i) * 10 * time.Microsecond) // 10 µs .. 10 ms
	}
	n, q := h.quantiles(0.5, 0.99, 1)
	if n != 1000 {
		t.Fatalf("count %d", n)
	}
	for i, want := range []time.Duration{5 * time.Millisecond, 9900 * time.Microsecond, 10 * time.Millisecond} {
		if d := q[i] - want; d < 0 || float64(d) > 0.07*float64(want) {
			t.Errorf("quantile %d = %s, want %s (within 7%% above)", i, q[i], want)
		}
	}
	for us := uint64(0); us < 1<<22; us = us*9/8 + 1 {
		if v := histValue(histIndex(us)); v < us {
			t.Fatalf("bucket of %d µs ends at %d", us, v)
		}
	}
}

func TestParseMetrics(t *testing.T) {
	m, err := parseMetrics(strings.NewReader(`# HELP x y
# TYPE ringside_packets_forwarded_total counter
ringside_packets_forwarded_total{kind="audio"} 10
ringside_packets_forwarded_total{kind="video",x="a b}"} 32
process_cpu_seconds_total 1.5
process_resident_memory_bytes 2.5e+07
`))
	if err != nil {
		t.Fatal(err)
	}
	if m["ringside_packets_forwarded_total"] != 42 || m["process_cpu_seconds_total"] != 1.5 ||
		m["process_resident_memory_bytes"] != 25e6 {
		t.Errorf("parsed %v", m)
	}
}

func TestProcSelf(t *testing.T) {
	cpu, err := procCPU(os.Getpid())
	if err != nil || cpu < 0 {
		t.Errorf("procCPU: %v %v", cpu, err)
	}
	rss, err := procRSS(os.Getpid())
	if err != nil || rss == 0 {
		t.Errorf("procRSS: %v %v", rss, err)
	}
}

// checkGoroutines fails the test if goroutines started during it outlive it (and the server's
// shutdown, which cleans up after it) by more than a few seconds.
func checkGoroutines(t *testing.T) {
	before := runtime.NumGoroutine()
	t.Cleanup(func() {
		deadline := time.Now().Add(10 * time.Second)
		for {
			n := runtime.NumGoroutine()
			if n <= before {
				return
			}
			if time.Now().After(deadline) {
				buf := make([]byte, 1<<20)
				buf = buf[:runtime.Stack(buf, true)]
				t.Errorf("goroutine leak: %d before, %d after\n%s", before, n, buf)
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
}

// TestLoopbackGathersOnlyLoopback: with Config.Loopback the clients offer only 127.0.0.1
// candidates, so their media takes the floor's path; without it, never loopback ones.
func TestLoopbackGathersOnlyLoopback(t *testing.T) {
	local, err := newLocalAddrs()
	if err != nil {
		t.Fatal(err)
	}
	for _, loopback := range []bool{true, false} {
		api, err := newAPI(local, newMeter(clock{t0: time.Now()}), loopback)
		if err != nil {
			t.Fatal(err)
		}
		pc, err := api.NewPeerConnection(webrtc.Configuration{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := pc.AddTransceiverFromKind(webrtc.RTPCodecTypeAudio); err != nil {
			t.Fatal(err)
		}
		var addrs []string
		for _, line := range strings.Split(rtctest.Describe(t, pc, true).SDP, "\n") {
			if f := strings.Fields(line); len(f) > 4 && strings.HasPrefix(f[0], "a=candidate:") {
				addrs = append(addrs, f[4])
			}
		}
		_ = pc.Close()
		if len(addrs) == 0 {
			t.Fatalf("loopback %v: no candidates gathered", loopback)
		}
		for _, a := range addrs {
			if (a == "127.0.0.1") != loopback {
				t.Errorf("loopback %v: candidate on %s (all: %v)", loopback, a, addrs)
			}
		}
	}
}
