# Entry points: `make demo` (the main job), `make test` (the suite), `make up` (run everything),
# `make bench`, `make lint`. Each bootstraps what it needs on a fresh machine first.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# Debian packages: native headers for pyscard/pycups, and the real local hardware stand-ins.
OS_PACKAGES := libpcsclite-dev libcups2-dev swig pcscd vsmartcard-vpcd cups faketime \
	printer-driver-cups-pdf poppler-utils chromium chromium-driver

.PHONY: install os-packages demo test soak chaos lint up down bench bench-stage bench-biometric chart deploy-tools clean

install: $(STAMP)

$(STAMP): pyproject.toml
	@$(MAKE) --no-print-directory os-packages
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is needed: set PYTHON=python3.11")'
	@test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	$(PY) -m tuntas stack fetch
	@touch $(STAMP)

os-packages:
	@missing=$$(for p in $(OS_PACKAGES); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || echo $$p; done); \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "installing Debian packages: $$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	else \
		echo "missing Debian packages: $$missing -- run: sudo apt-get install $$missing" >&2; exit 1; \
	fi

demo: install
	$(VENV)/bin/tuntas demo $(DEMO_ARGS)

test: install deploy-tools
	$(PY) -m pytest

soak: install
	$(PY) -m pytest -m slow -p no:cacheprovider

# A working day of 2,000 applications at 5 offices under seeded faults, then the checks
# (docs/reliability.md); ends with a one-line summary. CHAOS_ARGS="--seed 7" etc. Its own
# PostgreSQL and 3-node Kafka cluster on free ports (brokers are killed too), niced.
chaos: install
	env -u KAFKA_BOOTSTRAP_SERVERS -u DATABASE_URL TUNTAS_KAFKA_NODES=3 \
		nice -n 10 $(VENV)/bin/tuntas chaos --own-postgres $(CHAOS_ARGS)

# The chart's tools, cached under ~/.cache/tuntas: the pinned Helm (go install, minutes the
# first time) and the Strimzi and CloudNativePG CRD schemas (Maven Central, the Go proxy).
deploy-tools: install
	$(VENV)/bin/tuntas deploy tools

# deploy/helm: the catalog file current, helm lint, each documented size templated and validated.
chart: deploy-tools
	$(VENV)/bin/tuntas deploy check

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

up: install
	$(VENV)/bin/tuntas up

down: install
	$(VENV)/bin/tuntas stack down

bench: install
	$(VENV)/bin/tuntas bench $(BENCH_ARGS)

bench-stage: install
	$(VENV)/bin/tuntas bench-stage

# the biometric stage on its own, capture devices serving people rendered beforehand
bench-biometric: install
	$(VENV)/bin/python -m tuntas.bench.biometric $(BENCH_BIOMETRIC_ARGS)

clean:
	-$(VENV)/bin/tuntas stack down
	rm -rf .tuntas
