# Quick start: `make demo` and `make test` each set everything up first (once;
# later runs skip set-up in well under a second) and then do their job.
VENV ?= .venv
PYTHON ?= python3
PYTEST_ARGS ?=
export VENV PYTHON

.PHONY: setup demo test lint clean

setup:
	@bash tools/install/setup_env.sh

demo: setup
	$(VENV)/bin/python demo/clipself_distill_demo.py

test: setup
	$(VENV)/bin/python -m pytest tests --durations=10 $(PYTEST_ARGS)

lint: setup
	$(VENV)/bin/python -m flake8 mmclipself tools tests configs demo

clean:
	rm -rf build dist *.egg-info mmclipself/.mim .pytest_cache
