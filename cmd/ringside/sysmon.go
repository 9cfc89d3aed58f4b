package main

import (
	"os"
	"slices"
	"strings"
	"syscall"
)

// mediaGODEBUG keeps the Go runtime's monitor thread (sysmon) out of its deep sleep. When
// every P is idle, sysmon sleeps until a goroutine enters a system call, which wakes it; it
// then polls every 20 µs for a millisecond before it may sleep again. A media server idles
// between packets and makes a system call for each one, so at 20 rooms this wake-and-poll
// cycle was about a fifth of the server's CPU (decision 31, docs/performance.md). With
// schedtrace set, sysmon never deep-sleeps and backs off to one wake-up every 10 ms; the
// trace it would print comes once every 24.8 days (2^31-1 ms).
//
// schedtrace is read only when the runtime starts, so it is set by re-executing the process.
const mediaGODEBUG = "schedtrace=2147483647"

// reexecForMedia restarts the process (same pid, arguments and environment) with
// mediaGODEBUG added to GODEBUG, for the commands that move media (serve, load), unless
// GODEBUG already sets schedtrace. It returns only if it did not re-execute.
func reexecForMedia(args []string) {
	if !movesMedia(args) {
		return
	}
	godebug, _ := os.LookupEnv("GODEBUG")
	if strings.Contains(godebug, "schedtrace=") {
		return
	}
	exe, err := os.Executable()
	if err != nil {
		return
	}
	if godebug != "" {
		godebug += ","
	}
	env := slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "GODEBUG=") })
	env = append(env, "GODEBUG="+godebug+mediaGODEBUG)
	_ = syscall.Exec(exe, os.Args, env) // on success it does not return; else run as we are
}

// movesMedia reports whether args (without the program name) run serve or load.
func movesMedia(args []string) bool {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		return true // serve is the default command
	}
	return args[0] == "serve" || args[0] == "load"
}
