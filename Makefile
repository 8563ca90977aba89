# ringcast: every target does its own set-up, so `make demo` and `make test` work on a fresh
# Debian 12 machine as root. Heavy downloads (the Asterisk root) are cached outside the repo.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml constraints.txt | sha1sum | cut -c1-12)
PYTEST := $(BIN)/pytest -p no:cacheprovider

.PHONY: help system-deps venv lab lab-down lint unit db integration test demo clean

help:
	@echo "make demo   - set up everything, bring the Asterisk lab up and run the demo"
	@echo "make test   - set up everything and run the whole suite (lint, unit, SQLite+PostgreSQL, lab)"
	@echo "make unit | db | integration | lint | lab | lab-down | clean"

# Debian packages: debootstrap (lab root), espeak-ng and sox (survey prompts), PostgreSQL server (tests),
# venv support.
system-deps:
	@missing=""; \
	command -v debootstrap >/dev/null || missing="$$missing debootstrap"; \
	command -v espeak-ng >/dev/null || missing="$$missing espeak-ng"; \
	command -v sox >/dev/null || missing="$$missing sox"; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	$(PYTHON) -c 'import ensurepip, venv' 2>/dev/null || missing="$$missing python3-venv"; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  [ "$$(id -u)" = 0 ] || { echo "error: need root to apt-get install$$missing"; exit 1; }; \
	  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing; \
	fi

$(STAMP): pyproject.toml constraints.txt
	@[ -x $(BIN)/python ] || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -c constraints.txt -e '.[dev]'
	@rm -f $(VENV)/.installed-*; touch $@

venv: system-deps $(STAMP)

lab: venv
	$(BIN)/ringcast lab up

lab-down: venv
	$(BIN)/ringcast lab down

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/mypy bench

unit: venv
	$(PYTEST) tests/unit

db: venv
	$(PYTEST) -m "db and not lab"

integration: venv
	$(PYTEST) -m lab

# The whole suite: lint, then every test tier (the lab and a private PostgreSQL are started by the tests).
test: venv
	$(MAKE) --no-print-directory lint
	$(PYTEST)

SAMPLE   := ../shared/data/sample-contacts-gbk.csv
SCENARIO := ../shared/scenarios/telesales-20.yaml

# The demo, step by step: the sample GBK list imported (every row accounted for), calls through the
# lab, a two-minute predictive campaign with five simulated agents and its report, then the pacer
# against progressive in the simulator.
demo: lab
	$(BIN)/ringcast db upgrade
	@[ -f $(SAMPLE) ] || { echo "error: $(SAMPLE) not found: the demo dials that list"; exit 1; }
	$(BIN)/ringcast import $(SAMPLE) --list demo-sample --rejects demo-rejects.csv
	$(BIN)/ringcast demo
	@if [ -f $(SCENARIO) ]; then for mode in progressive predictive; do \
	  echo "simulated 4-hour campaign, 20 agents, $$mode:"; \
	  $(BIN)/ringcast simulate $(SCENARIO) --mode $$mode --seed 1 || exit 1; done; fi

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache demo-rejects.csv
