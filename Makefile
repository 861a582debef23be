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

.PHONY: venv lint test test-slow test-all demo oracle parity parity-written probes bench docs reliability clean

venv: $(STAMP)

# Reinstalls only when a requirements file or the package metadata changes.
$(STAMP): $(REQS)
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) -r requirements/cpu.txt -r requirements/dev.txt
	$(PIP) --no-deps -r requirements/no-deps.txt
	$(PIP) --no-deps -e .
	touch $(STAMP)

# The fast suite (well under 20 min on 2 cores); the end-to-end tests with
# real processes (kills, clusters, the CLI) are `make test-slow`; CI runs both.
test: $(STAMP) lint
	$(PY) -m pytest -q -m "not slow"

# `make lint`: yapf (Google style, 2-space indent) leaves estweight/ as it
# is, ruff finds nothing, mypy passes (settings in pyproject.toml).
LINT_STAMP := $(VENV)/.lint-installed
$(LINT_STAMP): requirements/lint.txt $(STAMP)
	$(PIP) -r requirements/lint.txt
	touch $@

lint: $(LINT_STAMP)
	$(VENV)/bin/yapf --diff --recursive --parallel estweight
	$(VENV)/bin/ruff check --quiet estweight
	$(VENV)/bin/mypy

test-slow: $(STAMP)
	$(PY) -m pytest -q -m slow

test-all: $(STAMP)
	$(PY) -m pytest -q

# The flagship config end to end: train (early stopping), evaluate the best
# checkpoint, export it. Starts afresh in $(DEMO_DIR) each time.
DEMO_DIR ?= runs/demo
DEMO_CONFIG ?= configs/breast_cancer_weighted_dnn.py
demo: $(STAMP)
	rm -rf $(DEMO_DIR)
	$(VENV)/bin/estweight train --config=$(DEMO_CONFIG) --model_dir=$(DEMO_DIR)
	$(VENV)/bin/estweight evaluate --model_dir=$(DEMO_DIR) --checkpoint=$(DEMO_DIR)/best
	$(VENV)/bin/estweight export --model_dir=$(DEMO_DIR)

$(ORACLE_VENV)/.installed:
	test -x $(ORACLE_VENV)/bin/python || $(ORACLE_PYTHON) -m venv $(ORACLE_VENV)
	$(ORACLE_VENV)/bin/python -m pip install --quiet tensorflow-cpu==2.15.1 tensorflow-estimator==2.15.0 scikit-learn pandas
	touch $@

# Regenerates the golden numbers from tf.estimator 2.15.
oracle: $(ORACLE_VENV)/.installed
	TF_CPP_MIN_LOG_LEVEL=3 $(ORACLE_VENV)/bin/python tests/oracle/gen_iris.py
	TF_CPP_MIN_LOG_LEVEL=3 $(ORACLE_VENV)/bin/python tests/oracle/gen_parity.py
	TF_CPP_MIN_LOG_LEVEL=3 $(ORACLE_VENV)/bin/python tests/oracle/gen_export.py
	TF_CPP_MIN_LOG_LEVEL=3 $(ORACLE_VENV)/bin/python tests/oracle/gen_keras.py
	TF_CPP_MIN_LOG_LEVEL=3 $(ORACLE_VENV)/bin/python tests/oracle/gen_probes.py

# Canned estimators against tf.estimator 2.15: the golden runs (a-c), then
# model_dirs written by estweight, read back by tf.estimator 2.15 (d). The
# temp dir is kept when (d) fails.
parity: $(STAMP) $(ORACLE_VENV)/.installed
	$(PY) -m pytest -q tests/test_parity.py
	$(MAKE) parity-written
	$(MAKE) probes

# The reference probes: run on tf.estimator 2.15 now (must reproduce the
# recorded outcomes), then on estweight; prints how many agree.
probes: $(STAMP) $(ORACLE_VENV)/.installed
	@out=$$(mktemp) && \
	TF_CPP_MIN_LOG_LEVEL=3 $(ORACLE_VENV)/bin/python tests/oracle/gen_probes.py --out $$out && \
	$(PY) -c "import json,sys; a,b=(json.load(open(p))['outcomes'] for p in sys.argv[1:]); d=sorted(k for k in a if a[k]!=b.get(k)); print('oracle reproduces', len(a)-len(d), 'of', len(a), 'probes'); sys.exit(1 if d else 0)" $$out tests/golden/probes.json && \
	rm -f $$out
	$(PY) -m pytest -q tests/test_probes.py

# Check (d) alone (CI runs it after `make test`, which covers a-c).
parity-written: $(STAMP) $(ORACLE_VENV)/.installed
	@out=$$(mktemp -d) && \
	TF_CPP_MIN_LOG_LEVEL=3 $(PY) tests/oracle/write_for_oracle.py $$out; w=$$?; \
	TF_CPP_MIN_LOG_LEVEL=3 $(ORACLE_VENV)/bin/python tests/oracle/check_written.py $$out; c=$$?; \
	if [ $$w -eq 0 ] && [ $$c -eq 0 ]; then rm -rf $$out; \
	else echo "parity (d) failed; model_dirs kept in $$out"; exit 1; fi

# Speed, measured side by side with the anchors in ../shared/bench.
bench: $(STAMP) $(ORACLE_VENV)/.installed
	$(PY) bench/compare.py $(ORACLE_VENV)/bin/python $(PY)

# The fault suite (tests/reliability_suite.py): COUNT SIGKILLs at seeded
# named points (phase and step drawn from SEED) across Estimator.train,
# train_and_evaluate, run_iterations, grid_search, `estweight train` and a
# cluster task, each resumed and compared with an uninterrupted run, plus
# every bad input of docs/errors.md; prints the figures, fails unless all
# are N/N. CI runs `make reliability COUNT=6 BAD_INPUTS=0` with the day of
# the year as SEED (other kill points each day; the bad inputs are
# tests/test_errors_table.py's, in make test).
COUNT ?= 36
SEED ?= 0
BAD_INPUTS ?= 1
reliability: $(STAMP)
	$(PY) tests/reliability_suite.py --count=$(COUNT) --seed=$(SEED) $(if $(filter 0,$(BAD_INPUTS)),--no-bad-inputs,)

# The documentation site, built strictly into build/site (any warning fails:
# a broken link or anchor, a public name without an API entry or docstring).
# Installs requirements/docs.txt into .venv on first use.
DOCS_STAMP := $(VENV)/.docs-installed
$(DOCS_STAMP): requirements/docs.txt $(STAMP)
	$(PIP) -r requirements/docs.txt
	touch $@

docs: $(DOCS_STAMP)
	TF_CPP_MIN_LOG_LEVEL=3 NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict

# The version matrix (tools/matrix.py): every supported Python x TensorFlow
# cell in its own venv under .matrix/ (made once, reused), where the fast
# suite and `make parity` run; prints the table (kept in .matrix/results.json).
# SUITE=reduced runs tools/matrix.py's REDUCED tests instead of the fast
# suite, PARITY=0 skips `make parity`. One cell: make matrix-cell PY=3.12
# TF=2.16 (CELL=auto: the cell of this week's rotation, as CI runs it).
.PHONY: matrix matrix-cell dist
SUITE ?= fast
PARITY ?= 1
MATRIX := $(PYTHON) tools/matrix.py $(MATRIX_ARGS) --suite=$(SUITE) $(if $(filter 0,$(PARITY)),--no-parity,--parity)
matrix:
	$(MATRIX)

matrix-cell:
	$(MATRIX) --cell=$(if $(CELL),$(CELL),$(PY):$(TF))

# sdist and wheel in dist/, checked by twine.
dist: $(STAMP)
	rm -rf dist
	$(PY) -m build --outdir dist .
	$(PY) -m twine check --strict dist/*

clean:
	rm -rf $(VENV) build *.egg-info
