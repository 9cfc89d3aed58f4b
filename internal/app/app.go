// Package app assembles a Ringside server from its parts: it opens the store, bootstraps the
// admin token, builds the signaling server and the HTTP API, mounts them (and the web client,
// when given) on one mux, and runs and stops the HTTP server around them.
//
// It owns wiring and lifecycle only: no protocol, media, SQL or API logic lives here.
package app

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"ringside/internal/httpapi"
	"ringside/internal/store"
	"ringside/internal/turnserver"
	"ringside/sfu"
	"ringside/signaling"
)

// Defaults of Config's zero values.
const (
	DefaultListen  = ":8080"
	DefaultDataDir = "./data"
	// DefaultDBFile is the SQLite file inside the data directory.
	DefaultDBFile = "ringside.db"
)

// HTTP server timeouts. There is no write timeout: websockets live as long as the call.
const (
	readHeaderTimeout = 10 * time.Second
	idleTimeout       = 2 * time.Minute
)

// Config configures a server. The zero value of every field is a working default, so that a
// zero Config is `ringside serve` with no flags.
type Config struct {
	// Listen is the TCP address of the HTTP server (default ":8080").
	Listen string
	// DataDir holds the SQLite database and the recordings (default "./data"); it is created.
	DataDir string
	// DB is the database DSN: a SQLite file path (default DataDir/ringside.db) or a
	// postgres:// URL, which selects PostgreSQL.
	DB string
	// PublicURL is the base of invite links (default http://<listen host or localhost>:<port>).
	PublicURL string
	// UDPPortMin and UDPPortMax bound the ports ICE uses for media (0, 0: any port).
	UDPPortMin, UDPPortMax uint16
	// PublicIP replaces host candidates' addresses (a server behind 1:1 NAT).
	PublicIP string
	// IncludeLoopback gathers loopback ICE candidates (tests with peers on this machine).
	IncludeLoopback bool
	// MediaPort, when not 0, carries all media on this one UDP port, and ICE-TCP on the same
	// TCP port (0: an ephemeral port per connection, within UDPPortMin-UDPPortMax).
	MediaPort uint16
	// TURNPort is the UDP and TCP port of the embedded TURN server; 0 runs none (the CLI's
	// default is 3478). Not used when TURNURLs names an external server.
	TURNPort uint16
	// TURNTLSPort is the port of TURN over TLS, served with a TLSCert (not a self-signed
	// one); 0 serves none (the CLI's default is 5349).
	TURNTLSPort uint16
	// TURNSecret keys the TURN credentials handed to participants; empty: a secret generated
	// at each start (embedded server only).
	TURNSecret string
	// TURNURLs are the turn: and turns: URLs of an external TURN server (coturn with
	// use-auth-secret and TURNSecret as its static-auth-secret), used instead of the embedded
	// one.
	TURNURLs []string
	// TLSCert and TLSKey are PEM files; with them the server speaks HTTPS (phones grant the
	// camera and microphone only to HTTPS pages). The files are reloaded when they change.
	TLSCert, TLSKey string
	// TLSSelfSigned speaks HTTPS with a certificate generated (and then reused) in
	// DataDir/tls, for a demo on a LAN.
	TLSSelfSigned bool
	// KeyframeInterval is the sfu's keyframe request cadence (0: the sfu's default).
	KeyframeInterval time.Duration
	// LogLevel is the level of the default logger (the zero value is info).
	LogLevel slog.Level
	// Logger, when set, is used instead of a text logger on Stderr at LogLevel.
	Logger *slog.Logger
	// AdminToken, when set (from RINGSIDE_ADMIN_TOKEN), becomes the admin token: its hash
	// replaces any stored one. When empty, a token is generated at first start.
	AdminToken string
	// GracePeriod is how long a dropped participant may resume (0: signaling's default, 30 s).
	GracePeriod time.Duration
	// InviteTTL is how long invite links stay valid (0: 7 days).
	InviteTTL time.Duration
	// Limits bound what clients may cost (zero fields: signaling's defaults).
	Limits signaling.Limits
	// Web serves the web client at "/" (join, dashboard and replay pages). Nil mounts nothing
	// there, so only /ws, /api/ and /healthz answer.
	Web http.Handler
	// Stderr receives the one-time admin token banner and the default logger's output
	// (default os.Stderr).
	Stderr io.Writer
}

// App is an assembled server. Build it with New, run it with Serve or Run, stop it with
// Shutdown.
type App struct {
	// Immutable after New.
	cfg       Config
	log       *slog.Logger
	store     *store.Store
	sig       *signaling.Server
	handler   http.Handler
	srv       *http.Server
	publicURL string
	cancelCtx context.CancelFunc // cancels the base context of every request
	nets      *networks          // media listeners and TURN
	certs     *certificates      // nil: plain HTTP
	coach     *coachingParts     // people, coaching, webhooks, audit

	mu sync.Mutex // guards the following fields
	ln net.Listener
	// closing is set once Shutdown has begun; Serve then reports its listener's close as nil.
	closing bool

	shutdownOnce sync.Once
	shutdownErr  error // set inside shutdownOnce
}

// New assembles a server: it creates the data directory, opens (and migrates) the store,
// bootstraps the admin token and builds the handlers. It does not listen yet.
func New(ctx context.Context, cfg Config) (*App, error) {
	if err := cfg.withDefaults(); err != nil {
		return nil, err
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(cfg.Stderr, &slog.HandlerOptions{Level: cfg.LogLevel}))
	}
	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return nil, fmt.Errorf("app: create data directory: %w", err)
	}
	publicURL, err := defaultPublicURL(cfg.PublicURL, cfg.Listen)
	if err != nil {
		return nil, err
	}
	if cfg.PublicURL == "" && (cfg.TLSCert != "" || cfg.TLSSelfSigned) {
		publicURL = httpsPublicURL(publicURL, cfg.Listen)
	}

	st, err := store.Open(ctx, cfg.DB)
	if err != nil {
		return nil, fmt.Errorf("app: %w", err)
	}
	a, err := assemble(ctx, cfg, log, st, publicURL)
	if err != nil {
		st.Close()
		return nil, err
	}
	return a, nil
}

// assemble builds everything that sits on an open store.
func assemble(ctx context.Context, cfg Config, log *slog.Logger, st *store.Store, publicURL string) (*App, error) {
	bannerURL := publicURL
	if bannerURL == "" {
		bannerURL = "http://" + cfg.Listen
	}
	adminHash, err := bootstrapAdminToken(ctx, st, cfg.AdminToken, bannerURL, cfg.Stderr, log)
	if err != nil {
		return nil, err
	}
	// The recorder reports failures to signaling, which is built after it; no recording can
	// start (and so fail) before sig is set.
	var sig *signaling.Server
	rec, err := startRecorder(ctx, cfg, log, st, func(id string, err error) { sig.RecordingFailed(id, err) })
	if err != nil {
		return nil, err
	}
	sfuCfg := sfu.Config{
		UDPPortMin:       cfg.UDPPortMin,
		UDPPortMax:       cfg.UDPPortMax,
		PublicIP:         cfg.PublicIP,
		KeyframeInterval: cfg.KeyframeInterval,
		IncludeLoopback:  cfg.IncludeLoopback,
		MediaPort:        cfg.MediaPort,
	}
	certs, err := loadCertificates(cfg, log)
	if err != nil {
		return nil, err
	}
	nets, err := startNetworks(cfg, sfuCfg, certs, log)
	if err != nil {
		return nil, err
	}
	sfuCfg.Media = nets.media
	reg := newRegistry(rec)
	sfuCfg.Metrics = sfu.NewMetrics()
	reg.MustRegister(sfuCfg.Metrics)
	coach := startCoaching(log, st, publicURL, cfg.InviteTTL, func() string { return adminHash })
	sig, err = signaling.New(signaling.Config{
		Observer:    observer{audit: coach.audit, hooks: coach.webhooks, coaching: coach.coaching, log: log},
		Registerer:  reg,
		Recorder:    recorderAdapter{rec},
		Analytics:   newAnalytics(log, st),
		Store:       st,
		Logger:      log.With("component", "signaling"),
		SFU:         sfuCfg,
		Limits:      cfg.Limits,
		GracePeriod: cfg.GracePeriod,
		ICEServers:  nets.ice,
	})
	if err != nil {
		nets.close()
		_ = coach.close(ctx)
		return nil, fmt.Errorf("app: signaling: %w", err)
	}
	api := httpapi.New(httpapi.Config{
		Store:         st,
		Live:          sig,
		PublicURL:     publicURL,
		Auth:          coach.sessionAuth(),
		InviteTTL:     cfg.InviteTTL,
		Logger:        log.With("component", "httpapi"),
		RecordingsDir: filepath.Join(cfg.DataDir, RecordingsDir),
	})

	mux := http.NewServeMux()
	mux.Handle("/ws", sig)
	mux.Handle("/api/", api)
	coach.mount(mux)
	mux.Handle("/healthz", api)
	mux.Handle("/recordings/", api)
	mountObservability(mux, reg, coach.auth, log)
	if cfg.Web != nil {
		mux.Handle("/", cfg.Web)
	}

	baseCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	a := &App{
		cfg:       cfg,
		log:       log,
		store:     st,
		sig:       sig,
		handler:   mux,
		publicURL: publicURL,
		cancelCtx: cancel,
		nets:      nets,
		certs:     certs,
		coach:     coach,
	}
	a.srv = &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: readHeaderTimeout,
		IdleTimeout:       idleTimeout,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return baseCtx },
	}
	return a, nil
}

// withDefaults fills in zero fields and rejects contradictory ones.
func (c *Config) withDefaults() error {
	if c.Listen == "" {
		c.Listen = DefaultListen
	}
	if c.DataDir == "" {
		c.DataDir = DefaultDataDir
	}
	if c.DB == "" {
		c.DB = filepath.Join(c.DataDir, DefaultDBFile)
	}
	if c.Stderr == nil {
		c.Stderr = os.Stderr
	}
	if (c.UDPPortMin == 0) != (c.UDPPortMax == 0) {
		return errors.New("app: set both UDP port bounds or neither")
	}
	if c.UDPPortMin > c.UDPPortMax {
		return fmt.Errorf("app: UDP port range %d-%d is empty", c.UDPPortMin, c.UDPPortMax)
	}
	return c.checkNetworks()
}

// defaultPublicURL returns explicit if set, and otherwise http://host:port of the listen
// address, with localhost for a wildcard host. A listen port of 0 is not known yet: then it
// returns "", and invite links are built from each request's Host.
func defaultPublicURL(explicit, listen string) (string, error) {
	if explicit != "" {
		return explicit, nil
	}
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return "", fmt.Errorf("app: listen address %q: %w", listen, err)
	}
	if port == "0" {
		return "", nil
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port), nil
}

// Handler is the server's root handler (/ws, /api/, /healthz and the web client).
func (a *App) Handler() http.Handler { return a.handler }

// Store is the server's open store, for tests and tools that inspect what it recorded.
func (a *App) Store() *store.Store { return a.store }

// TURN is the embedded TURN server, nil when none runs.
func (a *App) TURN() *turnserver.Server { return a.nets.turn }

// PublicURL is the base of invite links ("" when derived from each request).
func (a *App) PublicURL() string { return a.publicURL }

// Addr is the address the server listens on, or nil before Serve.
func (a *App) Addr() net.Addr {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.ln == nil {
		return nil
	}
	return a.ln.Addr()
}

// Serve accepts HTTP connections on ln until Shutdown, and then returns nil; any other
// failure to serve is returned. It may be called once.
func (a *App) Serve(ln net.Listener) error {
	a.mu.Lock()
	switch {
	case a.closing:
		a.mu.Unlock()
		ln.Close()
		return errors.New("app: serve after shutdown")
	case a.ln != nil:
		a.mu.Unlock()
		return errors.New("app: already serving")
	}
	a.ln = &onceCloseListener{Listener: ln}
	wrapped := a.ln
	a.mu.Unlock()
	if a.certs != nil {
		tc := a.certs.config()
		tc.NextProtos = []string{"http/1.1"} // websockets need HTTP/1.1
		wrapped = tls.NewListener(wrapped, tc)
	}

	a.log.Info("ringside listening", "addr", ln.Addr().String(), "public_url", a.publicURL,
		"db", a.store.Engine(), "data", a.cfg.DataDir, "https", a.certs != nil)
	printPhoneURLs(a.cfg.Stderr, phoneURLs(ln.Addr(), a.certs != nil), a.certs != nil, a.certs != nil && a.certs.selfSigned)
	err := a.srv.Serve(wrapped)
	a.mu.Lock()
	closing := a.closing
	a.mu.Unlock()
	if closing {
		return nil
	}
	return fmt.Errorf("app: serve: %w", err)
}

// Run listens on Config.Listen and serves until ctx is done, then shuts down gracefully,
// giving Shutdown at most shutdownTimeout.
func (a *App) Run(ctx context.Context, shutdownTimeout time.Duration) error {
	ln, err := net.Listen("tcp", a.cfg.Listen)
	if err != nil {
		a.closeOnError()
		return fmt.Errorf("app: listen: %w", err)
	}
	served := make(chan error, 1)
	go func() { served <- a.Serve(ln) }()

	var serveErr error
	select {
	case serveErr = <-served:
	case <-ctx.Done():
		a.log.Info("stopping: shutting down gracefully", "timeout", shutdownTimeout)
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	shutdownErr := a.Shutdown(sctx)
	if serveErr == nil {
		serveErr = <-served
	}
	return errors.Join(serveErr, shutdownErr)
}

// closeOnError releases what New opened when the server never got to run.
func (a *App) closeOnError() {
	sctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := a.Shutdown(sctx); err != nil {
		a.log.Warn("releasing resources after a failed start", "err", err)
	}
}

// Shutdown stops the server: it stops accepting connections, tells every connected client
// the server is going away (signaling's `ended {reason: server_shutdown}`), waits for HTTP
// requests in flight to finish, and closes the store. ctx bounds the wait. Calling it again
// returns the first call's result.
func (a *App) Shutdown(ctx context.Context) error {
	a.shutdownOnce.Do(func() { a.shutdownErr = a.shutdown(ctx) })
	return a.shutdownErr
}

func (a *App) shutdown(ctx context.Context) error {
	a.mu.Lock()
	a.closing = true
	ln := a.ln
	a.mu.Unlock()

	var errs []error
	if ln != nil {
		if err := ln.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
			errs = append(errs, fmt.Errorf("app: close listener: %w", err))
		}
	}
	if err := a.sig.Shutdown(ctx); err != nil {
		errs = append(errs, fmt.Errorf("app: signaling shutdown: %w", err))
	}
	if err := a.nets.close(); err != nil {
		errs = append(errs, fmt.Errorf("app: close media and TURN: %w", err))
	}
	if err := a.srv.Shutdown(ctx); err != nil {
		errs = append(errs, fmt.Errorf("app: http shutdown: %w", err))
	}
	a.cancelCtx()
	if err := a.coach.close(ctx); err != nil {
		errs = append(errs, fmt.Errorf("app: stop coaching: %w", err))
	}
	if err := a.store.Close(); err != nil {
		errs = append(errs, fmt.Errorf("app: close store: %w", err))
	}
	if len(errs) == 0 {
		a.log.Info("ringside stopped")
	}
	return errors.Join(errs...)
}

// onceCloseListener lets both Shutdown and http.Server close the listener: the second close
// is a no-op instead of an error.
type onceCloseListener struct {
	net.Listener
	once sync.Once
	err  error
}

func (l *onceCloseListener) Close() error {
	l.once.Do(func() { l.err = l.Listener.Close() })
	return l.err
}
