package archtest

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// allowed lists, for each package, the project packages it may depend on (transitively), and
// forbidden the outside packages it must not: the media plane knows nothing of HTTP,
// websockets or SQL; the store knows SQL only.
var rules = []struct {
	pkg       string
	allowed   []string
	forbidden []string
}{
	{"ringside/sfu", nil, []string{"net/http", "database/sql", "github.com/gorilla/websocket"}},
	{"ringside/internal/store", nil, []string{"net/http", "github.com/pion/webrtc/v4"}},
	{"ringside/internal/proto", nil, []string{"net/http", "database/sql"}},
	{"ringside/web", nil, []string{"database/sql", "github.com/pion/webrtc/v4"}},
	{"ringside/recorder", []string{"ringside/sfu", "ringside/internal/store"}, []string{"net/http", "github.com/gorilla/websocket"}},
	{"ringside/signaling", []string{"ringside/sfu", "ringside/internal/proto", "ringside/internal/store"}, nil},
	{"ringside/internal/analytics", []string{"ringside/sfu", "ringside/internal/store"}, []string{"net/http", "github.com/gorilla/websocket"}},
	{"ringside/internal/client", []string{"ringside/internal/proto"}, []string{"database/sql"}},
	{"ringside/internal/httpapi", []string{"ringside/internal/store", "ringside/internal/jsonhttp"}, []string{"github.com/pion/webrtc/v4"}},
	{"ringside/internal/people", []string{"ringside/internal/store"}, []string{"net/http", "github.com/pion/webrtc/v4"}},
	{"ringside/internal/coaching", []string{"ringside/internal/people", "ringside/internal/store"}, []string{"net/http", "github.com/pion/webrtc/v4"}},
	{"ringside/internal/audit", []string{"ringside/internal/store"}, []string{"net/http", "github.com/pion/webrtc/v4"}},
	{"ringside/internal/webhook", []string{"ringside/internal/store"}, []string{"github.com/pion/webrtc/v4", "github.com/gorilla/websocket"}},
	{"ringside/internal/coachapi", []string{"ringside/internal/jsonhttp", "ringside/internal/audit", "ringside/internal/coaching", "ringside/internal/people",
		"ringside/internal/store", "ringside/internal/webhook"}, []string{"github.com/pion/webrtc/v4", "github.com/gorilla/websocket"}},
	{"ringside/internal/jsonhttp", nil, []string{"database/sql", "github.com/pion/webrtc/v4"}},
	{"ringside/internal/turnserver", []string{"ringside/internal/proto"}, []string{"net/http", "database/sql", "github.com/pion/webrtc/v4"}},
}

func list(t *testing.T, args ...string) []string {
	t.Helper()
	out, err := exec.Command("go", append([]string{"list"}, args...)...).Output()
	if err != nil {
		t.Fatalf("go list %v: %v", args, err)
	}
	return strings.Fields(string(out))
}

// TestImportDirections checks project packages transitively and outside packages by direct
// import (a metrics library may use net/http; the media plane itself must not).
func TestImportDirections(t *testing.T) {
	for _, r := range rules {
		for _, d := range list(t, "-deps", r.pkg) {
			if d != r.pkg && strings.HasPrefix(d, "ringside/") && !slices.Contains(r.allowed, d) {
				t.Errorf("%s must not depend on %s", r.pkg, d)
			}
		}
		own := list(t, "-f", `{{join .Imports " "}}`, r.pkg)
		for _, d := range own {
			if slices.Contains(r.forbidden, d) {
				t.Errorf("%s must not import %s", r.pkg, d)
			}
		}
	}
}

// testSupport are packages made for tests: the shipped binary must not carry them.
var testSupport = []string{"ringside/internal/app/apptest", "ringside/internal/rtctest"}

// TestTestSupportStaysOutOfTheBinary checks that no package of `ringside` depends on a
// test-support package (only _test.go files may import them).
func TestTestSupportStaysOutOfTheBinary(t *testing.T) {
	deps := list(t, "-deps", "ringside/cmd/ringside")
	if !slices.Contains(deps, "ringside/sfu") {
		t.Fatalf("go list -deps ringside/cmd/ringside lists no ringside/sfu: %v", deps)
	}
	for _, p := range testSupport {
		if slices.Contains(deps, p) {
			t.Errorf("the ringside binary depends on the test-support package %s", p)
		}
	}
}
