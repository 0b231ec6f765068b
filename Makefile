# Set-up on a fresh machine: `make demo` and `make test`.
#
# Every target creates the virtual environment .venv with python3 when it is
# missing, installs into it what the target needs (quietly), then runs.

PYTHON ?= python3
VENV := .venv
VENV_PYTHON := $(VENV)/bin/python
PIP_INSTALL := $(VENV_PYTHON) -m pip install --quiet --disable-pip-version-check

.DEFAULT_GOAL := help
.PHONY: help demo test docs tutorials

help:
	@echo "make demo   set up .venv and run the demo (python -m optim demo)"
	@echo "make test   set up .venv and run the test suite (python -m pytest)"
	@echo "make docs   set up .venv and build the HTML docs into docs/_build/html (NB_EXECUTION=force|cache|off)"
	@echo "make tutorials   set up .venv and open the course (tutorials/) in JupyterLab"

$(VENV_PYTHON):
	$(PYTHON) -m venv $(VENV)

demo: $(VENV_PYTHON)
	$(PIP_INSTALL) -e ".[demo]"
	$(VENV_PYTHON) -m optim demo

# pytest runs last, so that its summary is the last line of the output.
# docs: the test suite builds the site (tests/test_docs_site.py) and loads it in Chromium where installed.
TEST_EXTRAS ?= test,torch,demo,fast,docs

test: $(VENV_PYTHON)
	$(PIP_INSTALL) -e ".[$(TEST_EXTRAS)]"
	$(VENV_PYTHON) -m pytest

# The course's notebooks are executed while the site is built: with a cache under docs/_build by default
# (only changed notebooks run again), every time with NB_EXECUTION=force, never with NB_EXECUTION=off.
NB_EXECUTION ?= cache

docs: $(VENV_PYTHON)
	$(PIP_INSTALL) -e ".[docs]"
	$(VENV)/bin/sphinx-build -W -b html -D nb_execution_mode=$(NB_EXECUTION) docs docs/_build/html

tutorials: $(VENV_PYTHON)
	$(PIP_INSTALL) -e ".[tutorials]"
	$(VENV)/bin/jupyter lab tutorials
