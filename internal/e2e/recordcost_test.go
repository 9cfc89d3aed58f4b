package e2e

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"ringside/internal/app"
	"ringside/internal/client"
	"ringside/internal/httpapi"
	"ringside/internal/media"
)

// costSessionLength is how long each measured call lasts once media flows.
const costSessionLength = 15 * time.Second

// costAdminToken is the admin token of the benchmark's server.
const costAdminToken = "e2e-cost-admin-token-0123456789"

// userHZ is the unit of utime and stime in /proc/PID/stat (fixed at 100 on Linux).
const userHZ = 100

// BenchmarkRecordingCost measures what recording costs the server: the same call (a rep and
// a partner, each publishing Opus audio and 300 kbit/s VP8 video, for costSessionLength) runs
// through one `ringside serve` process once recorded and once not, in alternating order, and
// the server process's CPU time (user + system, from /proc) is taken while media flows, and
// then while the session ends, which for a recorded one finalizes its files. The server runs
// as its own process so that the peers' CPU is not counted.
//
// It reports the CPU time of each kind of call and the extra CPU of recording while the call
// runs, in percent (target: at most 15 %), and apart from it what ending a recorded session
// costs more than ending another: a fixed cost per session (rewriting each file with its
// index), which in a 15-second call would weigh as much as the recording itself and in a
// half-hour one nothing. Run it with `go test -run '^$' -bench RecordingCost -benchtime 3x
// ./internal/e2e/`; more iterations average out a shared machine's noise.
func BenchmarkRecordingCost(b *testing.B) {
	bin := costBuild(b)
	port := freePortTB(b)
	dataDir := b.TempDir()
	srv := costServe(b, bin, dataDir, port)
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	api := httpapi.NewClient(base, costAdminToken, nil)
	wsURL := fmt.Sprintf("ws://127.0.0.1:%d/ws", port)

	// One call of each kind first, unmeasured: the server's first sessions warm its caches.
	costSession(b, api, wsURL, dataDir, srv.Process.Pid, false)
	costSession(b, api, wsURL, dataDir, srv.Process.Pid, true)

	var (
		plain, recorded           time.Duration // while the calls ran
		plainEnded, recordedEnded time.Duration // while their sessions ended
		n                         int
	)
	for b.Loop() {
		i := n
		n++
		order := []bool{false, true}
		if i%2 == 1 {
			order = []bool{true, false}
		}
		for _, record := range order {
			cpu, ending := costSession(b, api, wsURL, dataDir, srv.Process.Pid, record)
			b.Logf("iteration %d, recorded %-5v: server CPU %v during the call (user %v, system %v), %v ending it",
				i, record, cpu.total(), cpu.user, cpu.system, ending.total())
			if record {
				recorded += cpu.total()
				recordedEnded += ending.total()
			} else {
				plain += cpu.total()
				plainEnded += ending.total()
			}
		}
	}
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(float64(plain.Milliseconds())/float64(n), "cpu-ms-unrecorded/call")
	b.ReportMetric(float64(recorded.Milliseconds())/float64(n), "cpu-ms-recorded/call")
	if plain > 0 {
		b.ReportMetric(100*(float64(recorded)/float64(plain)-1), "%-extra-cpu-recording")
	}
	b.ReportMetric(float64((recordedEnded-plainEnded).Milliseconds())/float64(n), "cpu-ms-finalize/session")
}

// costSession runs one call and returns the server's CPU time while media flows both ways
// (for costSessionLength), and then while the session ends (which finalizes a recording's
// files).
func costSession(b *testing.B, api *httpapi.Client, wsURL, dataDir string, pid int, record bool) (call, ending cpuTimes) {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	created, err := api.CreateSession(ctx, httpapi.CreateSessionRequest{Title: "Cost", Record: &record})
	if err != nil {
		b.Fatal(err)
	}
	token := func(url string) string { return url[strings.LastIndexByte(url, '/')+1:] }
	rep, stopRep := costDial(b, wsURL, token(created.Invites.Rep))
	defer stopRep()
	partner, stopPartner := costDial(b, wsURL, token(created.Invites.Partner))
	defer stopPartner()
	costFlowing(b, partner, rep.ID())
	costFlowing(b, rep, partner.ID())

	before := procCPUTime(b, pid)
	time.Sleep(costSessionLength)
	mid := procCPUTime(b, pid)
	if _, err := api.EndSession(ctx, created.ID); err != nil { // finalizes the recording first
		b.Fatal(err)
	}
	call, ending = mid.sub(before), procCPUTime(b, pid).sub(mid)

	// The recorded call was recorded, the other was not.
	files, _ := filepath.Glob(filepath.Join(dataDir, app.RecordingsDir, created.ID, "*.webm"))
	if record && len(files) != 4 || !record && len(files) != 0 {
		b.Fatalf("recorded %v: %d files, want %d", record, len(files), map[bool]int{true: 4}[record])
	}
	return call, ending
}

// costDial joins with token and publishes the fixtures in a loop until stop is called.
func costDial(b *testing.B, wsURL, token string) (*client.Client, func()) {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	c, err := client.Dial(ctx, client.Config{URL: wsURL, Token: token, Publish: client.Audio | client.Video})
	if err != nil {
		b.Fatalf("dial: %v", err)
	}
	pctx, stopPublishing := context.WithCancel(context.Background())
	done := make(chan struct{}, 2)
	go func() { _ = media.PublishLoop(pctx, c.AudioTrack(), media.Fixture("audio.ogg")); done <- struct{}{} }()
	go func() { _ = media.PublishLoop(pctx, c.VideoTrack(), media.Fixture("video.ivf")); done <- struct{}{} }()
	return c, func() {
		stopPublishing()
		<-done
		<-done
		_ = c.Close()
	}
}

// costFlowing waits until c receives video from the participant from.
func costFlowing(b *testing.B, c *client.Client, from string) {
	b.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		if s, _ := c.Track(from, video); s.Packets >= 30 {
			return
		}
		if time.Now().After(deadline) {
			b.Fatalf("no video from %s", from)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// cpuTimes is a process's CPU time so far, in user and in system (kernel) mode.
type cpuTimes struct{ user, system time.Duration }

func (c cpuTimes) total() time.Duration { return c.user + c.system }

func (c cpuTimes) sub(d cpuTimes) cpuTimes { return cpuTimes{c.user - d.user, c.system - d.system} }

// procCPUTime reads process pid's CPU time from /proc/PID/stat.
func procCPUTime(b *testing.B, pid int) cpuTimes {
	b.Helper()
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		b.Fatalf("server CPU time: %v", err)
	}
	// The command name (field 2) may hold spaces; the fields after it follow its closing ')'.
	fields := strings.Fields(string(raw[bytes.LastIndexByte(raw, ')')+1:]))
	if len(fields) < 13 {
		b.Fatalf("server CPU time: short /proc/%d/stat", pid)
	}
	utime, err1 := strconv.ParseInt(fields[11], 10, 64) // field 14
	stime, err2 := strconv.ParseInt(fields[12], 10, 64) // field 15
	if err1 != nil || err2 != nil {
		b.Fatalf("server CPU time: /proc/%d/stat: %v %v", pid, err1, err2)
	}
	tick := func(n int64) time.Duration { return time.Duration(n) * time.Second / userHZ }
	return cpuTimes{tick(utime), tick(stime)}
}

// costBuild builds the ringside command.
func costBuild(b *testing.B) string {
	b.Helper()
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		b.Fatal(err)
	}
	bin := filepath.Join(b.TempDir(), "ringside")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/ringside")
	cmd.Dir = filepath.Dir(strings.TrimSpace(string(out)))
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func freePortTB(tb testing.TB) int {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// costServe starts `ringside serve` on dataDir, quiet (warnings only) and without the embedded
// TURN server, and waits until it is healthy; it is killed when the benchmark ends.
func costServe(b *testing.B, bin, dataDir string, port int) *exec.Cmd {
	b.Helper()
	cmd := exec.Command(bin, "serve", "--listen", fmt.Sprintf("127.0.0.1:%d", port), "--data", dataDir,
		"--log-level", "warn", "--turn-port", "0")
	cmd.Env = append(os.Environ(), "RINGSIDE_ADMIN_TOKEN="+costAdminToken)
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if b.Failed() {
			b.Logf("server log:\n%s", logs.String())
		}
	})
	url := fmt.Sprintf("http://127.0.0.1:%d/healthz", port)
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return cmd
			}
		}
		if time.Now().After(deadline) {
			b.Fatalf("server not healthy: %v\n%s", err, logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}
