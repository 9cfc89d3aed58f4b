// Package signaling speaks Ringside's websocket protocol (docs/protocol.md) and drives the SFU:
// it checks invites against the store, creates participants in rooms, relays SDP and ICE, and
// applies coaches' modes and markers. It owns the mapping of errors to protocol codes.
//
// It must not hold media logic: who receives what is sfu.Route's alone.
package signaling

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"github.com/prometheus/client_golang/prometheus"

	"ringside/internal/proto"
	"ringside/internal/store"
	"ringside/sfu"
)

// Config configures a Server. Zero values take the documented defaults.
type Config struct {
	Store  *store.Store
	Logger *slog.Logger
	SFU    sfu.Config
	Limits Limits
	// GracePeriod is how long a participant whose websocket dropped may resume (default 30 s).
	GracePeriod time.Duration
	// Registerer receives the signaling metrics (nil: not exported).
	Registerer prometheus.Registerer
	// Recorder records sessions created with recording on (nil: none is recorded).
	Recorder Recorder
	// Analytics analyses the talk of every session, recorded or not (nil: none is).
	Analytics Analytics
	// Observer hears of sessions starting and ending, recordings ready and what coaches do
	// (nil: nobody).
	Observer Observer
	// ICEServers gives the STUN/TURN servers (with credentials) a participant is told of in
	// its welcome; nil means none.
	ICEServers func(participantID string) []proto.ICEServer
}

// Limits bound what one client may cost the server.
type Limits struct {
	MaxFrameBytes          int64 // default 64 KiB
	MaxSDPBytes            int   // default 32 KiB
	MaxMLines              int   // default 16
	MessagesPerSecond      float64
	MessageBurst           int
	ParticipantsPerSession int // default 8
	SessionsPerServer      int // default 200
}

// Server is the websocket endpoint and the set of live rooms.
type Server struct {
	store     *store.Store
	log       *slog.Logger
	limits    Limits
	grace     time.Duration
	sfuCfg    sfu.Config
	api       *sfu.API
	upgrader  websocket.Upgrader
	metrics   *metrics
	ice       func(participantID string) []proto.ICEServer
	recorder  Recorder
	analytics Analytics
	observer  Observer
	panicOn   atomic.Value // message type whose handler panics; set only by tests

	mu       sync.Mutex // guards the following fields
	rooms    map[string]*liveRoom
	conns    map[*conn]struct{}
	shutdown bool
}

// New builds a Server.
func New(cfg Config) (*Server, error) {
	if cfg.Store == nil {
		return nil, fmt.Errorf("signaling: a store is required")
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	if cfg.SFU.Logger == nil {
		cfg.SFU.Logger = log.With("component", "sfu")
	}
	api, err := sfu.NewAPI(cfg.SFU)
	if err != nil {
		return nil, err
	}
	grace := cfg.GracePeriod
	if grace <= 0 {
		grace = 30 * time.Second
	}
	m, err := newMetrics(cfg.Registerer)
	if err != nil {
		return nil, err
	}
	return &Server{
		store:  cfg.Store,
		log:    log,
		limits: cfg.Limits.withDefaults(),
		grace:  grace,
		sfuCfg: cfg.SFU,
		api:    api,
		upgrader: websocket.Upgrader{
			ReadBufferSize:  4096,
			WriteBufferSize: 4096,
			// The invite token in the first message is the credential, not cookies, so a page
			// on another origin gains nothing by opening a socket.
			CheckOrigin: func(*http.Request) bool { return true },
		},
		metrics:   m,
		ice:       cfg.ICEServers,
		recorder:  cfg.Recorder,
		analytics: cfg.Analytics,
		observer:  cfg.Observer,
		rooms:     map[string]*liveRoom{},
		conns:     map[*conn]struct{}{},
	}, nil
}

// ServeHTTP upgrades a request on /ws to a signaling connection.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	closing := s.shutdown
	s.mu.Unlock()
	if closing {
		http.Error(w, "server is shutting down", http.StatusServiceUnavailable)
		return
	}
	ws, err := s.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return // the upgrader has answered with the error
	}
	c := newConn(s, ws, s.log.With("remote", r.RemoteAddr))
	s.mu.Lock()
	if s.shutdown {
		s.mu.Unlock()
		_ = ws.Close()
		return
	}
	s.conns[c] = struct{}{}
	s.mu.Unlock()
	go c.writeLoop()
	go c.serve()
}

func (s *Server) connDone(c *conn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
}

// room returns the live room of a session, creating it for a join.
func (s *Server) room(sess store.Session) (*liveRoom, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.shutdown {
		return nil, ErrShuttingDown
	}
	if lr := s.rooms[sess.ID]; lr != nil {
		return lr, nil
	}
	if len(s.rooms) >= s.limits.SessionsPerServer {
		return nil, wrap(ErrServerFull, "%d live sessions", len(s.rooms))
	}
	start := time.Now()
	if sess.StartedAt != nil {
		start = *sess.StartedAt
	}
	log := s.log.With("session", sess.ID)
	lr := &liveRoom{
		srv:     s,
		session: sess,
		start:   start,
		log:     log,
		room: sfu.NewRoom(sfu.RoomParams{
			ID: sfu.SessionID(sess.ID), API: s.api, Config: s.sfuCfg, Logger: log,
			MaxParticipants: s.limits.ParticipantsPerSession,
		}),
		byInvite: map[string]*member{},
		members:  map[sfu.ParticipantID]*member{},
		recState: "off",
	}
	lr.startRecording()
	s.rooms[sess.ID] = lr
	s.metrics.sessions.Set(float64(len(s.rooms)))
	return lr, nil
}

func (s *Server) liveRoom(id string) *liveRoom {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rooms[id]
}

func (s *Server) dropRoom(lr *liveRoom) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.rooms[lr.session.ID] == lr {
		delete(s.rooms, lr.session.ID)
	}
	s.metrics.sessions.Set(float64(len(s.rooms)))
}

// EndSession ends a live session: every participant receives `ended` and is disconnected.
// A session with nobody in it has nothing to end here.
func (s *Server) EndSession(ctx context.Context, sessionID string) error {
	if lr := s.liveRoom(sessionID); lr != nil {
		lr.closeAll("session_ended")
	}
	if s.observer != nil {
		s.observer.SessionEnded(sessionID, time.Now())
	}
	return nil
}

// Shutdown tells every connected client the server is going away, closes all rooms, and waits
// (until ctx is done) for the close frames to be written.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.shutdown = true
	rooms := make([]*liveRoom, 0, len(s.rooms))
	for _, lr := range s.rooms {
		rooms = append(rooms, lr)
	}
	conns := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	// Rooms close in parallel: closing PeerConnections and finalizing recordings take time.
	var wg sync.WaitGroup
	for _, lr := range rooms {
		wg.Go(func() { lr.closeAll("server_shutdown") })
	}
	wg.Wait()
	for _, c := range conns {
		c.fail(ErrShuttingDown)
	}
	for _, c := range conns {
		select {
		case <-c.finished:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// LiveSessions is the number of sessions with someone in them.
func (s *Server) LiveSessions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.rooms)
}
