# Ringside's entry points. `make run` starts a server with the defaults (data in ./data,
# SQLite, HTTP on :8080); `make test` runs every check, installing what it needs.

GO ?= go
BIN := bin/ringside

.PHONY: run build test bench lint fuzz clean

run:
	$(GO) run ./cmd/ringside serve

build:
	$(GO) build -o $(BIN) ./cmd/ringside

test:
	bash scripts/test.sh

bench:
	bash scripts/bench.sh

lint:
	@unformatted=$$(gofmt -l .); \
	if [ -n "$$unformatted" ]; then \
		echo "gofmt needed on:"; echo "$$unformatted"; exit 1; \
	fi
	$(GO) vet ./...

# Runs each fuzz target for FUZZTIME (default 30s). Crashers land in testdata/fuzz/.
FUZZTIME ?= 30s
fuzz:
	@set -e; for pkg in $$($(GO) list ./...); do \
		for target in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
			echo "==> $$pkg $$target"; \
			$(GO) test -run '^$$' -fuzz "^$$target$$" -fuzztime $(FUZZTIME) $$pkg; \
		done; \
	done

clean:
	rm -rf bin
