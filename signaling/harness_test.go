package signaling_test

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/pion/webrtc/v4"

	"ringside/internal/app/apptest"
	"ringside/internal/client"
	"ringside/internal/media"
	"ringside/internal/store"
	"ringside/sfu"
	"ringside/signaling"
)

// env is a real signaling server over HTTP on loopback with a real SQLite store; media flows
// between real Pion peers over this machine's interface addresses.
type env struct {
	t     *testing.T
	store *store.Store
	srv   *signaling.Server
	http  *httptest.Server
	wsURL string
	api   *webrtc.API
}

type tokens struct {
	session, rep, partner, coach string
}

func testLogger() *slog.Logger {
	if os.Getenv("RINGSIDE_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

func newEnv(t *testing.T, tweak ...func(*signaling.Config)) *env {
	t.Helper()
	checkGoroutines(t)
	ctx := context.Background()
	st, err := store.Open(ctx, t.TempDir()+"/ringside.db")
	if err != nil {
		t.Fatal(err)
	}
	// The media plane as a server has it: a MediaNet, so that media takes the direct paths.
	media, err := sfu.ListenMedia(sfu.Config{})
	if err != nil {
		t.Fatal(err)
	}
	cfg := signaling.Config{
		Store:  st,
		Logger: testLogger(),
		// A short keyframe clock so that silent coaches see video soon in tests.
		SFU:         sfu.Config{KeyframeInterval: time.Second, Media: media},
		GracePeriod: 5 * time.Second,
	}
	for _, f := range tweak {
		f(&cfg)
	}
	srv, err := signaling.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	api, err := client.NewAPI()
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, store: st, srv: srv, http: hs, wsURL: "ws" + strings.TrimPrefix(hs.URL, "http") + "/ws", api: api}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		hs.Close()
		_ = media.Close()
		_ = st.Close()
	})
	return e
}

// session creates a session with one invite per role, valid for an hour.
func (e *env) session(title string) tokens {
	e.t.Helper()
	return e.sessionWith(title, time.Hour)
}

func (e *env) sessionWith(title string, ttl time.Duration) tokens {
	e.t.Helper()
	return e.create(store.Session{Title: title}, ttl)
}

// recordedSession creates a session with recording on, as session does.
func (e *env) recordedSession(title string) tokens {
	e.t.Helper()
	return e.create(store.Session{Title: title, Recorded: true}, time.Hour)
}

// create stores sess (its ID made here) with one invite per role, valid for ttl.
func (e *env) create(sess store.Session, ttl time.Duration) tokens {
	e.t.Helper()
	tk := tokens{session: uuid.NewString()}
	var invites []store.Invite
	for _, role := range []string{"rep", "partner", "coach"} {
		tok, hash, err := store.NewToken()
		if err != nil {
			e.t.Fatal(err)
		}
		switch role {
		case "rep":
			tk.rep = tok
		case "partner":
			tk.partner = tok
		case "coach":
			tk.coach = tok
		}
		invites = append(invites, store.Invite{
			SessionID: tk.session, Role: role, Name: strings.ToUpper(role[:1]) + role[1:],
			TokenHash: hash, ExpiresAt: time.Now().Add(ttl),
		})
	}
	sess.ID = tk.session
	err := e.store.CreateSession(context.Background(), sess, invites)
	if err != nil {
		e.t.Fatal(err)
	}
	return tk
}

// dial joins with token; publish starts the fixtures looping on the client's tracks.
func (e *env) dial(token string, kinds client.Kinds) *client.Client {
	e.t.Helper()
	c, err := e.tryDial(token, kinds)
	if err != nil {
		e.t.Fatalf("dial: %v", err)
	}
	return c
}

func (e *env) tryDial(token string, kinds client.Kinds) (*client.Client, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := client.Dial(ctx, client.Config{URL: e.wsURL, Token: token, Publish: kinds, API: e.api})
	if err != nil {
		return nil, err
	}
	stop := media.LoopFixtures(c.AudioTrack(), c.VideoTrack())
	e.t.Cleanup(func() {
		stop()
		_ = c.Close()
	})
	return c, nil
}

func packets(c *client.Client, from string, kind webrtc.RTPCodecType) uint64 {
	s, ok := c.Track(from, kind)
	if !ok {
		return 0
	}
	return s.Packets
}

func inRoster(c *client.Client, id string) (state string, ok bool) {
	for _, m := range c.Roster() {
		if m.ID == id {
			return m.State, true
		}
	}
	return "", false
}

// checkGoroutines fails the test if goroutines started during it outlive it.
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

// The shared polling helpers (internal/app/apptest).
var (
	waitFor = apptest.WaitFor
	flowing = apptest.Flowing
)
