package e2e

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"ringside/internal/app"
	"ringside/internal/client"
	"ringside/internal/httpapi"
	"ringside/internal/store"
)

const crashAdminToken = "e2e-crash-admin-token-0123456789"

// buildBinary builds the ringside command once per test run.
func buildBinary(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		t.Fatal(err)
	}
	root := filepath.Dir(strings.TrimSpace(string(out)))
	bin := filepath.Join(t.TempDir(), "ringside")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/ringside")
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	return bin
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// serve starts `ringside serve` as its own process on dataDir and waits until it is healthy.
func serve(t *testing.T, bin, dataDir string, port int) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(bin, "serve", "--listen", fmt.Sprintf("127.0.0.1:%d", port), "--data", dataDir)
	cmd.Env = append(os.Environ(), "RINGSIDE_ADMIN_TOKEN="+crashAdminToken)
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
		if t.Failed() {
			t.Logf("server log:\n%s", logs.String())
		}
	})
	url := fmt.Sprintf("http://127.0.0.1:%d/healthz", port)
	waitFor(t, "server healthy", 30*time.Second, func() bool {
		resp, err := http.Get(url)
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	return cmd
}

// cuesID is the EBML id of a WebM Cues element: a file with it is seekable.
var cuesID = []byte{0x1C, 0x53, 0xBB, 0x6B}

// TestRecordingSurvivesKill9 records 10 s in a separate server process, kills it with SIGKILL,
// checks every file plays to at least 7 s, then restarts the server on the same data and checks
// the session is interrupted and its files finalized.
func TestRecordingSurvivesKill9(t *testing.T) {
	bin := buildBinary(t)
	dataDir := t.TempDir()
	port := freePort(t)
	srv := serve(t, bin, dataDir, port)
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	api := httpapi.NewClient(base, crashAdminToken, nil)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	created, err := api.CreateSession(ctx, httpapi.CreateSessionRequest{Title: "Crash"})
	if err != nil {
		t.Fatal(err)
	}
	token := func(url string) string { return url[strings.LastIndexByte(url, '/')+1:] }
	wsURL := fmt.Sprintf("ws://127.0.0.1:%d/ws", port)
	rep := dial(t, wsURL, token(created.Invites.Rep), client.Audio|client.Video)
	partner := dial(t, wsURL, token(created.Invites.Partner), client.Audio|client.Video)
	flowing(t, partner, rep.ID(), video, 5)
	flowing(t, rep, partner.ID(), video, 5)
	time.Sleep(10 * time.Second)

	if err := srv.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = srv.Wait()

	dir := filepath.Join(dataDir, app.RecordingsDir, created.ID)
	files, err := filepath.Glob(filepath.Join(dir, "*.webm"))
	if err != nil || len(files) != 4 {
		t.Fatalf("after the crash: %d files (%v), want 4", len(files), err)
	}
	// Copies, so that the restart's finalizing cannot hide what the crash left.
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		cut := filepath.Join(t.TempDir(), filepath.Base(f))
		if err := os.WriteFile(cut, b, 0o600); err != nil {
			t.Fatal(err)
		}
		p := ffprobe(t, cut)
		if p.Duration < 7*time.Second || !p.Monotonic {
			t.Errorf("%s cut by kill -9 plays %s (monotonic %v), want at least 7 s",
				filepath.Base(f), p.Duration, p.Monotonic)
		}
	}

	serve(t, bin, dataDir, port)
	detail, err := api.Session(ctx, created.ID)
	if err != nil {
		t.Fatal(err)
	}
	if detail.State != store.SessionInterrupted {
		t.Errorf("after restart the session is %q, want interrupted", detail.State)
	}
	files, _ = filepath.Glob(filepath.Join(dir, "*.webm"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(b, cuesID) {
			t.Errorf("%s has no Cues after recovery: not seekable", filepath.Base(f))
		}
		if p := ffprobe(t, f); p.Duration < 7*time.Second {
			t.Errorf("%s after recovery plays %s", filepath.Base(f), p.Duration)
		}
	}
}
