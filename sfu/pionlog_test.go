package sfu

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

// TestPionLogs: Pion's errors reach the server's log as warnings and its warnings as debug
// lines, with their scope; what Pion says at info level or below is dropped; a scope has one
// logger for every connection.
func TestPionLogs(t *testing.T) {
	var buf bytes.Buffer
	f := newPionLogs(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})))
	ice := f.NewLogger("ice")
	if f.NewLogger("ice") != ice {
		t.Error("a second connection got another logger for the same scope")
	}
	ice.Errorf("candidate %d failed", 7)
	ice.Warn("discarded message")
	ice.Info("state changed")
	ice.Debugf("ping %d", 1)
	ice.Trace("bytes")
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("logged %d lines, want 2:\n%s", len(lines), buf.String())
	}
	for i, want := range []string{`level=WARN msg="candidate 7 failed" pion=ice`, `level=DEBUG msg="discarded message" pion=ice`} {
		if !strings.Contains(lines[i], want) {
			t.Errorf("line %d is %q, want it to contain %q", i, lines[i], want)
		}
	}
}
