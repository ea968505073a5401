# ebm-study: `make run` and `make test` set everything up on a fresh machine.
.DEFAULT_GOAL := help
SHELL := /bin/bash

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
# Extras: dev (tests, lint), server (PostgreSQL driver, basic auth), ray (the Ray launcher).
EXTRAS ?= dev,server,ray
# uv installs .venv from the committed uv.lock: the same versions on every machine. A uv on
# PATH is used; otherwise this version is installed once into .tools/ (from PyPI, with pip).
UV_VERSION := 0.13.9
UV ?= $(or $(shell command -v uv),$(CURDIR)/.tools/bin/uv)
# .venv is synced again when pyproject.toml, uv.lock or EXTRAS change. Bytecode is compiled at
# install, as pip does: uv skips it by default, and where Python may not write .pyc files
# (PYTHONDONTWRITEBYTECODE) every process then compiled its imports again (the suite 1.8x slower).
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml uv.lock | cksum | cut -d' ' -f1)-$(EXTRAS)
UI_PORT ?= 5000
SERVE_PORT ?= 5001
SERVER_PORT ?= 5000
SERVER_HOST ?= 127.0.0.1
SERVER_WORKERS ?= 4
AUTH ?= 0
RAY_PORT ?= 6379
MODEL ?= models:/ebm-study@champion
STORE := sqlite:///$(CURDIR)/mlruns/mlflow.db

$(STAMP): pyproject.toml uv.lock | $(UV)
	@rm -f $(VENV)/.installed-*
	$(UV) sync --frozen --quiet --compile-bytecode --python $(PYTHON) $(addprefix --extra ,$(subst $(comma), ,$(EXTRAS)))
	@touch $@

comma := ,

$(CURDIR)/.tools/bin/uv:
	$(PYTHON) -m venv .tools
	.tools/bin/python -m pip install --quiet uv==$(UV_VERSION)

## lock: upgrade every dependency within pyproject.toml's bounds, into uv.lock (then commit it)
lock: | $(UV)
	$(UV) lock --upgrade

.PHONY: help setup lock run test test-sweeps test-faults test-team test-ui test-all lint ui serve bench bench-tail bench-data bench-rows clean-store server server-stop \
	server-status ray ray-stop migrate

## help: list the targets
help:
	@grep -E '^## ' $(MAKEFILE_LIST) | sed 's/^## /  make /'

## setup: create .venv and install the project (run and test do this for you)
setup: $(STAMP)

## run: the default study: a quick sweep of seeds and settings into mlruns/mlflow.db
run: $(STAMP)
	$(BIN)/ebm-study -m experiment=quick

## test: the fast suite (no team set-up, no browser, no hard faults, no sweeps of their own)
test: $(STAMP)
	$(BIN)/python -m pytest -m "not slow and not team and not browser and not faults and not sweeps"

## test-sweeps: real sweeps of their own: seeds on demand, the search, Ctrl-C, rare positives (~4 min)
test-sweeps: $(STAMP)
	$(BIN)/python -m pytest -m "sweeps and not slow"

## test-faults: hard faults for real: sweeps killed with SIGKILL and re-run, launches at once
test-faults: $(STAMP)
	$(BIN)/python -m pytest -m "faults and not slow"

## test-ui: MLflow's UI in headless Chromium (needs Debian's chromium: apt-get install chromium)
test-ui: $(STAMP)
	$(BIN)/python -m pytest -m "browser and not slow"

## test-team: the team set-up for real: PostgreSQL, MLflow's server with logins, Ray
test-team: $(STAMP)
	$(BIN)/python -m pytest -m "team and not slow"

## test-all: every test, the team set-up and the multi-minute paper study included
test-all: $(STAMP)
	$(BIN)/python -m pytest

## lint: ruff's lint and format checks
lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

## bench: what tracking adds to the fits, side by side (about 10 minutes; BENCH_ARGS="--runs 50")
bench: $(STAMP)
	$(BIN)/python benchmarks/bench.py $(BENCH_ARGS)

## bench-tail: the round cap: the slowest fit against the median, and accuracy, on breast cancer and two larger tables
bench-tail: $(STAMP)
	$(BIN)/python benchmarks/tail.py $(BENCH_ARGS)

## bench-data: a 300,000-row table with text categories: tracking and the study against the fits (~5 minutes)
bench-data: $(STAMP)
	$(BIN)/python benchmarks/data.py $(BENCH_ARGS)

## bench-rows: the per-row study's cost against the sweep, on make run's sweep and a 50,000-row table (~2 minutes)
bench-rows: $(STAMP)
	$(BIN)/python benchmarks/rows.py $(BENCH_ARGS)

## ui: the MLflow UI on the embedded store; prints the URL of the study's runs
ui: $(STAMP)
	@$(BIN)/python -m ebm_study.commands.ui --base http://127.0.0.1:$(UI_PORT) --tracking-uri $(STORE)
	$(BIN)/mlflow ui --backend-store-uri $(STORE) --host 127.0.0.1 --port $(UI_PORT)

## serve: MLflow's model server for the champion, at http://127.0.0.1:$(SERVE_PORT)/invocations
serve: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" MLFLOW_TRACKING_URI="$${MLFLOW_TRACKING_URI:-$(STORE)}" \
	  $(BIN)/mlflow models serve -m "$(MODEL)" --env-manager local -h 127.0.0.1 -p $(SERVE_PORT)

## server: a team's MLflow tracking server on PostgreSQL, http://127.0.0.1:$(SERVER_PORT) (AUTH=1: logins)
server: $(STAMP)
	SERVER_PORT=$(SERVER_PORT) SERVER_WORKERS=$(SERVER_WORKERS) AUTH=$(AUTH) SERVER_HOST=$(SERVER_HOST) \
	  MLFLOW=$(CURDIR)/$(BIN)/mlflow scripts/server.sh start

## server-stop: stop the tracking server, and PostgreSQL if `make server` started it
server-stop:
	SERVER_PORT=$(SERVER_PORT) scripts/server.sh stop

## server-status: is the tracking server running?
server-status:
	SERVER_PORT=$(SERVER_PORT) scripts/server.sh status

## migrate: copy the embedded store's runs, models and champion to the server (MLFLOW_TRACKING_URI)
migrate: $(STAMP)
	MLFLOW_TRACKING_URI="$${MLFLOW_TRACKING_URI:-http://127.0.0.1:$(SERVER_PORT)}" $(BIN)/ebm-study-migrate

## ray: a local Ray cluster's head on 127.0.0.1:$(RAY_PORT), for `ebm-study -m hydra/launcher=ray`
ray: $(STAMP)
	$(BIN)/ray start --head --node-ip-address=127.0.0.1 --port=$(RAY_PORT) \
	  --include-dashboard=false --disable-usage-stats
	@echo "now: RAY_ADDRESS=127.0.0.1:$(RAY_PORT) $(BIN)/ebm-study -m hydra/launcher=ray ..."

## ray-stop: stop the Ray processes of this machine
ray-stop:
	$(BIN)/ray stop

## clean-store: delete every run in mlruns/ (asks first)
clean-store:
	@read -p "Delete mlruns/mlflow.db, mlruns/artifacts and mlruns/hydra? [y/N] " a && [ "$$a" = y ]
	rm -rf mlruns/mlflow.db mlruns/artifacts mlruns/hydra
