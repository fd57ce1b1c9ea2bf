# The front door. `make run` starts everything with demo data; `make test` runs every test
# against its own servers. See README.md.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PACKAGES := contracts services/declaration services/media services/notifier services/labels deploy tools/admin tools/bench
SOURCES := contracts/src services/*/src deploy/src deploy/scripts contracts/tests services/*/tests services/*/scripts tests tools/admin/src tools/admin/tests tools/bench/src tools/bench/tests

.PHONY: venv lock build run test test-faults fuzz lint stop clean schemas docs status bench bench-media bench-startup chromium deploy-tools prometheus ops

venv: $(STAMP)

# Third-party packages come from requirements.lock only (exact versions, sha256 hashes); the
# local packages are then installed editable, without dependencies or build isolation (their
# build backends are in the lock too). `make lock` updates the lock (README: Production).
$(STAMP): requirements.lock $(addsuffix /pyproject.toml,$(PACKAGES))
	@command -v $(PYTHON) >/dev/null || { echo "$(PYTHON) is needed (Python 3.11+)"; exit 1; }
	@echo "==> creating the development virtualenv in $(VENV)"
	@$(PYTHON) -m venv $(VENV)
	@$(BIN)/pip install --quiet --require-hashes --no-deps -r requirements.lock
	@$(BIN)/pip install --quiet --no-deps --no-build-isolation $(addprefix -e ./,$(PACKAGES))
	@touch $@

## lock: recompile requirements.lock and the images' locks from requirements-dev.txt and the
## packages' pyproject.toml, keeping locked versions; `make lock UPGRADE=1` takes the newest
lock: venv
	@deploy/scripts/lock.sh $(if $(UPGRADE),--upgrade)

## build: fetch or build Kafka, FerretDB, versitygw and Mailpit into the cache (once)
build: venv
	@$(BIN)/returns-infra build

## run: servers + the four services + demo data; prints the URLs; Ctrl-C stops everything
run: build
	@$(BIN)/returns-infra --profile dev run

## ops: `make run` with monitoring: Debian's Prometheus scraping the four services, Kafka
## (JMX exporter javaagent) and the consumer-lag exporter, with our alert rules and dashboards
## (README: Monitoring); prints the dashboards' URLs; Ctrl-C stops everything
ops: build prometheus
	@$(BIN)/returns-infra --profile dev --monitoring run

## test: the same bootstrap on the test profile's own ports, then every test, then stop
test: build chromium deploy-tools prometheus
	@deploy/scripts/test.sh

## test-faults: the fault suite in full (README: Fault suite): 500 returns submitted through the
## API while every service, Kafka, the store and Mailpit are killed with -9 in turn and started
## again, then scale-out; prints the counts and the recovery times. `make test` runs a short form.
## Then its end-to-end part again with the whole system on the three-broker Kafka cluster.
test-faults: build
	@RETURNS_FAULTS=full deploy/scripts/test.sh tests/faults
	@RETURNS_FAULTS=full RETURNS_KAFKA_NODES=3 deploy/scripts/test.sh -m e2e tests/faults/test_kafka_cluster.py

## fuzz: schemathesis over the four services' OpenAPI documents, every phase, many examples
## (FUZZ_EXAMPLES per operation and generation mode; `make test` runs a few of them)
FUZZ_EXAMPLES ?= 100
fuzz: build
	@RETURNS_FUZZ=full RETURNS_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) deploy/scripts/test.sh tests/e2e/test_openapi_fuzz.py

## chromium: Debian's Chromium for the browser tests (tests/browser), installed once, as root
chromium:
	@if [ -x /usr/bin/chromium ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "==> installing Debian's chromium for the browser tests"; \
	  apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium; \
	else \
	  echo "chromium is missing: run 'sudo apt-get install -y chromium' (the browser tests fail without it)"; \
	  exit 1; \
	fi

## deploy-tools: what checks deploy/compose and deploy/k8s offline (tests/deploy): Debian's
## docker-compose (apt-get, as root), kubeconform and kustomize built from their Go modules into
## the cache, once; yamllint, hadolint and the Kubernetes schemas come from requirements.lock
deploy-tools:
	@deploy/scripts/deploy_tools.sh install

## prometheus: Debian's Prometheus (and its promtool) for `make ops` and the alert-rule tests,
## installed once, as root. returns-infra runs /usr/bin/prometheus as its own process with its
## own port, config and data dir per profile; the package's own service is never used.
prometheus:
	@if [ -x /usr/bin/prometheus ] && [ -x /usr/bin/promtool ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "==> installing Debian's prometheus (server, promtool, console libraries)"; \
	  apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends prometheus; \
	else \
	  echo "prometheus is missing: run 'sudo apt-get install -y --no-install-recommends prometheus' (make ops and the alert-rule tests need it)"; \
	  exit 1; \
	fi

## bench: the bench profile's servers and services, the portal API under load, the consumers'
## delays and the servers' raw limits; a JSON report and plots in .bench/ (README: Benchmark).
## Another scenario: make bench BENCH_ARGS="--stored 100000 --rate 10 --duration 60"
BENCH_ARGS ?= --stored 1000 --concurrency 8 --duration 30 --max-journeys 400
bench: build
	@$(BIN)/returns-bench --profile bench --start --fresh $(BENCH_ARGS)

## bench-media: time for media to accept a 4 MB, 12-megapixel photo (median, worst of 20), RSS
bench-media: build
	@$(BIN)/python services/media/scripts/upload_bench.py

## bench-startup: each service's start-up, exec to /readyz 200, with the bench profile's servers
## up and topics and indexes already there (README: Start-up); 5 starts per service
bench-startup: build
	@$(BIN)/python -m returns_bench.startup --profile bench --start --runs 5

lint: venv
	@$(BIN)/ruff check .
	@$(BIN)/ruff format --check .
	@$(BIN)/mypy $(SOURCES)

## schemas: regenerate the committed JSON Schemas of the messages
schemas: venv
	@$(BIN)/python -m returns_contracts.schemas write

## docs: write every service's AsyncAPI document (topics, keys, payloads) under docs/asyncapi/
docs: venv
	@$(BIN)/python deploy/scripts/write_asyncapi.py docs/asyncapi

status: venv
	@$(BIN)/returns-infra --profile dev status || true
	@$(BIN)/returns-infra --profile test status || true

stop: venv
	@$(BIN)/returns-infra --profile dev stop
	@$(BIN)/returns-infra --profile test stop
	@$(BIN)/returns-infra --profile bench stop

clean:
	@if [ -x $(BIN)/returns-infra ]; then \
	  $(BIN)/returns-infra --profile dev clean; $(BIN)/returns-infra --profile test clean; \
	  $(BIN)/returns-infra --profile bench clean; fi
	@rm -rf $(VENV) .run .mypy_cache .ruff_cache .pytest_cache
