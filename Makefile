# Two commands set up a fresh machine: `make demo` (the main job) and `make test`.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
UV := $(VENV)/bin/uv
STAMP := $(VENV)/.installed

.PHONY: demo test test-slow install bench clean

$(STAMP): requirements.lock pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet uv==0.13.9
	$(UV) pip sync --compile-bytecode --python $(PY) requirements.lock  # .pyc at install: a CLI that imports MLflow starts in seconds even where PYTHONDONTWRITEBYTECODE is set
	$(UV) pip install --python $(PY) --no-deps -e .
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(PY) -m signlens.cli.demo

test: install
	scripts/system-deps.sh
	$(PY) -m pytest -q

test-slow: install
	scripts/system-deps.sh
	$(PY) -m pytest -q -m slow

clean:
	rm -rf $(VENV) .pytest_cache
