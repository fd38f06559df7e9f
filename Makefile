# faas-shop: `make dev` runs the whole system, `make test` runs every test.
# Both need only Go; PostgreSQL's server binaries are installed from Debian's
# packages when the machine has none (see postgres-server below).

SHELL := /bin/bash
GO    ?= go
STATE ?= .faas-local
STACK ?= stack.yml
BIN   := $(CURDIR)/bin
STATICCHECK_VERSION := v0.8.2

# Every module of the workspace (go.work), as package patterns.
PACKAGES = $(shell $(GO) list -m -f '{{.Dir}}/...')

.PHONY: dev test build lint bench bench-gateway clean postgres-server tidy-check

## dev: build every function in stack.yml and run the system on http://127.0.0.1:8080
dev: postgres-server
	$(GO) build -o $(BIN)/faas-local ./cmd/faas-local
	$(BIN)/faas-local up -f $(STACK) --state $(STATE)

## test: unit, integration and end-to-end tests against a real PostgreSQL
test: postgres-server
	$(GO) build -o $(BIN)/with-postgres ./cmd/with-postgres
	$(BIN)/with-postgres -- $(GO) test -count=1 -timeout 25m $(PACKAGES)

## build: compile every module (make dev builds each function's build context)
build:
	$(GO) build $(PACKAGES)

## lint: go vet, staticcheck, gofmt and go mod tidy on every module
lint: tidy-check
	$(GO) vet $(PACKAGES)
	GOBIN=$(BIN) $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)
	$(BIN)/staticcheck $(PACKAGES)
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt would change: $$unformatted"; exit 1; fi

tidy-check:
	@for dir in $$($(GO) list -m -f '{{.Dir}}'); do \
		(cd $$dir && GOWORK=off $(GO) mod tidy -diff >/dev/null) || { echo "go mod tidy would change $$dir"; exit 1; }; \
	done

## bench: every benchmark (gateway hop, ...), figures on stdout
bench: postgres-server
	$(GO) build -o $(BIN)/with-postgres ./cmd/with-postgres
	$(BIN)/with-postgres -- $(GO) test -run '^$$' -bench . $(PACKAGES)

## bench-gateway: a function called directly versus through the faas-local gateway
bench-gateway:
	$(GO) test -run '^$$' -bench GatewayHop -benchtime 20000x ./cmd/faas-local/

## clean: remove build contexts, binaries and the local state (databases too)
clean:
	rm -rf build $(BIN) $(STATE)

# PostgreSQL: DATABASE_URL wins; else the machine's initdb/pg_ctl; else
# Debian's postgresql package is installed (with sudo when not root).
postgres-server:
	@if [ -n "$$DATABASE_URL" ] || command -v initdb >/dev/null 2>&1 \
		|| ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then exit 0; fi; \
	echo "PostgreSQL server binaries not found: installing Debian's postgresql package"; \
	if ! command -v apt-get >/dev/null 2>&1; then \
		echo "No apt-get here: install the PostgreSQL server (initdb, pg_ctl) or set DATABASE_URL to a superuser URL."; exit 1; fi; \
	SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq postgresql >/dev/null \
		|| { echo "Installing postgresql failed: install it yourself or set DATABASE_URL."; exit 1; }
