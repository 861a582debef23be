# estweight developer tasks. Every target creates or reuses .venv by itself.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
REQS := requirements/cpu.txt requirements/no-deps.txt requirements/dev.txt setup.cfg setup.py
PIP := $(PY) -m pip install --quiet --disable-pip-version-check

# The oracle: tf.estimator 2.15 on TF 2.15, used only to generate expected
# numbers (tests/golden); never needed by `make test`.
ORACLE_PYTHON ?= python3.11
ORACLE_VENV ?= .oracle-venv

.PHONY: venv test test-fast demo oracle clean

venv: $(STAMP)

# Reinstalls only when a requirements file or the package metadata changes.
$(STAMP): $(REQS)
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) -r requirements/cpu.txt -r requirements/dev.txt
	$(PIP) --no-deps -r requirements/no-deps.txt
	$(PIP) --no-deps -e .
	touch $(STAMP)

test: $(STAMP)
	$(PY) -m pytest -q

test-fast: $(STAMP)
	$(PY) -m pytest -q -m "not slow"

demo: $(STAMP)
	$(PY) examples/demo.py

$(ORACLE_VENV)/.installed:
	test -x $(ORACLE_VENV)/bin/python || $(ORACLE_PYTHON) -m venv $(ORACLE_VENV)
	$(ORACLE_VENV)/bin/python -m pip install --quiet tensorflow-cpu==2.15.1 tensorflow-estimator==2.15.0 scikit-learn pandas
	touch $@

# Regenerates the golden numbers from tf.estimator 2.15.
oracle: $(ORACLE_VENV)/.installed
	TF_CPP_MIN_LOG_LEVEL=3 $(ORACLE_VENV)/bin/python tests/oracle/gen_iris.py

clean:
	rm -rf $(VENV) build *.egg-info
