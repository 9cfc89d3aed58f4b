package turnserver

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1" //nolint:gosec // the TURN REST scheme (and coturn) define HMAC-SHA1
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/pion/stun/v3"

	"ringside/internal/proto"
)

// DefaultCredentialTTL is how long the credentials of a welcome stay valid for new TURN
// requests. It covers a long call: TURN checks credentials again on every refresh (each few
// minutes), so a call outliving them loses its relay. A resumed participant gets fresh ones.
const DefaultCredentialTTL = 8 * time.Hour

// Credentials mints and checks short-lived TURN credentials with the TURN REST scheme that
// coturn's use-auth-secret also speaks: the username is "<expiry-unix>:<participant-id>" and
// the password base64(HMAC-SHA1(secret, username)). Nothing is stored: whoever knows the
// secret can check a username and password.
type Credentials struct {
	// Secret is the shared secret (required).
	Secret string
	// URLs are the turn: and turns: URLs the credentials are for.
	URLs []string
	// TTL is how long minted credentials are valid (0: DefaultCredentialTTL).
	TTL time.Duration
	// Now is the clock (nil: time.Now); tests move it.
	Now func() time.Time
}

// NewSecret returns a random secret for a server that was given none.
func NewSecret() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("turnserver: secret: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// ValidateURLs checks that every URL is a turn: or turns: URL.
func ValidateURLs(urls []string) error {
	if len(urls) == 0 {
		return fmt.Errorf("%w: no TURN URL", ErrConfig)
	}
	for _, u := range urls {
		uri, err := stun.ParseURI(u)
		if err != nil {
			return fmt.Errorf("%w: TURN URL %q: %v", ErrConfig, u, err)
		}
		if uri.Scheme != stun.SchemeTypeTURN && uri.Scheme != stun.SchemeTypeTURNS {
			return fmt.Errorf("%w: %q is not a turn: or turns: URL", ErrConfig, u)
		}
	}
	return nil
}

// ICEServers is what a participant's welcome carries: the URLs with credentials minted for
// it. It has the signature of signaling.Config.ICEServers.
func (c Credentials) ICEServers(participantID string) []proto.ICEServer {
	if len(c.URLs) == 0 {
		return nil
	}
	user, pass := c.Mint(participantID)
	return []proto.ICEServer{{URLs: append([]string(nil), c.URLs...), Username: user, Credential: pass}}
}

// Mint returns a username and password for participantID, valid for the TTL from now.
func (c Credentials) Mint(participantID string) (username, password string) {
	ttl := c.TTL
	if ttl <= 0 {
		ttl = DefaultCredentialTTL
	}
	username = strconv.FormatInt(c.now().Add(ttl).Unix(), 10) + ":" + participantID
	return username, c.password(username)
}

// Check returns the password of username if it is well formed and not expired, and the
// participant it names. It does not know the password the client sent: TURN proves
// knowledge of it with a message integrity check keyed from what Check returns.
func (c Credentials) Check(username string) (password, participantID string, err error) {
	expiry, id, ok := strings.Cut(username, ":")
	if !ok || id == "" {
		return "", "", fmt.Errorf("%w: username %q is not <expiry>:<participant>", ErrCredentials, username)
	}
	unix, err := strconv.ParseInt(expiry, 10, 64)
	if err != nil {
		return "", "", fmt.Errorf("%w: username %q has no expiry", ErrCredentials, username)
	}
	if !c.now().Before(time.Unix(unix, 0)) {
		return "", "", fmt.Errorf("%w: expired at %s", ErrCredentials, time.Unix(unix, 0).UTC().Format(time.RFC3339))
	}
	return c.password(username), id, nil
}

func (c Credentials) password(username string) string {
	mac := hmac.New(sha1.New, []byte(c.Secret))
	mac.Write([]byte(username))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

func (c Credentials) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}
