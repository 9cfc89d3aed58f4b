package main

import (
	"bytes"
	"flag"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"ringside/internal/app/apptest"
)

func testEnv(vars map[string]string) (*env, *bytes.Buffer, *bytes.Buffer) {
	var stdout, stderr bytes.Buffer
	return &env{
		stdout: &stdout,
		stderr: &stderr,
		lookup: func(k string) (string, bool) { v, ok := vars[k]; return v, ok },
	}, &stdout, &stderr
}

func TestFlagEnvPrecedence(t *testing.T) {
	newFS := func() (*flag.FlagSet, *string, *time.Duration, *uint16Flag) {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		listen := fs.String("listen", ":8080", "")
		grace := fs.Duration("grace", 30*time.Second, "")
		var port uint16Flag
		fs.Var(&port, "udp-port-min", "")
		return fs, listen, grace, &port
	}

	// Default when neither is set.
	fs, listen, grace, _ := newFS()
	e, _, _ := testEnv(nil)
	if _, ok := parse(fs, nil, e); !ok || *listen != ":8080" || *grace != 30*time.Second {
		t.Errorf("defaults: listen %q grace %v", *listen, *grace)
	}
	// Env over default.
	fs, listen, grace, port := newFS()
	e, _, _ = testEnv(map[string]string{"RINGSIDE_LISTEN": ":9000", "RINGSIDE_GRACE": "5s", "RINGSIDE_UDP_PORT_MIN": "40000"})
	if _, ok := parse(fs, nil, e); !ok || *listen != ":9000" || *grace != 5*time.Second || *port != 40000 {
		t.Errorf("env: listen %q grace %v port %d", *listen, *grace, *port)
	}
	// Flag over env.
	fs, listen, _, _ = newFS()
	e, _, _ = testEnv(map[string]string{"RINGSIDE_LISTEN": ":9000"})
	if _, ok := parse(fs, []string{"--listen", ":7000"}, e); !ok || *listen != ":7000" {
		t.Errorf("flag: listen %q", *listen)
	}
	// A bad env value is a usage error that names the variable.
	fs, _, _, _ = newFS()
	e, _, stderr := testEnv(map[string]string{"RINGSIDE_UDP_PORT_MIN": "70000"})
	if code, ok := parse(fs, nil, e); ok || code != 2 || !strings.Contains(stderr.String(), "RINGSIDE_UDP_PORT_MIN") {
		t.Errorf("bad env: code %d ok %v stderr %q", code, ok, stderr)
	}
	// Only the named flags read the environment.
	fs, listen, _, _ = newFS()
	e, _, _ = testEnv(map[string]string{"RINGSIDE_LISTEN": ":9000"})
	if _, ok := parse(fs, nil, e, "grace"); !ok || *listen != ":8080" {
		t.Errorf("only grace: listen %q", *listen)
	}
}

func TestEnvName(t *testing.T) {
	for flagName, want := range map[string]string{"udp-port-min": "RINGSIDE_UDP_PORT_MIN", "data": "RINGSIDE_DATA", "public-url": "RINGSIDE_PUBLIC_URL"} {
		if got := envName(flagName); got != want {
			t.Errorf("envName(%q) = %q, want %q", flagName, got, want)
		}
	}
}

func TestHelpAndVersion(t *testing.T) {
	tests := []struct {
		args []string
		code int
		want string // in stdout+stderr
	}{
		{[]string{"help"}, 0, "Commands:"},
		{[]string{"help", "serve"}, 0, "RINGSIDE_UDP_PORT_MAX"},
		{[]string{"serve", "--help"}, 0, "RINGSIDE_MAX_PARTICIPANTS"},
		{[]string{"--help"}, 0, "RINGSIDE_LISTEN"},
		{[]string{"version"}, 0, "ringside "},
		{[]string{"nope"}, 2, "unknown command"},
		{[]string{"serve", "--no-such-flag"}, 2, "no-such-flag"},
		{[]string{"serve", "extra"}, 2, "unexpected argument"},
		{[]string{"session"}, 2, "session create"},
		{[]string{"session", "--help"}, 0, "session create"},
		{[]string{"session", "create"}, 2, "--title"},
		{[]string{"session", "create", "--title", "x"}, 2, "RINGSIDE_ADMIN_TOKEN"},
	}
	for _, tt := range tests {
		e, stdout, stderr := testEnv(nil)
		code := run(tt.args, e)
		out := stdout.String() + stderr.String()
		if code != tt.code || !strings.Contains(out, tt.want) {
			t.Errorf("ringside %v: code %d, want %d with %q in:\n%s", tt.args, code, tt.code, tt.want, out)
		}
	}
}

func TestServeHelpDocumentsEveryFlag(t *testing.T) {
	e, _, stderr := testEnv(nil)
	run([]string{"serve", "--help"}, e)
	for _, f := range []string{"listen", "data", "db", "public-url", "udp-port-min", "udp-port-max", "public-ip", "log-level", "grace", "max-participants", "max-sessions"} {
		if !strings.Contains(stderr.String(), "-"+f+" ") || !strings.Contains(stderr.String(), envName(f)) {
			t.Errorf("serve --help lacks --%s or %s", f, envName(f))
		}
	}
}

func TestSessionCreate(t *testing.T) {
	srv := apptest.Start(t)
	e, stdout, stderr := testEnv(map[string]string{"RINGSIDE_ADMIN_TOKEN": srv.AdminToken, "RINGSIDE_URL": srv.URL})
	code := run([]string{"session", "create", "--title", "Discovery call", "--rep", "Ana", "--record=false"}, e)
	if code != 0 {
		t.Fatalf("code %d, stderr %s", code, stderr)
	}
	out := stdout.String()
	for _, role := range []string{"rep", "partner", "coach"} {
		if !strings.Contains(out, "  "+role) {
			t.Errorf("no %s line in:\n%s", role, out)
		}
	}
	if strings.Count(out, srv.URL+"/join/") != 3 || !strings.Contains(out, "not recorded") {
		t.Errorf("output:\n%s", out)
	}

	e, _, stderr = testEnv(map[string]string{"RINGSIDE_ADMIN_TOKEN": "wrong-token-wrong-token"})
	if code := run([]string{"session", "create", "--title", "x", "--url", srv.URL}, e); code != 1 || !strings.Contains(stderr.String(), "unauthorized") {
		t.Errorf("wrong token: code %d, stderr %s", code, stderr)
	}
}

// TestLoadHelpDocumentsEveryFlag: every flag load.go defines appears, with its help, in
// `ringside load --help` (the flags are read from the source, so a new one is covered too).
func TestLoadHelpDocumentsEveryFlag(t *testing.T) {
	src, err := os.ReadFile("load.go")
	if err != nil {
		t.Fatal(err)
	}
	flags := regexp.MustCompile(`fs\.\w+\((?:&[\w.]+, )?"([a-z-]+)"`).FindAllStringSubmatch(string(src), -1)
	if len(flags) < 20 {
		t.Fatalf("found %d flags in load.go, want the 20 or more it defines", len(flags))
	}
	e, _, stderr := testEnv(nil)
	run([]string{"load", "--help"}, e)
	for _, f := range flags {
		if !strings.Contains(stderr.String(), "  -"+f[1]+" ") && !strings.Contains(stderr.String(), "  -"+f[1]+"\n") {
			t.Errorf("load --help lacks --%s:\n%s", f[1], stderr.String())
		}
	}
}
