# orch — run `make` to list targets.
SHELL := /bin/bash
GO ?= go
BIN := bin/orch
VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X github.com/orchceph/orch/internal/cli.Version=$(VERSION)
SHARED ?= ../shared
# Tests read cephadm's conformance cases from here.
export ORCH_SHARED ?= $(abspath $(SHARED))
PY := /usr/bin/python3
export CGO_ENABLED := 0

.DEFAULT_GOAL := help

.PHONY: help
help: ## list targets
	@grep -hE '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN{FS=":.*?## "}{printf "  %-18s %s\n", $$1, $$2}'

.PHONY: build
build: ## build the static binary bin/orch
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/orch

.PHONY: deps
deps: ## install what the tests need (Debian packages), when missing
	@./scripts/deps.sh

.PHONY: test
test: deps build ## unit, race, fuzz-seed, integration and conformance tests (what CI runs)
	CGO_ENABLED=1 $(GO) test -race -count=1 ./...
	$(MAKE) test-integration
	$(MAKE) e2e
	$(MAKE) test-mgr
	$(MAKE) e2e-mgr
	$(MAKE) conformance

INTEGRATION_PKGS ?= ./hostlab/... ./internal/agent/... ./internal/cli/... ./orchestrator/...

.PHONY: test-integration
test-integration: deps build ## integration tests on real lab hosts, real sshd and podman (root)
	$(GO) test -tags integration -count=1 -p 1 -timeout 30m $(INTEGRATION_PKGS)

.PHONY: unit
unit: ## unit tests only
	$(GO) test -count=1 ./...

.PHONY: test-mgr
test-mgr: ## unit tests of the ceph-mgr module against the real orchestrator classes
	cd mgr && PYTHONDONTWRITEBYTECODE=1 $(PY) -m unittest tests

.PHONY: e2e
e2e: deps build ## issue 7's scenario: a real 3-host Ceph cluster driven through the orch CLI (root)
	ORCH_BIN=$(CURDIR)/$(BIN) $(GO) test -tags e2e -count=1 -timeout 25m -v ./e2e/

.PHONY: e2e-mgr
e2e-mgr: build ## real mon + mgr with the orch module, driving orch serve and a lab host
	ORCH_BIN=$(CURDIR)/$(BIN) mgr/e2e/run.sh

.PHONY: conformance
conformance: build ## cephadm's own test cases against orch spec validate / orch plan
	@if [ ! -f $(SHARED)/conformance/run.py ]; then \
	  echo "== conformance SKIPPED: no $(SHARED)/conformance/run.py here (make SHARED=DIR conformance)"; exit 0; \
	fi; \
	for fam in $(CONFORMANCE_FAMILIES); do \
	  echo "== conformance --family $$fam"; \
	  $(PY) $(SHARED)/conformance/run.py --orch $(BIN) --family $$fam || exit 1; \
	done
CONFORMANCE_FAMILIES ?= spec placement scheduling drives

.PHONY: verify
verify: ## gofmt, go vet, staticcheck, go mod tidy check
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); echo "gofmt needed"; exit 1)
	$(GO) vet ./...
	@test -x "$$($(GO) env GOPATH)/bin/staticcheck" || $(GO) install honnef.co/go/tools/cmd/staticcheck@latest
	"$$($(GO) env GOPATH)/bin/staticcheck" ./...
	@cp go.mod /tmp/orch.go.mod.bak; cp go.sum /tmp/orch.go.sum.bak; $(GO) mod tidy; \
	 if ! diff -q go.mod /tmp/orch.go.mod.bak >/dev/null || ! diff -q go.sum /tmp/orch.go.sum.bak >/dev/null; then \
	   cp /tmp/orch.go.mod.bak go.mod; cp /tmp/orch.go.sum.bak go.sum; echo "go mod tidy would change go.mod/go.sum"; exit 1; fi

.PHONY: bench
bench: ## benchmarks (numbers go in docs/benchmarks.md)
	$(GO) test -p 1 -run '^$$' -bench . -benchmem ./...

.PHONY: fuzz
fuzz: ## run every fuzz target for FUZZTIME each (default 30s)
	@for pkg in $$($(GO) list ./...); do \
	  for t in $$($(GO) test -list '^Fuzz' $$pkg | grep ^Fuzz); do \
	    echo "== $$pkg $$t"; $(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime $${FUZZTIME:-30s} $$pkg || exit 1; \
	  done; \
	done

.PHONY: man
man: build ## write man pages to man/
	$(BIN) man man

.PHONY: demo
demo: deps build ## build, and show what orch does (grows with the product)
	@./scripts/demo.sh

.PHONY: clean
clean: ## remove build outputs
	rm -rf bin man

.PHONY: demo-down
demo-down: ## remove what make demo started
	@./scripts/demo-down.sh

.PHONY: images
images: ## build localhost/ceph:<debian version> and localhost/orch-testapp without a registry (cached)
	images/build-ceph-image.sh
	images/build-testapp-image.sh

.PHONY: images-verify
images-verify: ## build both images and smoke-test a one-host Ceph cluster in the ceph image
	images/verify.sh --smoke
