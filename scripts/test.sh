#!/usr/bin/env bash
# Runs Ringside's checks: go vet, the test suite, and the race detector on the concurrent
# packages, against a throwaway PostgreSQL that it starts and removes. `make test` runs it.
#
# Usage: scripts/test.sh [PACKAGE_PATTERN...] [GO_TEST_FLAG...]
#   Arguments starting with ./ or ../ are package patterns and replace the default set;
#   everything else is passed to `go test` (e.g. -run TestSettings -v).
#   TEST_PKGS="./a/... ./b/..." also chooses the packages (default ./...).
#
# Works as root on a fresh Debian 12 (as CI runs it: CI=true, no stdin) and as a normal user
# with sudo. Missing system packages are installed; every run uses its own database directory
# and port, so runs may repeat or overlap.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

step() { printf '==> %s\n' "$*"; }
die() {
	printf 'test.sh: %s\n' "$*" >&2
	exit 1
}

sudo_cmd=()
if [[ $(id -u) -ne 0 ]]; then
	sudo_cmd=(sudo)
fi

# --- arguments -------------------------------------------------------------------------------
read -r -a pkgs <<<"${TEST_PKGS:-./...}"
go_flags=()
arg_pkgs=()
for arg in "$@"; do
	case $arg in
	./* | ../*) arg_pkgs+=("$arg") ;;
	*) go_flags+=("$arg") ;;
	esac
done
if ((${#arg_pkgs[@]} > 0)); then
	pkgs=("${arg_pkgs[@]}")
fi

command -v go >/dev/null || die "go is not on PATH"

# --- 1. prerequisites ------------------------------------------------------------------------
step "checking prerequisites (chromium, ffmpeg, postgresql, gcc)"
missing=()
[[ -x /usr/bin/chromium ]] || missing+=(chromium)
command -v ffprobe >/dev/null || missing+=(ffmpeg)
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || missing+=(postgresql)
# The race detector needs cgo, and so a C compiler.
command -v gcc >/dev/null || missing+=(gcc libc6-dev)
if ((${#missing[@]} > 0)); then
	step "installing ${missing[*]}"
	"${sudo_cmd[@]}" apt-get update
	"${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive \
		apt-get install -y --no-install-recommends "${missing[@]}"
fi

# --- 2. throwaway PostgreSQL -----------------------------------------------------------------
pg_bin=$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
[[ -x $pg_bin/initdb && -x $pg_bin/pg_ctl ]] || die "no initdb/pg_ctl under /usr/lib/postgresql"

# PostgreSQL refuses to run as root, so as root its files belong to the postgres user.
run_pg=()
if [[ $(id -u) -eq 0 ]]; then
	id postgres >/dev/null 2>&1 || die "user postgres is missing (reinstall postgresql-common)"
	run_pg=(runuser -u postgres --)
fi

# Under /tmp rather than $TMPDIR: the postgres user must be able to reach it.
pg_dir=$(mktemp -d /tmp/ringside-pg.XXXXXX)
pg_data=$pg_dir/data
stop_pg() {
	if [[ -f $pg_data/postmaster.pid ]]; then
		"${run_pg[@]}" "$pg_bin/pg_ctl" -D "$pg_data" -m fast -w stop >/dev/null 2>&1 || true
	fi
	rm -rf "$pg_dir"
}
trap stop_pg EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
if ((${#run_pg[@]} > 0)); then
	chown postgres:postgres "$pg_dir"
fi

step "initialising PostgreSQL ($(basename "$(dirname "$pg_bin")")) in $pg_dir"
"${run_pg[@]}" "$pg_bin/initdb" -D "$pg_data" -A trust -U postgres -E UTF8 --locale=C --no-sync \
	>"$pg_dir/initdb.log" 2>&1 || {
	cat "$pg_dir/initdb.log" >&2
	die "initdb failed"
}

port=
for ((p = 55432; p < 55632; p++)); do
	if ! bash -c "</dev/tcp/127.0.0.1/$p" 2>/dev/null; then
		port=$p
		break
	fi
done
[[ -n $port ]] || die "no free port in 55432-55631"

# Durability is pointless for a database deleted at exit; turning it off makes the many
# CREATE DATABASE calls of the tests cheap.
step "starting PostgreSQL on 127.0.0.1:$port"
"${run_pg[@]}" "$pg_bin/pg_ctl" -D "$pg_data" -w -t 60 -l "$pg_dir/log" \
	-o "-k $pg_dir -p $port -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
	start >/dev/null || {
	cat "$pg_dir/log" >&2 || true
	die "PostgreSQL did not start"
}
export RINGSIDE_TEST_POSTGRES="postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable"

# --- 3. Go checks ----------------------------------------------------------------------------
# Each step runs even if an earlier one failed, so one run shows every problem.
failed=()

step "gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go') 2>/dev/null || true)
if [[ -n $unformatted ]]; then
	printf 'gofmt needed on:\n%s\n' "$unformatted" >&2
	failed+=("gofmt")
fi

step "go vet ${pkgs[*]}"
go vet "${pkgs[@]}" || failed+=("go vet")

# One package at a time: the end-to-end tests carry real-time media (and browsers), and on a
# 2-core machine two of them side by side would measure the machine, not the code.
step "go test ${pkgs[*]}"
go test -count=1 -timeout 60m -p 1 "${go_flags[@]}" "${pkgs[@]}" || failed+=("go test")

# Every fuzz target runs briefly; a crasher it finds is written to the package's testdata/fuzz/
# and fails the run. FUZZTIME=0 skips this step. The budget is a count of executions, not a
# duration: Go 1.26's fuzz coordinator can report "context deadline exceeded" when a duration
# runs out while a worker is mid-input on a loaded machine (go.dev/issue/75804, fixed in 1.27),
# which would fail the run with no crasher.
fuzztime=${FUZZTIME:-5000x}
if [[ $fuzztime != 0 && ${#go_flags[@]} -eq 0 ]]; then
	while IFS= read -r pkg; do
		[[ -n $pkg ]] || continue
		for target in $(go test -list '^Fuzz' "$pkg" 2>/dev/null | grep '^Fuzz' || true); do
			step "fuzz $pkg $target ($fuzztime)"
			go test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" "$pkg" || failed+=("fuzz $target")
		done
	done < <(go list "${pkgs[@]}" 2>/dev/null || true)
fi

# The race detector runs on the packages where goroutines meet, among those selected above.
# go list drops patterns that match nothing yet, so packages still to be written are no error.
selected=$(go list -e "${pkgs[@]}" 2>/dev/null || true)
race_pkgs=()
while IFS= read -r pkg; do
	[[ -n $pkg ]] && grep -qxF -- "$pkg" <<<"$selected" && race_pkgs+=("$pkg")
done < <(go list -e ./sfu/... ./signaling/... ./recorder/... ./internal/store/... ./internal/client/... ./internal/turnserver/... ./internal/people/... ./internal/coaching/... ./internal/webhook/... ./internal/coachapi/... 2>/dev/null || true)
if ((${#race_pkgs[@]} > 0)); then
	step "go test -race ${race_pkgs[*]}"
	go test -race -count=1 -timeout 40m -p 1 "${go_flags[@]}" "${race_pkgs[@]}" || failed+=("go test -race")
else
	step "go test -race: no sfu, signaling or store packages selected"
fi

if ((${#failed[@]} > 0)); then
	(
		IFS=,
		printf 'FAILED: %s\n' "${failed[*]}" >&2
	)
	exit 1
fi
step "all checks passed"
