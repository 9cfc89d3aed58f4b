#!/usr/bin/env bash
# Runs Ringside's Go benchmarks (the media path in sfu/ for now). `make bench` runs it.
# Extra arguments go to `go test`, e.g. scripts/bench.sh -benchtime 5s -count 3.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
exec go test -run '^$' -bench . -benchmem "$@" ./sfu/...
