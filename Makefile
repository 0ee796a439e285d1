# The two commands of the README:
#   make run    set up .venv and start the server on the embedded default (SQLite in ./data)
#   make test   set up .venv and run the whole suite, SQLite and a throw-away PostgreSQL 15
PYTHON ?= python3
VENV := .venv
STAMP := $(VENV)/.installed-$(shell cat requirements.lock pyproject.toml | cksum | cut -d' ' -f1)
ARGS ?=

.PHONY: run test lint setup lock clean

setup: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
		|| { echo "Python >= 3.11 is needed ($(PYTHON) is older)"; exit 1; }
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(VENV)/bin/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	rm -f $(VENV)/.installed-*
	touch $@

run: setup
	$(VENV)/bin/bridge serve $(ARGS)

lint: setup
	$(VENV)/bin/ruff check bridge radicale_plugins tests benchmarks
	$(VENV)/bin/ruff format --check bridge radicale_plugins tests benchmarks
	$(VENV)/bin/mypy

test: lint
	.ci/with-postgres $(VENV)/bin/pytest --durations=25 $(ARGS)

# Re-pin the dependencies (in a commit of its own).
lock: setup
	$(VENV)/bin/python -m pip install --quiet uv
	$(VENV)/bin/uv pip compile pyproject.toml --extra test --extra dev --python-version 3.11 -o requirements.lock

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
