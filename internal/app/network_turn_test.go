package app_test

import (
	"io"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/pion/logging"
	"github.com/pion/turn/v4"

	"ringside/internal/app/apptest"
	"ringside/internal/turnserver"
)

// dialTURN connects pion's TURN client over UDP to s's embedded server with fresh
// credentials.
func dialTURN(t *testing.T, s *apptest.Server) *turn.Client {
	t.Helper()
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(int(s.App.TURN().Port())))
	conn, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	quiet := logging.NewDefaultLoggerFactory()
	quiet.Writer = io.Discard
	user, pass := s.App.TURN().Credentials().Mint("probe")
	c, err := turn.NewClient(&turn.ClientConfig{
		STUNServerAddr: addr, TURNServerAddr: addr, Conn: conn,
		Username: user, Password: pass, Realm: turnserver.Realm,
		RTO: 100 * time.Millisecond, LoggerFactory: quiet,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Listen(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(); conn.Close() })
	return c
}
