# Two commands do all set-up on a fresh machine (Python 3.11):
#   make demo   -> creates .venv if missing, installs, runs `samm-synth demo --out demo-output`
#   make test   -> creates .venv if missing, installs, runs the test suite
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DEMO_OUT ?= demo-output

.PHONY: demo test install clean-venv

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet torch==2.14.1 torchvision==0.29.1
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/samm-synth demo --out $(DEMO_OUT)

# pytest exits 5 when it collects no test, so an empty run fails here too.
test: $(STAMP)
	$(PY) -m pytest -n 2 --dist loadfile

clean-venv:
	rm -rf $(VENV)
