# Bangfu: `make run` serves the app, `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install run serve test test-postgres test-load load test-browser lint format migrations-check deploy-check messages bench bench-province ci clean

$(BIN)/bangfu: requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(BIN)/bangfu

install: $(BIN)/bangfu

# The background worker (bangfu db_worker) runs beside the server, logs to var/worker.log (in development the
# e-mails it sends are printed there too) and is stopped when the server stops. Today's daily job is enqueued
# at start, so the demo shows today's reminders; in production cron or a timer runs `bangfu run_daily`.
run: install
	$(BIN)/bangfu migrate --no-input
	$(BIN)/bangfu seed_demo --if-empty
	$(BIN)/bangfu run_daily
	@echo "Demo logins (password bangfu-demo): principal, office, leader, helper, student"
	@echo "Background jobs: bangfu db_worker is running, its output goes to $${BANGFU_VAR_DIR:-var}/worker.log"
	$(BIN)/bangfu db_worker --no-reload --interval 5 >>$${BANGFU_VAR_DIR:-var}/worker.log 2>&1 & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; wait $$worker' EXIT; trap 'exit 130' INT TERM; \
	$(BIN)/bangfu runserver $(HOST):$(PORT)

# The production server (docs/deploy.md): gunicorn with deploy/gunicorn.conf.py, WEB_CONCURRENCY workers
# (default 2) on HOST:PORT. Run `bangfu migrate` and `bangfu collectstatic` first, as the deploy steps do.
serve: install
	HOST=$(HOST) PORT=$(PORT) WEB_CONCURRENCY=$${WEB_CONCURRENCY:-2} exec $(BIN)/gunicorn --config deploy/gunicorn.conf.py

test: install
	$(BIN)/pytest -n 2 --dist worksteal -m "not browser and not load"

test-postgres: install
	DATABASE_URL=$${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/bangfu} $(BIN)/pytest -n 2 --dist worksteal -m "not browser and not load"

# The load test in its short form (bench/load/README.md); `bench/load/run.py` alone steps up the crowd.
test-load: install
	DATABASE_URL=$${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/bangfu} $(BIN)/pytest tests/load -m load

load: install
	$(BIN)/python bench/load/run.py

test-browser: install
	$(BIN)/pytest -m browser

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

migrations-check: install
	$(BIN)/bangfu makemigrations --check --dry-run

deploy-check: install
	BANGFU_ENV=production SECRET_KEY=$$(head -c 48 /dev/urandom | base64) ALLOWED_HOSTS=bangfu.example.edu.cn \
		BANGFU_DATA_KEY=$$($(BIN)/python -c 'import base64,os;print(base64.urlsafe_b64encode(os.urandom(32)).decode())') \
		$(BIN)/bangfu check --deploy --fail-level WARNING

# Recompile translations after editing src/bangfu/locale/*/LC_MESSAGES/django.po (needs gettext's msgfmt).
messages: install
	cd src/bangfu && ../../$(BIN)/bangfu compilemessages

# University-scale benchmark (docs/benchmarks.md): builds var/bench/ once (`generate.py --fresh` rebuilds), then
# times every scenario on SQLite against its naive baseline (a few minutes).
bench: install
	$(BIN)/python bench/generate.py
	$(BIN)/python bench/scenarios.py

# Province scale on PostgreSQL (DATABASE_URL, default bangfu_province): builds the province once (about an hour on
# 2 cores; SCALE=0.01 for a hundredth of it), then times the same scenarios.
bench-province: install
	$(BIN)/python bench/province.py generate --reuse --scale $${SCALE:-1}
	$(BIN)/python bench/province.py run

ci:
	bash .ci/run

clean:
	rm -rf $(VENV) var/*.sqlite3*
