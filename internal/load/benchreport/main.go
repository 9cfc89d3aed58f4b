// Command benchreport writes docs/benchmarks.md from what scripts/bench.sh measured: the Go
// benchmarks' output and the JSON results of `ringside load` at each level. It only formats;
// every number comes from the files it is given.
//
// Usage: go run ./internal/load/benchreport -gobench FILE -levels DIR -out docs/benchmarks.md
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"ringside/internal/load"
)

func main() {
	gobench := flag.String("gobench", "", "output of go test -bench")
	levels := flag.String("levels", "", "directory of level-<rooms>.json results")
	out := flag.String("out", "docs/benchmarks.md", "file to write")
	commands := flag.String("commands", "", "file listing the commands that were run, one per line")
	started := flag.String("started", "", "when the run started (RFC 3339)")
	seconds := flag.Float64("seconds", 0, "how long the run took")
	check := flag.Bool("check", false, "only check the runs of one level (the JSON files given as arguments): exit 0 if the median run held (< 1 % loss, every join)")
	fetch := flag.String("fetch", "", "only fetch this URL of the server (with $RINGSIDE_ADMIN_TOKEN) into -out")
	profile := flag.String("profile", "", "output of go tool pprof -top -cum of the server at the profiled level")
	features := flag.String("features", "", "output of go test -bench of the feature-cost benchmarks (recording, talk analytics)")
	flag.Parse()
	switch {
	case *check:
		os.Exit(checkLevel(flag.Args()))
	case *fetch != "":
		if err := fetchTo(*fetch, *out); err != nil {
			fmt.Fprintf(os.Stderr, "benchreport: %v\n", err)
			os.Exit(1)
		}
		return
	}
	r := report{gobench: *gobench, levels: *levels, profile: *profile, features: *features,
		out: *out, commands: *commands, started: *started, seconds: *seconds}
	if err := r.write(); err != nil {
		fmt.Fprintf(os.Stderr, "benchreport: %v\n", err)
		os.Exit(1)
	}
}

// benchLine is one benchmark's results: the median of its runs, by unit.
type benchLine struct {
	name    string
	runs    int
	metrics map[string]float64 // by unit: ns/op, B/op, allocs/op, ns/forward…
}

func parseGoBench(path string) ([]benchLine, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var order []string
	runs := map[string][]map[string]float64{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 4 || !strings.HasPrefix(fields[0], "Benchmark") {
			continue
		}
		name := fields[0]
		if i := strings.LastIndexByte(name, '-'); i > 0 {
			name = name[:i]
		}
		name = strings.TrimPrefix(name, "Benchmark")
		m := map[string]float64{}
		for i := 2; i+1 < len(fields); i += 2 {
			if v, err := strconv.ParseFloat(fields[i], 64); err == nil {
				m[fields[i+1]] = v
			}
		}
		if runs[name] == nil {
			order = append(order, name)
		}
		runs[name] = append(runs[name], m)
	}
	var out []benchLine
	for _, name := range order {
		b := benchLine{name: name, runs: len(runs[name]), metrics: map[string]float64{}}
		for unit := range runs[name][0] {
			var vs []float64
			for _, r := range runs[name] {
				if v, ok := r[unit]; ok {
					vs = append(vs, v)
				}
			}
			slices.Sort(vs)
			b.metrics[unit] = vs[len(vs)/2]
		}
		out = append(out, b)
	}
	return out, sc.Err()
}

// level is one load level: its median run (by CPU per forwarded packet) of runs.
type level struct {
	rooms int
	runs  int
	res   load.Result
}

func readResult(path string) (load.Result, error) {
	var res load.Result
	b, err := os.ReadFile(path)
	if err != nil {
		return res, err
	}
	if err := json.Unmarshal(b, &res); err != nil {
		return res, fmt.Errorf("%s: %w", path, err)
	}
	return res, nil
}

// median is the run in the middle by CPU per forwarded packet (the lower middle of an even
// number); runs without server figures sort first.
func median(runs []load.Result) load.Result {
	us := func(r load.Result) float64 {
		if r.Server == nil {
			return -1
		}
		return r.Server.MicrosPerForwarded
	}
	sorted := slices.Clone(runs)
	slices.SortStableFunc(sorted, func(a, b load.Result) int {
		switch {
		case us(a) < us(b):
			return -1
		case us(a) > us(b):
			return 1
		}
		return 0
	})
	return sorted[(len(sorted)-1)/2]
}

// readLevels reads level-<rooms>-<run>.json files (or level-<rooms>.json).
func readLevels(dir string) ([]level, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "level-*.json"))
	if err != nil {
		return nil, err
	}
	byRooms := map[int][]load.Result{}
	for _, p := range paths {
		name := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(p), "level-"), ".json")
		rooms, _, _ := strings.Cut(name, "-")
		n, err := strconv.Atoi(rooms)
		if err != nil {
			continue
		}
		res, err := readResult(p)
		if err != nil {
			return nil, err
		}
		byRooms[n] = append(byRooms[n], res)
	}
	var out []level
	for n, runs := range byRooms {
		out = append(out, level{rooms: n, runs: len(runs), res: median(runs)})
	}
	slices.SortFunc(out, func(a, b level) int { return a.rooms - b.rooms })
	return out, nil
}

// checkLevel prints the summary of a level's median run and returns 0 if it held, 1 if not,
// 2 on error.
func checkLevel(paths []string) int {
	var runs []load.Result
	for _, path := range paths {
		r, err := readResult(path)
		if err != nil {
			fmt.Fprintf(os.Stderr, "benchreport: %v\n", err)
			return 2
		}
		runs = append(runs, r)
	}
	if len(runs) == 0 {
		return 2
	}
	r := median(runs)
	us := 0.0
	if r.Server != nil {
		us = r.Server.MicrosPerForwarded
	}
	fmt.Printf("%d rooms: joined %d/%d, loss %.3f%%, latency p99 %.2f ms, %.1f µs per forwarded packet\n",
		r.Rooms, r.Joined, r.Expected, r.LossPercent, r.Latency.P99, us)
	if holds(r) {
		return 0
	}
	return 1
}

// holds reports whether a level held: everyone joined and loss stayed under 1 %.
func holds(r load.Result) bool {
	return r.Joined == r.Expected && r.Failed == 0 && r.LossPercent < 1 && r.PacketsReceived > 0
}

// report is what goes into docs/benchmarks.md: paths of the run's outputs, and when it ran.
type report struct {
	gobench, levels, profile, features string // inputs; profile and features are optional
	out, commands                      string
	started                            string // RFC 3339
	seconds                            float64
}

func (rep report) write() error {
	benches, err := parseGoBench(rep.gobench)
	if err != nil {
		return err
	}
	levels, err := readLevels(rep.levels)
	if err != nil {
		return err
	}
	bench := func(name string) (benchLine, bool) {
		i := slices.IndexFunc(benches, func(b benchLine) bool { return b.name == name })
		if i < 0 {
			return benchLine{}, false
		}
		return benches[i], true
	}
	var w strings.Builder
	p := func(format string, a ...any) { fmt.Fprintf(&w, format+"\n", a...) }

	p("# Benchmarks")
	p("")
	p("Generated by `make bench` (`scripts/bench.sh`); do not edit by hand: run it again.")
	p("")
	when := rep.started
	if t, err := time.Parse(time.RFC3339, rep.started); err == nil {
		when = t.UTC().Format("2006-01-02 15:04 MST")
	}
	p("- **Date:** %s (the run took %.0f s)", when, rep.seconds)
	p("- **Machine:** %s", machine())
	if la := loadAverage(); la != "" {
		p("- **Load average** when the report was written (1, 5, 15 min): %s", la)
	}
	p("- **Go:** %s", runtime.Version())
	p("")
	p("> The load generator runs beside the server on the same %d cores, and anything else running", runtime.NumCPU())
	p("> on the machine shares them too. Absolute figures are noisy; the ratios compare numbers")
	p("> taken in the same run.")
	p("")

	floor, haveFloor := bench("Floor")
	floorUS := floor.metrics["ns/op"] / 1000
	p("## Ringside against the floor")
	p("")
	p("The floor is the work no SFU can skip per forwarded packet: SRTP-encrypt a packet with a")
	p("1100-byte payload (AEAD_AES_128_GCM, the profile Ringside negotiates first) and send it in one")
	p("UDP datagram to 127.0.0.1 (`BenchmarkFloor`, the median of its runs before and after the load).")
	p("Ringside's figure is the server process's CPU time")
	p("(utime + stime from /proc) over the measured window divided by the packets it forwarded, at the")
	p("reference load: rooms where a rep and a partner publish Opus + VP8 and silent coaches watch.")
	p("The load's media goes over 127.0.0.1 too (`serve --ice-loopback`, `load --loopback`), so that")
	p("the server's sends take the floor's path: a send to this machine's interface address costs the")
	p("kernel about 20 %% more here (docs/performance.md).")
	p("")
	p("Levels run more than once show their median run by CPU per forwarded packet.")
	p("")
	p("| rooms | runs | participants | receivers per packet | forwarded pkt/s | server CPU | load generator CPU | µs per forwarded packet | floor µs | ratio | RSS per participant |")
	p("|---|---|---|---|---|---|---|---|---|---|---|")
	for _, l := range levels {
		r := l.res
		s := r.Server
		if s == nil {
			continue
		}
		ratio := "—"
		if haveFloor && floorUS > 0 {
			ratio = fmt.Sprintf("%.1f×", s.MicrosPerForwarded/floorUS)
		}
		gen := "—"
		if g := r.Generator; g != nil {
			gen = fmt.Sprintf("%.0f%%", g.CPUPercent)
		}
		p("| %d | %d | %d | %.2f | %.0f | %.0f%% | %s | %.1f | %.1f | %s | %.2f MiB |", l.rooms, l.runs, r.Joined,
			r.ReceiversPerPacket, s.ForwardedPackets/max(r.WindowSeconds, 1e-9), s.CPUPercent, gen,
			s.MicrosPerForwarded, floorUS, ratio, s.RSSPerParticipantMiB)
	}
	p("")
	p("CPU per forwarded packet falls as load rises: timers, RTCP and goroutine wake-ups are shared by")
	p("more packets, and a busy process hands packets between goroutines without sleeping. On loopback")
	p("a UDP send also pays for the receiving side's kernel work, in the floor as in the server.")
	p("")
	p("## Load levels")
	p("")
	p("Each level is a fresh server process; `ringside load` joins everyone, waits, then measures for the")
	p("window. Loss is sequence gaps seen by the receivers; latency is one-way, from a client handing a")
	p("packet to Pion to a client reading it, through the server (send stamps in every payload).")
	p("")
	p("| rooms | runs | coaches/room | joined | failed | window | sent pkt/s | received pkt/s | loss | jitter | latency p50 / p95 / p99 | join → media p50 / p99 | holds |")
	p("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
	largest, prompt := 0, 0
	for _, l := range levels {
		r := l.res
		ok := holds(r)
		if ok {
			largest = max(largest, l.rooms)
			if r.Latency.P99 < 5 {
				prompt = max(prompt, l.rooms)
			}
		}
		mark := "yes"
		if !ok {
			mark = "**no**"
		}
		p("| %d | %d | %d | %d | %d | %.0f s | %.0f | %.0f | %.3f%% | %.2f ms | %.2f / %.2f / %.2f ms | %.0f / %.0f ms | %s |",
			l.rooms, l.runs, r.CoachesPerRoom, r.Joined, r.Failed, r.WindowSeconds,
			float64(r.PacketsSent)/max(r.WindowSeconds, 1e-9), float64(r.PacketsReceived)/max(r.WindowSeconds, 1e-9),
			r.LossPercent, r.JitterMs, r.Latency.P50, r.Latency.P95, r.Latency.P99,
			r.JoinToMedia.P50, r.JoinToMedia.P99, mark)
	}
	p("")
	if largest > 0 {
		p("**Largest level held (< 1 %% loss, every join succeeded): %d rooms.** Largest level run that also", largest)
		p("kept p99 latency under 5 ms: %d rooms. Server and load generator share the machine, and the", prompt)
		p("generator needs more CPU than the server (its clients receive every forwarded packet through")
		p("Pion's whole receive path, which the server bypasses), so these are the machine's limits for")
		p("the pair, not the server's.")
	} else {
		p("**No level held** (< 1 %% loss with every join succeeding).")
	}
	p("")
	if coachNote(levels) {
		p("The reference load has two silent coaches per room (each published track reaching three")
		p("receivers). The API issues one coach invite per session, and a second join with the same invite")
		p("replaces the first, so these runs had one coach per room: each track reaches two receivers, and")
		p("the receive side of the server is spread over two forwards instead of three.")
		p("")
	}
	if rep.profile != "" {
		if shares, err := profileShares(rep.profile); err == nil && len(shares) > 0 {
			p("## Where the server's time goes")
			p("")
			p("A 10 s CPU profile of the server (`/debug/pprof/profile`) in the middle of the 20-room window.")
			p("Shares are of the samples taken, cumulative (a function with everything it calls), so they")
			p("overlap.")
			p("")
			p("| share | where |")
			p("|---|---|")
			for _, s := range shares {
				p("| %.1f%% | %s |", s.pct, s.what)
			}
			p("")
		}
	}
	p("## Go benchmarks")
	p("")
	p("`go test -run '^$' -bench . -benchmem ./sfu/`; the median of the runs listed.")
	p("")
	p("| benchmark | runs | ns/op | ns/forward | B/op | allocs/op | what |")
	p("|---|---|---|---|---|---|---|")
	what := map[string]string{
		"Forward":            "fan-out of one packet to 3 down-tracks (header rewrite, gate, counters), writers stubbed",
		"ReadPath":           "unmarshal + fan-out to 3 down-tracks, writers stubbed",
		"WritePath":          "fan-out to 3 real PeerConnections on loopback through the direct sender: header, SRTP, UDP",
		"WritePathPion":      "the same through Pion's write path (no MediaNet)",
		"Floor":              "floor: SRTP AES-128-GCM encrypt of a 1100-byte payload + one UDP send on loopback",
		"FloorEncrypt":       "floor, SRTP part only",
		"FloorSend":          "floor, UDP send only",
		"FloorSendInterface": "the floor's UDP send to this machine's interface address, not 127.0.0.1",
	}
	for _, b := range benches {
		fw := "—"
		if v, ok := b.metrics["ns/forward"]; ok {
			fw = fmt.Sprintf("%.0f", v)
		}
		p("| %s | %d | %.1f | %s | %.0f | %.0f | %s |", b.name, b.runs, b.metrics["ns/op"], fw,
			b.metrics["B/op"], b.metrics["allocs/op"], what[b.name])
	}
	p("")
	if rep.features != "" {
		if err := writeFeatures(p, rep.features); err != nil {
			return err
		}
	}
	if rep.commands != "" {
		if b, err := os.ReadFile(rep.commands); err == nil {
			p("## Commands")
			p("")
			p("```sh")
			w.WriteString(strings.TrimRight(string(b), "\n") + "\n")
			p("```")
			p("")
		}
	}
	return os.WriteFile(rep.out, []byte(w.String()), 0o644)
}

// featureWhat says what each feature-cost benchmark measures.
var featureWhat = map[string]string{
	"RecordingCost":  "the same 15 s call through one `ringside serve` process, recorded and not: server CPU while it runs, and what finalizing a recording adds when the session ends",
	"AnalyticsShare": "talk analytics of one audio packet against forwarding it to one receiver over a real PeerConnection (target: under 2 %)",
}

// writeFeatures adds the table of what features cost, from go test -bench output: every
// benchmark with its own metrics (ns/op is left out when a benchmark zeroes it).
func writeFeatures(p func(string, ...any), path string) error {
	benches, err := parseGoBench(path)
	if err != nil {
		return err
	}
	if len(benches) == 0 {
		return nil
	}
	p("## What features cost")
	p("")
	p("| benchmark | runs | figures (median of the runs) | what |")
	p("|---|---|---|---|")
	for _, b := range benches {
		units := slices.Sorted(maps.Keys(b.metrics))
		var figs []string
		for _, u := range units {
			v := b.metrics[u]
			if u == "ns/op" && v == 0 || u == "B/op" || u == "allocs/op" && v == 0 {
				continue
			}
			figs = append(figs, fmt.Sprintf("%s %s", strconv.FormatFloat(v, 'f', -1, 64), u))
		}
		p("| %s | %d | %s | %s |", b.name, b.runs, strings.Join(figs, "; "), featureWhat[b.name])
	}
	p("")
	return nil
}

// loadAverage is the machine's load average from /proc/loadavg, or "" off Linux.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], ", ")
}

// coachNote reports whether the runs had fewer coaches than they asked for.
func coachNote(levels []level) bool {
	for _, l := range levels {
		if l.res.CoachesPerRoom < l.res.CoachesAsked {
			return true
		}
	}
	return false
}

// machine describes the CPU, cores, memory and kernel.
func machine() string {
	cpu := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.SplitSeq(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				cpu = strings.TrimSpace(v)
				break
			}
		}
	}
	mem := ""
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for line := range strings.SplitSeq(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "MemTotal:"); ok {
				if kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64); err == nil {
					mem = fmt.Sprintf(", %.0f GiB", kb/(1<<20))
				}
			}
		}
	}
	kernel := ""
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		kernel = ", Linux " + strings.TrimSpace(string(b))
	}
	return fmt.Sprintf("%s, %d cores%s%s, %s/%s", cpu, runtime.NumCPU(), mem, kernel, runtime.GOOS, runtime.GOARCH)
}

// fetchTo GETs url with the admin token and writes the body to path.
func fetchTo(url, path string) error {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+os.Getenv("RINGSIDE_ADMIN_TOKEN"))
	resp, err := (&http.Client{Timeout: time.Minute}).Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}

type share struct {
	pct  float64
	what string
}

// profileParts are the functions whose cumulative share of the profile tells where the time
// goes, in the order shown.
var profileParts = []struct{ fn, what string }{
	{"github.com/pion/ice/v4.(*candidateBase).recvLoop", "ICE receive loops: every packet off the socket, and what it leads to"},
	{"ringside/sfu.(*directReceiver).receive", "of which the direct receiver: decrypting a published packet, feedback, forwarding"},
	{"ringside/sfu.(*UpTrack).forward", "of which forwarding to the receivers (header rewrite, SRTP, UDP)"},
	{"syscall.sendto", "UDP send system calls"},
	{"github.com/pion/srtp/v3.(*Context).encryptRTP", "SRTP encryption"},
	{"github.com/pion/srtp/v3.(*Context).decryptRTP", "SRTP decryption"},
	{"syscall.recvfrom", "UDP receive system calls"},
	{"ringside/sfu.(*streamFeedback).packet", "receive-side feedback (NACKs, receiver reports, TWCC)"},
	{"ringside/sfu.(*UpTrack).run", "up-track readers on Pion's path (packets the direct receiver left to Pion)"},
	{"github.com/pion/webrtc/v4.(*PeerConnection).WriteRTCP", "RTCP sent through Pion (feedback, sender reports, keyframe requests)"},
	{"github.com/pion/ice/v4/internal/taskloop.(*Loop).runLoop", "ICE agents (connectivity checks, consent)"},
	{"runtime.schedule", "Go scheduler (parking and waking the read loops)"},
	{"runtime.gcBgMarkWorker", "garbage collector"},
}

// profileShares reads go tool pprof -top -cum output.
func profileShares(path string) ([]share, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	cum := map[string]float64{}
	for line := range strings.SplitSeq(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 6 || !strings.HasSuffix(f[4], "%") {
			continue
		}
		v, err := strconv.ParseFloat(strings.TrimSuffix(f[4], "%"), 64)
		if err != nil {
			continue
		}
		cum[strings.Join(f[5:], " ")] = v
	}
	var out []share
	for _, part := range profileParts {
		for name, v := range cum {
			if name == part.fn || strings.HasPrefix(name, part.fn+" ") {
				out = append(out, share{pct: v, what: fmt.Sprintf("%s (`%s`)", part.what, shortName(part.fn))})
				break
			}
		}
	}
	return out, nil
}

func shortName(fn string) string {
	if i := strings.LastIndexByte(fn, '/'); i >= 0 {
		return fn[i+1:]
	}
	return fn
}
