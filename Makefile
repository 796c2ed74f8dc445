# zocket — the two commands of the README, and the tools around them.
#   make demo   a UDP ping-pong between two processes over net_memif on the embedded default
#               config (configs/memif-*.attr), printing latency percentiles
#   make test   installs what the tests need (DPDK, hugepages: scripts/setup), then vet, the
#               tests, and the tests again under the race detector (which also enables checkptr)
SHELL := /bin/bash
GO    ?= go
PKGS  := ./...
export PATH := $(PATH):/usr/local/go/bin

.PHONY: all setup build test demo bench fuzz lint clean

all: build

setup:
	@scripts/setup

build: setup
	$(GO) build -o bin/ ./cmd/...

test: setup  # -p 1: test binaries busy-poll, and net_af_packet fanout ids can collide across processes
	$(GO) vet $(PKGS)
	$(GO) test -p 1 -count=1 -timeout 15m $(PKGS)
	$(GO) test -race -p 1 -count=1 -timeout 15m $(PKGS)

demo: build
	@scripts/demo

bench: build
	@scripts/bench

# Each fuzz target for FUZZTIME (default 60s), one after another.
FUZZTIME ?= 60s
fuzz:
	@for f in $$($(GO) test ./wire -list '^Fuzz' | grep ^Fuzz); do \
		echo "== $$f"; $(GO) test ./wire -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) -parallel 1 || exit 1; \
	done

# staticcheck pinned by version (2026.2.2), so that lint does not change under the code.
STATICCHECK ?= honnef.co/go/tools/cmd/staticcheck@v0.8.2
lint:
	gofmt -l . | (! grep .)
	$(GO) vet $(PKGS)
	$(GO) run $(STATICCHECK) $(PKGS)

clean:
	rm -rf bin
