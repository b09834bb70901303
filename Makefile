# Builds the module binaries into plugins/bin (one per module and
# architecture) and the simulator into bin/; runs the tests and the demo.
# Go lives at /usr/local/go on the machines we support; put it on PATH for
# every recipe so that make works from a plain root shell.
export PATH := /usr/local/go/bin:$(PATH)
GO ?= go
ARCHES := amd64 arm64
API_MODULES := device_collection workload device authority_info device_collection_info workload_info device_info devices enrollment_token
TARGET_MODULES := tpm_ek_info
MODULES := $(API_MODULES) $(TARGET_MODULES)
PLUGIN_BIN := plugins/bin
GOFLAGS_BUILD := -trimpath -ldflags "-s -w -buildid="

.PHONY: all deps build modules sim test unit e2e demo bench clean

all: build

# Installs the Debian packages and Go modules the build and tests need,
# only those missing.
deps:
	scripts/install-deps.sh

build: modules sim
	@echo "built binaries:"
	@for f in $(PLUGIN_BIN)/* bin/smallstep-sim; do \
	  printf '  %-40s %8d bytes (%s MiB)\n' "$$f" "$$(stat -c %s $$f)" "$$(awk "BEGIN{printf \"%.2f\", $$(stat -c %s $$f)/1048576}")"; \
	done

modules:
	@mkdir -p $(PLUGIN_BIN)
	@for m in $(MODULES); do for a in $(ARCHES); do \
	  CGO_ENABLED=0 GOOS=linux GOARCH=$$a $(GO) build $(GOFLAGS_BUILD) -o $(PLUGIN_BIN)/$${m}_linux_$$a ./modules-src/cmd/$$m || exit 1; \
	done; done

sim:
	@mkdir -p bin
	CGO_ENABLED=0 $(GO) build $(GOFLAGS_BUILD) -o bin/smallstep-sim ./modules-src/cmd/smallstep-sim

# The README's test command: gofmt, go vet, Go unit tests, the docs check,
# ansible-lint and ansible-test sanity, then end-to-end tests through
# ansible-playbook against the simulator and software TPMs.
test: deps build unit e2e

unit:
	@test -z "$$(gofmt -l modules-src)" || { echo "gofmt would change:"; gofmt -l modules-src; exit 1; }
	$(GO) vet ./modules-src/...
	$(GO) test -race -count=1 ./modules-src/...
	python3 tests/docs/check_docs.py
	$(MAKE) --no-print-directory lint
	$(MAKE) --no-print-directory sanity

e2e:
	tests/e2e/run.sh

demo: deps build
	playbooks/demo.sh

bench: build
	tests/bench/run.sh

# The robustness figures (issue 4): the e2e target load's scenario (200
# hosts, forks 20, 10% injected faults, the simulator killed with SIGKILL
# mid-run), then requests sent, faults injected, retries, tasks failed,
# devices lost and secrets found. Fails when a device was lost or a secret
# found.
.PHONY: robustness
robustness: build
	tests/robustness/run.sh

# The collection tarball for Galaxy or an offline install, in dist/ (or
# DIST=DIR): module binaries for every architecture, their docs, the role,
# the main play, meta/ and execution-environment.yml; galaxy.yml's
# build_ignore keeps out the Go sources, tests and build state. A binary in
# plugins/bin that no module of this Makefile builds would ship stale, so it
# stops the build.
.PHONY: dist
DIST ?= dist
dist: modules
	@for f in $(PLUGIN_BIN)/*; do \
	  case " $(foreach m,$(MODULES),$(foreach a,$(ARCHES),$(PLUGIN_BIN)/$(m)_linux_$(a))) " in \
	  *" $$f "*) ;; \
	  *) echo "dist: $$f is not built by this Makefile (MODULES, ARCHES); remove it or make clean"; exit 1;; \
	  esac; \
	done
	@mkdir -p $(DIST)
	rm -f $(DIST)/stepfleet-smallstep-*.tar.gz
	ansible-galaxy collection build --output-path $(DIST)

# ansible-lint (.ansible-lint: profile production, offline) on the role and
# the playbooks, with this collection resolved from the work tree through a
# temporary collections path. Its warnings that it cannot load the binary
# modules to check their options are expected.
.PHONY: lint
lint:
	@tmp=$$(mktemp -d) && mkdir -p $$tmp/ansible_collections/stepfleet && \
	  ln -s "$(CURDIR)" $$tmp/ansible_collections/stepfleet/smallstep && \
	  ANSIBLE_COLLECTIONS_PATH=$$tmp ansible-lint --offline roles/ playbooks/; \
	  rc=$$?; rm -rf $$tmp; exit $$rc

# ansible-test sanity (ansible-core 2.14) on a copy of the tree under a
# temporary ansible_collections/stepfleet/smallstep, offline, with Debian's
# packages standing in for its pip requirements; tests/README.md lists the
# tests skipped and why.
.PHONY: sanity
sanity:
	tests/sanity/run.sh

clean:
	rm -rf $(PLUGIN_BIN) bin build $(DIST)
