// Package e2e holds end-to-end tests that cross packages: a whole server (apptest, or the
// ringside binary as its own process) with real Pion peers, and real ffprobe on what it
// recorded. It has no non-test code.
package e2e
