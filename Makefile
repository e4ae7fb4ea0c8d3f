# Gehoor — two commands for a fresh machine:
#   make run    set up, train if needed, start everything (SQLite, no servers needed)
#   make test   set up, then run every test
#   make test-fast  the seconds-long loop (no training, browsers, nginx or installs); make lint
SHELL := /bin/bash
.DEFAULT_GOAL := help
VENV := .venv
BIN := $(VENV)/bin
export RASA_TELEMETRY_ENABLED := false
export TF_CPP_MIN_LOG_LEVEL := 2
export GEHOOR_TRACKER_DB ?= $(CURDIR)/var/tracker.db
export GEHOOR_ACTION_URL ?= http://127.0.0.1:$(or $(GEHOOR_ACTION_PORT),5055)/webhook

.PHONY: help setup run test test-fast lint train validate test-stories bench clean

help:
	@echo "make run    set up, train if needed, start the bot, review app and chat demo"
	@echo "make test   set up and run every test"
	@echo "make test-fast  unit, store, review, action, channel and Rasa-patch tests (no training, browser, nginx)"
	@echo "make lint   ruff and mypy (pyproject.toml); make test runs it first"
	@echo "make bench  run the benchmark scripts"
	@echo "make quality  the listening-quality scorecard (docs/listening.md)"
	@echo "make run-prod / test-prod / soak   the production profile (docs/deploy.md)"

setup:
	@bash scripts/setup.sh
	@if [ -x scripts/build-web.sh ]; then bash scripts/build-web.sh; fi

run: setup
	@$(BIN)/gehoor run

# Production profile (docs/deploy.md): PostgreSQL, Redis, RabbitMQ, 2 Rasa + 2 action servers behind nginx.
.PHONY: run-prod test-prod soak
run-prod: setup
	@bash scripts/install-nginx.sh
	@$(BIN)/gehoor run-prod

# The production suites (tests/prod/): load, fault, bad input, readiness, events, deploy manifests
# (schema-checked with the pinned linters of requirements-deploy-lint.txt, in .tools/).
test-prod: setup
	@bash scripts/install-nginx.sh
	@bash scripts/install-deploy-lint.sh
	$(BIN)/python -m pytest tests/prod -m prod; code=$$?; \
	  if [ $$code -eq 5 ]; then echo "make test-prod: pytest collected no tests" >&2; exit 1; fi; exit $$code

# The long versions: 100 customers in the prod suites, then the 200-conversation load benchmark.
soak: setup
	@bash scripts/install-nginx.sh
	GEHOOR_SOAK=1 $(BIN)/python -m pytest tests/prod -m prod
	$(BIN)/python bench/bench_load.py

train: setup
	@$(BIN)/gehoor train

validate: setup
	$(BIN)/rasa data validate --fail-on-warnings

# pytest exits 5 when it collected nothing: that is a failure here, never a pass.
# Lint first; after the full run, the conversation tests once more on stock Rasa
# (GEHOOR_RASA_PATCHES=off, docs/architecture.md "Rasa patches"; ~40 s).
test: setup lint
	@bash scripts/install-browser.sh
	@bash scripts/install-nginx.sh
	@bash scripts/install-deploy-lint.sh
	$(BIN)/rasa data validate --fail-on-warnings
	$(BIN)/gehoor train
	$(BIN)/python -m pytest tests; code=$$?; \
	  if [ $$code -eq 5 ]; then echo "make test: pytest collected no tests" >&2; exit 1; fi; exit $$code
	GEHOOR_RASA_PATCHES=off $(BIN)/python -m pytest $(STOCK_RASA_TESTS)
	$(MAKE) --no-print-directory test-stories

# Run by `make test` with GEHOOR_RASA_PATCHES=off: whole conversations, and the server's own
# report that no patch is active.
STOCK_RASA_TESTS := tests/integration/test_conversation_e2e.py tests/rasa_patches/test_server_patches.py

# The fast loop: no training, browsers, nginx or installs beyond `setup`, on both cores
# (pytest-xdist). Deselected: tests that start Rasa (integration) or load the trained model
# (model), drive Chromium (browser), need the production stack (prod) or PostgreSQL
# (postgres marker, and the store's [postgresql] parameter) — `make test` runs those.
FAST_TESTS := tests/unit tests/store tests/review tests/actions tests/channels tests/rasa_patches tests/foundation
test-fast: setup
	$(BIN)/python -m pytest $(FAST_TESTS) -q -n 2 -m "not integration and not browser and not postgres and not prod and not model" \
	  -k "not postgresql"; code=$$?; \
	  if [ $$code -eq 5 ]; then echo "make test-fast: pytest collected no tests" >&2; exit 1; fi; exit $$code

# Lint and type checks, configured in pyproject.toml.
lint: setup
	$(BIN)/ruff check .
	$(BIN)/mypy

test-stories:
	rm -rf results/stories
	$(BIN)/rasa test core --stories tests/test_stories.yml --fail-on-prediction-errors \
	  --out results/stories --model models

# Listening-quality scorecard (tests/quality/, docs/listening.md): the corpora through the real stack.
.PHONY: quality
quality: setup
	$(BIN)/python tests/quality/scorecard.py
	$(BIN)/python tests/quality/aspect_scorecard.py

bench: setup
	$(BIN)/python bench/summary.py

clean:
	rm -rf results .pytest_cache
