# The README's quick start: `make demo` and `make test`. Both create .venv on their own.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# The package (editable) with the extra that a target needs, one stamp per extra.
STAMP := $(VENV)/.installed-test
LINT_STAMP := $(VENV)/.installed-lint

# The lowest pulumi SDK pyproject.toml allows (its `pulumi>=X` line), installed in a venv of its own.
PULUMI_FLOOR := $(shell sed -n 's/^ *"pulumi>=\([0-9.]*\),.*/\1/p' pyproject.toml)
FLOOR_VENV := .venv-floor

.PHONY: demo test test-floor bench lint venv clean engine e2e

venv: $(STAMP)

# Editable in setuptools' compat mode: a plain path entry in site-packages, which pyright, Pylance and every IDE
# resolve (the default import-hook mode leaves `import pulumi_bird` unresolved for them). PYTHONWARNINGS=ignore
# reaches the build backend and keeps setuptools' notice blocks (the editable-install notice, compat's
# "transitional" notice) out of the output, which recent pips print even with --quiet.
$(VENV)/.installed-%: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	PYTHONWARNINGS=ignore $(PY) -m pip install --quiet -e '.[$*]' --config-settings editable_mode=compat
	touch $@

# Only what the demo needs (the `demo` extra: the base dependencies). The Pulumi CLI on PATH, or else the pinned one
# `make engine` builds (a first build takes minutes).
demo: $(VENV)/.installed-demo
	@if command -v pulumi >/dev/null 2>&1; then $(PY) tools/demo.py; \
	else bin="$$(tools/engine/build.sh | tail -n 1)" && PATH="$$bin:$$PATH" $(PY) tools/demo.py; fi

# Two processes, one test file each at a time (module fixtures stay shared within a file): most tests wait on
# a provider host or an emulator, so two halve the wall time on a 2-core machine.
PYTEST_ARGS ?= -n 2 --dist loadfile

test: $(STAMP)
	$(PY) -m pytest -q $(PYTEST_ARGS) --ignore=tests/e2e

# The real Pulumi engine, pinned in tools/engine/go.mod (and yaml/go.mod): the CLI, the YAML language host, our SDK
# generator (bird-gen-sdk) and our own small plugins, built into a cache outside the clone (tools/engine/build.sh
# says where; a warm cache skips the build). Needs Go.
engine:
	tools/engine/build.sh

# The real CLI against the emulator on loopback (tests/e2e): every command, the failure paths, and the double
# compared with the engine on the same scenarios, the generated SDKs and the TypeScript example (these need Node.js
# and npm: tests/e2e/package.json, installed once into ~/.cache/pulumi-bird/npm). Not part of `make test`, which
# stays CLI-free.
E2E_ARGS ?=
e2e: $(STAMP) engine
	PULUMI_BIRD_ENGINE="$$(tools/engine/build.sh --print)" $(PY) -m pytest -q --timeout 900 $(E2E_ARGS) tests/e2e

# The suite on the SDK floor (CI runs it after `make test`): a venv with pulumi==$(PULUMI_FLOOR) exactly.
test-floor: pyproject.toml
	test -x $(FLOOR_VENV)/bin/python || $(PYTHON) -m venv $(FLOOR_VENV)
	$(FLOOR_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(FLOOR_VENV)/bin/python -m pip install --quiet -e '.[test]' 'pulumi==$(PULUMI_FLOOR)'
	$(FLOOR_VENV)/bin/python -c 'import importlib.metadata as m; v = m.version("pulumi"); print("pulumi", v); assert v.startswith("$(PULUMI_FLOOR)")'
	$(FLOOR_VENV)/bin/python -m pytest -q $(PYTEST_ARGS) --ignore=tests/e2e

# ruff on everything; lint-imports on the package's layers (the contracts in pyproject.toml); mypy --strict on what
# a user writes (tests/typing/ uses every public name, and the examples, one directory at a time as each has a
# __main__.py); pyright on the package, the examples and
# tests/typing/; pyright --verifytypes for the share of the public API with complete types (>= 95 %).
lint: $(LINT_STAMP)
	$(PY) -m ruff check .
	$(VENV)/bin/lint-imports --no-cache --no-logo
	$(PY) -m mypy --strict tests/typing
	for d in examples/*/; do [ -f "$$d"__main__.py ] || continue; $(PY) -m mypy --strict "$$d"*.py || exit 1; done
	$(PY) -m pyright --pythonpath $(PY) pulumi_bird examples tests/typing
	PYTHONPATH=$(CURDIR) $(PY) -m pyright --pythonpath $(PY) --ignoreexternal --outputjson --verifytypes pulumi_bird \
	  | $(PY) -c 'import json, sys; s = json.load(sys.stdin)["typeCompleteness"]["completenessScore"]; \
	    print(f"pyright --verifytypes pulumi_bird: {s:.1%} of the public symbols have complete types (need >= 95%)"); \
	    sys.exit(s < 0.95)'

# BENCH_ARGS: --quick (skip the 60 s readiness case), --scale-only (the scale figures), --only refresh|waiting|engine|fleet
# (engine: the figures under the real Pulumi CLI, which `make engine` builds; fleet: examples/fleet on 8 workspaces
# under that CLI)
bench: $(STAMP) engine
	PULUMI_BIRD_ENGINE="$$(tools/engine/build.sh --print)" $(PY) benchmarks/bench.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) $(FLOOR_VENV) .demo build *.egg-info
