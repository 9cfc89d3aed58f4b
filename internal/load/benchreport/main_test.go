package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"ringside/internal/load"
)

func TestWriteReport(t *testing.T) {
	dir := t.TempDir()
	gobench := filepath.Join(dir, "gobench.txt")
	if err := os.WriteFile(gobench, []byte(`goos: linux
BenchmarkFloor-2          	  417847	      5000 ns/op	 191.62 MB/s	       0 B/op	       0 allocs/op
BenchmarkFloor-2          	  417847	      9000 ns/op	 191.62 MB/s	       0 B/op	       0 allocs/op
BenchmarkFloor-2          	  417847	      4000 ns/op	 191.62 MB/s	       0 B/op	       0 allocs/op
BenchmarkWritePath-2      	   69480	     31766 ns/op	 103.89 MB/s	     10589 ns/forward	    1508 B/op	      13 allocs/op
PASS
`), 0o644); err != nil {
		t.Fatal(err)
	}
	levels := filepath.Join(dir, "levels")
	if err := os.Mkdir(levels, 0o755); err != nil {
		t.Fatal(err)
	}
	for rooms, loss := range map[int]float64{20: 0, 80: 3} {
		res := load.Result{Rooms: rooms, CoachesAsked: 2, CoachesPerRoom: 1, Expected: rooms * 3, Joined: rooms * 3,
			WindowSeconds: 20, PacketsSent: 1000, PacketsReceived: 2000, LossPercent: loss, ReceiversPerPacket: 2,
			Latency:   load.Quantiles{Samples: 2000, P50: 0.5, P95: 1, P99: 2},
			Server:    &load.ServerResult{CPUSeconds: 1, CPUPercent: 5, ForwardedPackets: 2000, MicrosPerForwarded: 15, RSSPerParticipantMiB: 0.4},
			Generator: &load.GeneratorResult{CPUSeconds: 2, CPUPercent: 10, MicrosPerReceivedPacket: 1000}}
		b, err := json.Marshal(res)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(levels, "level-"+strconv.Itoa(rooms)+"-1.json"), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	profile := filepath.Join(dir, "profile.txt")
	if err := os.WriteFile(profile, []byte(`      flat  flat%   sum%        cum   cum%
         0     0%     0%      1.74s 58.39%  ringside/sfu.(*UpTrack).run
     0.81s 30.00% 30.00%      0.66s 24.44%  syscall.sendto
`), 0o644); err != nil {
		t.Fatal(err)
	}
	features := filepath.Join(dir, "features.txt")
	if err := os.WriteFile(features, []byte(`BenchmarkRecordingCost-2   	       3	         0 ns/op	      4200 cpu-ms-recorded/session	      4000 cpu-ms-unrecorded/session	         5 %-extra-cpu-recording
BenchmarkRecordingCost-2   	       3	         0 ns/op	      4300 cpu-ms-recorded/session	      4000 cpu-ms-unrecorded/session	         7.5 %-extra-cpu-recording
BenchmarkRecordingCost-2   	       3	         0 ns/op	      4100 cpu-ms-recorded/session	      4000 cpu-ms-unrecorded/session	         2.5 %-extra-cpu-recording
`), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "benchmarks.md")
	r := report{gobench: gobench, levels: levels, profile: profile, features: features, out: out,
		started: "2026-01-02T03:04:05Z", seconds: 100}
	if err := r.write(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	for _, want := range []string{
		"| 20 | 1 | 60 | 2.00 | 100 | 5% | 10% | 15.0 | 5.0 | 3.0× | 0.40 MiB |",
		"Largest level held (< 1 % loss, every join succeeded): 20 rooms.",
		"| 80 | 1 | 1 | 240 | 0 | 20 s |",
		"**no** |",
		"| 58.4% | up-track readers",
		"| 24.4% | UDP send system calls",
		"| WritePath | 1 | 31766.0 | 10589 | 1508 | 13 |",
		"| Floor | 3 | 5000.0 |",
		"one coach invite per session",
		"2026-01-02 03:04 UTC",
		"| RecordingCost | 3 | 5 %-extra-cpu-recording; 4200 cpu-ms-recorded/session; 4000 cpu-ms-unrecorded/session |",
	} {
		if !strings.Contains(doc, want) {
			t.Errorf("report lacks %q:\n%s", want, doc)
		}
	}
}

func TestMedianRun(t *testing.T) {
	run := func(us float64) load.Result { return load.Result{Server: &load.ServerResult{MicrosPerForwarded: us}} }
	if got := median([]load.Result{run(30), run(10), run(20)}).Server.MicrosPerForwarded; got != 20 {
		t.Errorf("median of 30, 10, 20 = %v", got)
	}
	if got := median([]load.Result{run(30), run(10)}).Server.MicrosPerForwarded; got != 10 {
		t.Errorf("median of 30, 10 = %v, want the lower middle", got)
	}
}
