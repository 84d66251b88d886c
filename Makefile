# Two commands on a fresh machine:
#   make run    install (virtualenv + web bundle) and serve on http://127.0.0.1:8000 (SQLite)
#   make test   install (with test tools) and run every test this machine can run (skips summed up at the end)
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
NPM    ?= npm

.PHONY: run test test-durations lint install install-test web-deps js-deps bench screenshot clean

$(VENV)/.run-deps: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e .
	touch $@

$(VENV)/.test-deps: pyproject.toml $(VENV)/.run-deps
	$(BIN)/python -m pip install -q -e ".[test]"
	touch $@

web/node_modules/.package-lock.json: web/package-lock.json
	cd web && $(NPM) ci --no-audit --no-fund --loglevel=error

tests/js/node_modules/.package-lock.json: tests/js/package-lock.json
	cd tests/js && $(NPM) ci --no-audit --no-fund --loglevel=error

install: $(VENV)/.run-deps web-deps
install-test: $(VENV)/.test-deps web-deps js-deps
web-deps: web/node_modules/.package-lock.json
js-deps: tests/js/node_modules/.package-lock.json

# Our modules' bytecode is compiled first, as for the tests (below): where PYTHONDONTWRITEBYTECODE
# is set, every start would otherwise compile ~500 modules again (this machine: 4.9 s from exec to
# /healthz without bytecode, 3.5 s with it; python -m bench.startup).
run: install
	$(BIN)/python -m compileall -q -j 0 server db >/dev/null
	$(BIN)/parley serve

# Three workers on two cores (the tests are independent; tests/conftest.py groups those that are
# not): most tests wait on servers, timers and browsers, so a third worker fills the cores (the
# whole suite of pytest on this 2-core machine: 10.5 min with -n 3, 11.4 with -n 4, 21.4 with -n 2).
# PYTEST_ARGS=-n0 runs them in one process, one after another.
PYTEST_WORKERS ?= -n 3
# COVERAGE=1 adds branch coverage of server/ and db/, combined over the workers. It measures the
# pytest processes only, not servers the tests start as subprocesses, and costs about a third more
# CPU (tests/chat: 16.8 -> 23.0 s), so a plain make test leaves it off; .ci/run sets it.
COVERAGE ?=
COVERAGE_ARGS = $(if $(COVERAGE),--cov=server --cov=db --cov-branch --cov-report=term:skip-covered)

# The bytecode of our own modules is compiled first: every test worker and every process a test
# starts (a `parley` command, a server) then loads it instead of compiling ~200 modules itself,
# which it does on each start where PYTHONDONTWRITEBYTECODE is set (this machine's image sets it).
test: install-test
	$(BIN)/python -m compileall -q -j 0 server db client_demo tests bench >/dev/null
	$(BIN)/python -m pytest $(PYTEST_WORKERS) $(COVERAGE_ARGS) $(PYTEST_ARGS)

# Where the suite's time goes: the whole suite with a JUnit report, then the time per kind of test
# (Chromium, kill -9, two nodes, a process, Node.js, an outside party, a live server, in-process)
# and the costliest files (tests/durations.py). .ci/run prints the same table after every run.
DURATIONS ?= .test-durations.xml
test-durations: install-test
	$(BIN)/python -m compileall -q -j 0 server db client_demo tests bench >/dev/null
	-$(BIN)/python -m pytest $(PYTEST_WORKERS) $(PYTEST_ARGS) --junitxml=$(DURATIONS) -q
	$(BIN)/python -m tests.durations $(DURATIONS)

lint: $(VENV)/.test-deps
	$(BIN)/ruff check .
	$(BIN)/ruff format --check server db
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/vulture

# docs/screenshot.png, the README's picture: a server on a temporary SQLite folder, a seeded team,
# the page in the system Chromium (docs/screenshot.py; Playwright comes with the test tools).
screenshot: $(VENV)/.test-deps web-deps
	$(BIN)/python docs/screenshot.py

bench: install
	$(BIN)/python -m bench.load $(BENCH_ARGS)

clean:
	rm -rf $(VENV) web/node_modules tests/js/node_modules
