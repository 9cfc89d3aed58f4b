// Command ringside is Ringside's one binary: the live sales-coaching server (`ringside serve`),
// a load generator (`ringside load`) and small admin helpers (`ringside session create`).
//
// It parses flags and environment variables into configuration and hands it to the packages
// that do the work (internal/app, internal/httpapi); it holds no logic of its own.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"ringside/internal/app"
	"ringside/internal/httpapi"
	"ringside/web"
)

// shutdownTimeout is how long a SIGINT or SIGTERM leaves the server to stop gracefully.
const shutdownTimeout = 10 * time.Second

// envPrefix starts the environment variable of every flag: --udp-port-min is
// RINGSIDE_UDP_PORT_MIN.
const envPrefix = "RINGSIDE_"

// serveGCPercent is the garbage collector's target of `ringside serve` unless GOGC is set: the
// heap may grow 10 % over what is live before a collection, instead of Go's 100 %. The
// server's live heap is mostly long-lived buffers and its garbage is little (the packet path
// allocates nothing; what is left is Pion's ICE keepalives, about 0.6 MB/s at 20 rooms), so
// collections stay a few seconds apart and cost about 2 % of the server's CPU, while memory
// per participant falls by 40 % (decision 27, docs/performance.md).
const serveGCPercent = 10

// envAdminToken holds the admin token; it is never a flag, so it stays out of `ps`.
const envAdminToken = "RINGSIDE_ADMIN_TOKEN"

func main() {
	reexecForMedia(os.Args[1:])
	os.Exit(run(os.Args[1:], &env{stdout: os.Stdout, stderr: os.Stderr, lookup: os.LookupEnv}))
}

// env is the process's outside world, passed in so that commands stay testable.
type env struct {
	stdout, stderr io.Writer
	lookup         func(string) (string, bool)
}

// command is one subcommand: run gets the arguments after its name and returns the exit code.
type command struct {
	name    string
	summary string
	run     func(args []string, e *env) int
}

// commands is the dispatch table of subcommands.
func commands() []command {
	return []command{
		{"serve", "run the server (the default when no command is given)", serveCmd},
		{"session", "manage sessions: session create --title T", sessionCmd},
		{"user", "manage people: user invite --email E --role R --team T prints a sign-in link", userCmd},
		{"load", "load-test a server on this machine with synthetic sessions: load --rooms N", loadCmd},
		{"version", "print the version", versionCmd},
		{"help", "show help: ringside help [command]", helpCmd},
	}
}

func run(args []string, e *env) int {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		return serveCmd(args, e)
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(args[1:], e)
		}
	}
	fmt.Fprintf(e.stderr, "ringside: unknown command %q\n\n", args[0])
	usage(e.stderr)
	return 2
}

func usage(w io.Writer) {
	fmt.Fprint(w, "Ringside: live sales-coaching calls with silent, whisper and open coaching.\n\n")
	fmt.Fprint(w, "Usage: ringside <command> [flags]\n\nCommands:\n")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, c := range commands() {
		fmt.Fprintf(tw, "  %s\t%s\n", c.name, c.summary)
	}
	tw.Flush()
	fmt.Fprint(w, "\nRun 'ringside <command> --help' for a command's flags.\n")
}

func helpCmd(args []string, e *env) int {
	if len(args) > 0 {
		for _, c := range commands() {
			if c.name == args[0] && c.name != "help" {
				return c.run([]string{"--help"}, e)
			}
		}
	}
	usage(e.stdout)
	return 0
}

func versionCmd(_ []string, e *env) int {
	fmt.Fprintln(e.stdout, app.Version())
	return 0
}

// serveCmd runs the server until SIGINT or SIGTERM.
func serveCmd(args []string, e *env) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	var cfg app.Config
	fs.StringVar(&cfg.Listen, "listen", app.DefaultListen, "TCP address of the HTTP server")
	fs.StringVar(&cfg.DataDir, "data", app.DefaultDataDir, "data directory: SQLite database and recordings")
	fs.StringVar(&cfg.DB, "db", "", "database: a SQLite file path, or a postgres:// URL to use PostgreSQL (default DATA/"+app.DefaultDBFile+")")
	fs.StringVar(&cfg.PublicURL, "public-url", "", "base URL of invite links, as phones will reach the server (default http://<listen host or localhost>:<port>; with TLS https://<this machine's address>:<port>)")
	fs.Var((*uint16Flag)(&cfg.UDPPortMin), "udp-port-min", "lowest UDP `port` for media; set with --udp-port-max (default 0: any port)")
	fs.Var((*uint16Flag)(&cfg.UDPPortMax), "udp-port-max", "highest UDP `port` for media (default 0: any port)")
	fs.BoolVar(&cfg.IncludeLoopback, "ice-loopback", false, "offer loopback ICE candidates too, for clients on this machine (ringside load --loopback, make bench)")
	fs.StringVar(&cfg.PublicIP, "public-ip", "", "public IP advertised in ICE candidates, for a server behind 1:1 NAT")
	fs.Var((*uint16Flag)(&cfg.MediaPort), "media-port", "carry all media on this one UDP `port`, and ICE-TCP on the same TCP port (default 0: an ephemeral port per connection)")
	cfg.TURNPort, cfg.TURNTLSPort = 3478, 5349
	fs.Var((*uint16Flag)(&cfg.TURNPort), "turn-port", "UDP and TCP `port` of the embedded TURN server; 0 runs none")
	fs.Var((*uint16Flag)(&cfg.TURNTLSPort), "turn-tls-port", "`port` of TURN over TLS, served with --tls-cert; 0 serves none")
	fs.StringVar(&cfg.TURNSecret, "turn-secret", "", "shared `secret` of TURN credentials, to keep them valid across restarts or for --turn-url; prefer the environment variable (default: generated at each start)")
	fs.Var((*listFlag)(&cfg.TURNURLs), "turn-url", "comma-separated turn: and turns: `URLs` of an external TURN server (coturn with use-auth-secret) to use instead of the embedded one; needs --turn-secret")
	fs.StringVar(&cfg.TLSCert, "tls-cert", "", "PEM certificate `file`: serve HTTPS (phones need it for camera and microphone); reloaded when it changes")
	fs.StringVar(&cfg.TLSKey, "tls-key", "", "PEM private key `file` of --tls-cert")
	fs.Var((*tlsFlag)(&cfg.TLSSelfSigned), "tls", "`mode` self-signed: serve HTTPS with a certificate generated into DATA/tls, for a LAN demo (default off)")
	fs.TextVar(&cfg.LogLevel, "log-level", slog.LevelInfo, "log `level`: debug, info, warn or error")
	fs.DurationVar(&cfg.GracePeriod, "grace", 30*time.Second, "how long a participant whose connection dropped may resume")
	fs.IntVar(&cfg.Limits.ParticipantsPerSession, "max-participants", 8, "most participants in one session")
	fs.IntVar(&cfg.Limits.SessionsPerServer, "max-sessions", 200, "most live sessions on this server")
	fs.Int64Var(&cfg.Limits.MaxFrameBytes, "max-frame-bytes", 64<<10, "largest websocket frame a client may send, in bytes")
	fs.IntVar(&cfg.Limits.MaxSDPBytes, "max-sdp-bytes", 32<<10, "largest SDP a client may send, in bytes")
	fs.IntVar(&cfg.Limits.MaxMLines, "max-m-lines", 16, "most media sections in a client's SDP")
	fs.Float64Var(&cfg.Limits.MessagesPerSecond, "max-messages-per-second", 50, "signaling messages per second a client may send (sustained)")
	fs.IntVar(&cfg.Limits.MessageBurst, "max-message-burst", 100, "signaling messages a client may send in a burst")
	withEnvUsage(fs)
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprint(w, "Usage: ringside serve [flags]\n\n")
		fmt.Fprint(w, "Runs the Ringside server: signaling at /ws, the admin API at /api/, health at /healthz.\n")
		fmt.Fprint(w, "Every flag may also be set by the environment variable in brackets; a flag wins over\n")
		fmt.Fprintf(w, "its variable. The admin token comes from %s only (never a flag): when\n", envAdminToken)
		fmt.Fprint(w, "it is set, its hash replaces the stored one; when it is not and none is stored, a token is\n")
		fmt.Fprint(w, "generated and printed once.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if code, ok := parse(fs, args, e); !ok {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(e.stderr, "ringside serve: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	cfg.AdminToken, _ = e.lookup(envAdminToken)
	cfg.Stderr = e.stderr
	if _, set := e.lookup("GOGC"); !set {
		debug.SetGCPercent(serveGCPercent)
	}
	cfg.Web = web.Handler()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// After the first signal, a second one kills the process the default way.
	go func() { <-ctx.Done(); stop() }()

	a, err := app.New(ctx, cfg)
	if err != nil {
		fmt.Fprintf(e.stderr, "ringside: %v\n", err)
		return 1
	}
	if err := a.Run(ctx, shutdownTimeout); err != nil {
		fmt.Fprintf(e.stderr, "ringside: %v\n", err)
		return 1
	}
	return 0
}

// sessionCmd dispatches `ringside session <subcommand>`.
func sessionCmd(args []string, e *env) int {
	const sessionUsage = "Usage: ringside session create --title T [--rep NAME] [--partner NAME] [--coach NAME] [--record=false] [--url URL]\n"
	switch {
	case len(args) > 0 && args[0] == "create":
		return sessionCreateCmd(args[1:], e)
	case len(args) > 0 && (args[0] == "--help" || args[0] == "-h" || args[0] == "help"):
		fmt.Fprint(e.stdout, sessionUsage)
		return 0
	case len(args) > 0:
		fmt.Fprintf(e.stderr, "ringside session: unknown subcommand %q\n", args[0])
	}
	fmt.Fprint(e.stderr, sessionUsage)
	return 2
}

// sessionCreateCmd creates a session through a running server's API and prints its links.
func sessionCreateCmd(args []string, e *env) int {
	fs := flag.NewFlagSet("session create", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	var req httpapi.CreateSessionRequest
	record := true
	fs.StringVar(&req.Title, "title", "", "title of the session (required)")
	fs.StringVar(&req.RepName, "rep", "", "name of the sales rep (default Rep)")
	fs.StringVar(&req.PartnerName, "partner", "", "name of the role-play partner (default Partner)")
	fs.StringVar(&req.CoachName, "coach", "", "name of the coach (default Coach)")
	fs.BoolVar(&record, "record", true, "record the session")
	baseURL := fs.String("url", "http://localhost:8080", "base URL of the Ringside server")
	withEnvUsage(fs, "url")
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprint(w, "Usage: ringside session create --title T [flags]\n\n")
		fmt.Fprintf(w, "Creates a session on a running server and prints its rep, partner and coach invite\nlinks. The admin token is read from %s.\n\nFlags:\n", envAdminToken)
		fs.PrintDefaults()
	}
	if code, ok := parse(fs, args, e, "url"); !ok {
		return code
	}
	if req.Title == "" || fs.NArg() > 0 {
		fs.Usage()
		return 2
	}
	req.Record = &record
	token, ok := e.lookup(envAdminToken)
	if !ok || token == "" {
		fmt.Fprintf(e.stderr, "ringside: set %s to the admin token (printed at the server's first start)\n", envAdminToken)
		return 2
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	client := httpapi.NewClient(*baseURL, token, &http.Client{Timeout: 30 * time.Second})
	resp, err := client.CreateSession(ctx, req)
	if err != nil {
		fmt.Fprintf(e.stderr, "ringside: create session: %v\n", err)
		return 1
	}
	recorded := "recorded"
	if !resp.Recorded {
		recorded = "not recorded"
	}
	fmt.Fprintf(e.stdout, "Session %s %q (%s), links valid until %s:\n",
		resp.ID, resp.Title, recorded, resp.ExpiresAt.Local().Format(time.RFC1123))
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "  rep\t%s\n  partner\t%s\n  coach\t%s\n", resp.Invites.Rep, resp.Invites.Partner, resp.Invites.Coach)
	tw.Flush()
	return 0
}

// parse parses args into fs, then fills each flag left unset from its environment variable
// (all flags, or only those named). ok is false when the command should exit with code.
func parse(fs *flag.FlagSet, args []string, e *env, only ...string) (code int, ok bool) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0, false
		}
		return 2, false
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var envErr error
	fs.VisitAll(func(f *flag.Flag) {
		if set[f.Name] || !envApplies(f.Name, only) || envErr != nil {
			return
		}
		name := envName(f.Name)
		if v, found := e.lookup(name); found {
			if err := fs.Set(f.Name, v); err != nil {
				envErr = fmt.Errorf("%s=%q: %w", name, v, err)
			}
		}
	})
	if envErr != nil {
		fmt.Fprintf(e.stderr, "ringside: invalid %v\n", envErr)
		return 2, false
	}
	return 0, true
}

// withEnvUsage appends each flag's environment variable to its help text.
func withEnvUsage(fs *flag.FlagSet, only ...string) {
	fs.VisitAll(func(f *flag.Flag) {
		if envApplies(f.Name, only) {
			f.Usage += " [$" + envName(f.Name) + "]"
		}
	})
}

// envApplies reports whether flag name reads an environment variable: every flag when only
// is empty, else those in only.
func envApplies(name string, only []string) bool {
	return len(only) == 0 || slices.Contains(only, name)
}

// envName is the environment variable of a flag: --udp-port-min → RINGSIDE_UDP_PORT_MIN.
func envName(flagName string) string {
	return envPrefix + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// uint16Flag is a flag.Value for a port number.
type uint16Flag uint16

func (u *uint16Flag) String() string {
	if u == nil {
		return "0"
	}
	return strconv.FormatUint(uint64(*u), 10)
}

func (u *uint16Flag) Set(s string) error {
	n, err := strconv.ParseUint(s, 10, 16)
	if err != nil {
		return errors.New("must be a port number from 0 to 65535")
	}
	*u = uint16Flag(n)
	return nil
}

// listFlag is a flag.Value for a comma-separated list.
type listFlag []string

func (l *listFlag) String() string {
	if l == nil {
		return ""
	}
	return strings.Join(*l, ",")
}

func (l *listFlag) Set(s string) error {
	*l = nil
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			*l = append(*l, v)
		}
	}
	return nil
}

// tlsFlag is --tls: "self-signed", or "off" (the default).
type tlsFlag bool

func (f *tlsFlag) String() string {
	if f != nil && *f {
		return "self-signed"
	}
	return ""
}

func (f *tlsFlag) Set(s string) error {
	switch s {
	case "self-signed":
		*f = true
	case "off", "":
		*f = false
	default:
		return errors.New(`must be "self-signed" or "off"`)
	}
	return nil
}
