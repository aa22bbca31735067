# Two commands for a newcomer: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/test
TEST_REDIS_URL ?= redis://127.0.0.1:6379/15

OIDC_PEER := tests/peers/oidc
OIDC_STAMP := $(OIDC_PEER)/node_modules/.installed
NODE_STAMP := node_modules/.installed

.PHONY: run test lint format bench clean

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -r requirements-dev.txt
	touch $(STAMP)

run: $(STAMP)
	mkdir -p var
	DEBUG=1 $(BIN)/python manage.py migrate --noinput -v0
	DEBUG=1 LOG_LEVEL=WARNING $(BIN)/python manage.py seed_demo
	DEBUG=1 LOG_LEVEL=WARNING $(BIN)/python manage.py set_plan acme --plan scale \
		--period annual --seats 50
	-DEBUG=1 LOG_LEVEL=WARNING $(BIN)/python manage.py sso_demo
	@echo "Portal: http://127.0.0.1:8000/signin/"
	DEBUG=1 $(BIN)/python manage.py runserver 127.0.0.1:8000

# The test tools that come from npm: an OpenID provider, and newman for the
# SCIM conformance collection.
$(OIDC_STAMP): $(OIDC_PEER)/package.json $(OIDC_PEER)/package-lock.json
	npm ci --prefix $(OIDC_PEER) --no-audit --no-fund --loglevel=error
	touch $(OIDC_STAMP)

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $(NODE_STAMP)

lint: $(STAMP)
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

test: $(STAMP) lint
	bash scripts/services.sh
	$(MAKE) --no-print-directory $(OIDC_STAMP) $(NODE_STAMP)
	DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) \
		$(BIN)/python -m pytest $(PYTEST_ARGS)

# The benchmark uses only the server part of the URL: it creates, fills and
# drops its own database (bench_people), never the test database.
bench: BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/bench
bench: $(STAMP)
	bash scripts/services.sh
	DATABASE_URL=$(BENCH_DATABASE_URL) $(BIN)/python bench/people_page.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) var staticfiles .pytest_cache .ruff_cache
