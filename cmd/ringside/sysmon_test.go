package main

import (
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// reexecProbe makes the test binary, started by TestReexecForMedia, call reexecForMedia and
// report what it ran with.
const reexecProbe = "RINGSIDE_TEST_REEXEC_PROBE"

func TestMain(m *testing.M) {
	if os.Getenv(reexecProbe) != "" {
		fmt.Printf("start pid=%d\n", os.Getpid())
		reexecForMedia([]string{"serve"})
		fmt.Printf("running pid=%d GODEBUG=%s\n", os.Getpid(), os.Getenv("GODEBUG"))
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestReexecForMedia: serve runs with sysmon's deep sleep off, as one process (the same pid,
// so that --server-pid and service managers follow it), keeping whatever GODEBUG already
// says, and leaving a schedtrace the operator set alone.
func TestReexecForMedia(t *testing.T) {
	for _, tc := range []struct{ godebug, want string }{
		{"", mediaGODEBUG},
		{"madvdontneed=1", "madvdontneed=1," + mediaGODEBUG},
		{"schedtrace=0", "schedtrace=0"},
	} {
		cmd := exec.Command(os.Args[0])
		cmd.Env = append(slices.DeleteFunc(os.Environ(), func(kv string) bool {
			return strings.HasPrefix(kv, "GODEBUG=")
		}), reexecProbe+"=1", "GODEBUG="+tc.godebug)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("GODEBUG=%q: %v\n%s", tc.godebug, err, out)
		}
		var startPID, pid int
		var godebug string
		for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			if _, err := fmt.Sscanf(line, "start pid=%d", &startPID); err == nil {
				continue
			}
			if _, err := fmt.Sscanf(line, "running pid=%d GODEBUG=%s", &pid, &godebug); err != nil && !strings.HasSuffix(line, "GODEBUG=") {
				t.Errorf("GODEBUG=%q: unexpected line %q", tc.godebug, line)
			}
		}
		if godebug != tc.want {
			t.Errorf("GODEBUG=%q: ran with GODEBUG=%q, want %q", tc.godebug, godebug, tc.want)
		}
		if pid == 0 || pid != startPID {
			t.Errorf("GODEBUG=%q: started as pid %d, ran as %d; want one process", tc.godebug, startPID, pid)
		}
	}
}

func TestMovesMedia(t *testing.T) {
	for args, want := range map[string]bool{
		"": true, "--listen :9000": true, "serve": true, "serve --data d": true, "load --rooms 2": true,
		"version": false, "session create": false, "user invite": false, "help serve": false,
	} {
		if got := movesMedia(strings.Fields(args)); got != want {
			t.Errorf("movesMedia(%q) = %v, want %v", args, got, want)
		}
	}
}
