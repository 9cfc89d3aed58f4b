package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"

	"ringside/internal/load"
)

// loadCmd runs `ringside load`: synthetic rooms against a server on this machine.
func loadCmd(args []string, e *env) int {
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	d := load.Defaults
	cfg := d
	var coach, asJSON bool
	logLevel := slog.LevelError
	baseURL := fs.String("url", "http://localhost:8080", "base URL of the Ringside server; must be this machine (loopback or one of its addresses)")
	fs.IntVar(&cfg.Rooms, "rooms", d.Rooms, fmt.Sprintf("sessions run at once, each with a rep and a partner publishing audio and video (at most %d)", load.MaxRooms))
	fs.BoolVar(&coach, "coach", false, "add one coach per room (same as --coaches 1)")
	fs.IntVar(&cfg.Coaches, "coaches", 0, fmt.Sprintf("coaches per room (at most %d, each with an invite of its own)", load.MaxCoaches))
	fs.BoolVar(&cfg.CoachMedia, "coach-media", true, "coaches publish audio and video too (dropped by the server while silent); false: they only watch")
	fs.DurationVar(&cfg.ModeInterval, "mode-interval", d.ModeInterval, "each coach moves on in silent → whisper → open → silent this often; 0 keeps coaches silent")
	fs.DurationVar(&cfg.Duration, "duration", d.Duration, "length of the measured window, which starts --warmup after the last join")
	fs.DurationVar(&cfg.Warmup, "warmup", d.Warmup, "time between the last join and the measured window")
	fs.Float64Var(&cfg.JoinRate, "join-rate", d.JoinRate, "joins per second (participants, in room order: rep, partner, coaches)")
	fs.BoolVar(&cfg.Storm, "storm", false, "join everyone at once instead of pacing at --join-rate")
	fs.DurationVar(&cfg.JoinTimeout, "join-timeout", d.JoinTimeout, "how long one join may take before it counts as failed")
	fs.BoolVar(&cfg.Record, "record", false, "have the server record the sessions")
	fs.BoolVar(&cfg.Loopback, "loopback", false, "carry media over 127.0.0.1 only, the path make bench's floor is measured on (the server needs serve --ice-loopback); default: this machine's interface addresses, as a phone on the LAN would")
	fs.IntVar(&cfg.AudioPayload, "audio-payload", d.AudioPayload, "bytes of each 20 ms Opus packet")
	fs.IntVar(&cfg.VideoBitrate, "video-bitrate", d.VideoBitrate, "VP8 bits per second, keyframes included")
	fs.IntVar(&cfg.FPS, "fps", d.FPS, "VP8 frames per second")
	fs.DurationVar(&cfg.KeyframeInterval, "keyframe-interval", d.KeyframeInterval, "time between VP8 keyframes")
	fs.IntVar(&cfg.ServerPID, "server-pid", 0, "pid of the server process, read in /proc for CPU per forwarded packet and RSS per participant")
	fs.StringVar(&cfg.MetricsURL, "metrics-url", "", "the server's /metrics URL, scraped with the admin token for CPU, RSS and forwarded packets (/proc wins when --server-pid is set)")
	fs.DurationVar(&cfg.ProgressEvery, "progress", d.ProgressEvery, "interval of the progress line on stderr; 0 for none")
	fs.BoolVar(&asJSON, "json", false, "print the result as JSON instead of text")
	fs.TextVar(&logLevel, "log-level", slog.LevelError, "`level` of the clients' logs on stderr: debug, info, warn or error")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the load generator itself to this `file`")
	withEnvUsage(fs, "url")
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprint(w, "Usage: ringside load [flags]\n\n")
		fmt.Fprint(w, "Runs synthetic sessions against a Ringside server on this machine through its API and\n")
		fmt.Fprint(w, "protocol, with real WebRTC peers: per room a rep and a partner publishing Opus (20 ms,\n")
		fmt.Fprint(w, "--audio-payload bytes) and VP8 (--video-bitrate, --fps, a keyframe every --keyframe-interval),\n")
		fmt.Fprint(w, "and coaches who watch or cycle their modes. Every payload carries its send time, so one-way\n")
		fmt.Fprint(w, "latency is measured; loss is sequence gaps at the receivers. At the end it prints sessions\n")
		fmt.Fprint(w, "joined/failed, packets sent/received, loss, jitter, latency p50/p95/p99, join → first media\n")
		fmt.Fprint(w, "p50/p99 and, with --server-pid or --metrics-url, server CPU per forwarded packet and RSS per\n")
		fmt.Fprint(w, "participant. The run is bounded (joins, --warmup, --duration, then everyone leaves) and stops\n")
		fmt.Fprint(w, "by itself; traffic goes only to this machine's addresses.\n\n")
		fmt.Fprintf(w, "The sessions are created with the admin token from %s.\n\n", envAdminToken)
		fmt.Fprint(w, "Example: ringside load --url http://127.0.0.1:8080 --rooms 20 --coaches 2 --coach-media=false \\\n")
		fmt.Fprint(w, "             --mode-interval 0 --duration 30s --server-pid $(pgrep -f 'ringside serve') --json\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if code, ok := parse(fs, args, e, "url"); !ok {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(e.stderr, "ringside load: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	if coach && cfg.Coaches == 0 {
		cfg.Coaches = 1
	}
	token, ok := e.lookup(envAdminToken)
	if !ok || token == "" {
		fmt.Fprintf(e.stderr, "ringside: set %s to the admin token (printed at the server's first start)\n", envAdminToken)
		return 2
	}
	cfg.URL, cfg.AdminToken = *baseURL, token
	if cfg.ProgressEvery > 0 {
		cfg.Progress = e.stderr
	}
	cfg.Logger = slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: logLevel}))

	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			fmt.Fprintf(e.stderr, "ringside load: %v\n", err)
			return 1
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintf(e.stderr, "ringside load: %v\n", err)
			return 1
		}
		defer pprof.StopCPUProfile()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := load.Run(ctx, cfg)
	if res != nil {
		if asJSON {
			enc := json.NewEncoder(e.stdout)
			enc.SetIndent("", "  ")
			_ = enc.Encode(res)
		} else {
			_ = res.WriteText(e.stdout)
		}
	}
	if err != nil {
		fmt.Fprintf(e.stderr, "ringside load: %v\n", err)
		return 1
	}
	return 0
}
