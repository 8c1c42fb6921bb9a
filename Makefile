# Bangfu: `make run` serves the app, `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install run test test-postgres test-browser lint format migrations-check deploy-check messages bench ci clean

$(BIN)/bangfu: requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(BIN)/bangfu

install: $(BIN)/bangfu

run: install
	$(BIN)/bangfu migrate --no-input
	$(BIN)/bangfu seed_demo --if-empty
	@echo "Demo logins (password bangfu-demo): principal, office, leader, helper, student"
	$(BIN)/bangfu runserver $(HOST):$(PORT)

test: install
	$(BIN)/pytest -n 2 -m "not browser"

test-postgres: install
	DATABASE_URL=$${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/bangfu} $(BIN)/pytest -n 2 -m "not browser"

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

ci:
	bash .ci/run

clean:
	rm -rf $(VENV) var/*.sqlite3*
