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
	{"ringside/internal/client", []string{"ringside/internal/proto"}, []string{"database/sql"}},
	{"ringside/internal/httpapi", []string{"ringside/internal/store"}, []string{"github.com/pion/webrtc/v4"}},
	{"ringside/internal/turnserver", []string{"ringside/internal/proto"}, []string{"net/http", "database/sql", "github.com/pion/webrtc/v4"}},
}

func deps(t *testing.T, pkg string) []string {
	t.Helper()
	out, err := exec.Command("go", "list", "-deps", pkg).Output()
	if err != nil {
		t.Fatalf("go list -deps %s: %v", pkg, err)
	}
	return strings.Fields(string(out))
}

func TestImportDirections(t *testing.T) {
	for _, r := range rules {
		for _, d := range deps(t, r.pkg) {
			if d == r.pkg {
				continue
			}
			if strings.HasPrefix(d, "ringside/") && !slices.Contains(r.allowed, d) {
				t.Errorf("%s must not depend on %s", r.pkg, d)
			}
			if slices.Contains(r.forbidden, d) {
				t.Errorf("%s must not depend on %s", r.pkg, d)
			}
		}
	}
}
