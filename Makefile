# awsenvs: every target creates the virtualenv when it is missing, so a fresh clone
# needs only `make sandbox` and `make test`.  ORG=path/to/org.yaml selects another file.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
ORG ?= org.yaml
ARGS ?=
DIR ?= terraform-modules
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
# ORG is quoted: a path with a space stays one argument.  ARGS is not: it holds several.
AWSENVS := $(PY) main.py --config "$(ORG)"

CHECKOV_VENV := .venv-checkov
CHECKOV_VERSION := 3.3.30

.PHONY: help setup optimized-bytecode checkov-setup synth validate tree bootstrap plan apply profiles signin audit elevate approve revoke elevations import sandbox export-modules ci test bench clean

help:
	@echo "make setup | validate | tree | synth | bootstrap | plan | apply | profiles | signin | audit | elevate | approve | revoke | elevations | import | sandbox | export-modules | ci | test | bench | checkov-setup   (ORG=path/to/org.yaml, ARGS='...', DIR=modules folder)"

# pip compiles bytecode at install time (needed: PYTHONDONTWRITEBYTECODE=1 would otherwise
# make the AWS bindings recompile on every import).
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check --upgrade pip
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -e ".[test]"
	$(MAKE) --no-print-directory optimized-bytecode
	touch $@

# Optimized (-O) bytecode of the jsii bindings: synth's worker processes run with -O, which
# skips the bindings' run-time type checks (awsenvs/synth.py, _worker_command); without
# these files they would compile the bindings at every run, so they then run without -O.
optimized-bytecode:
	PYTHONDONTWRITEBYTECODE= $(PY) -O -m compileall -q -j 0 $$($(PY) -c 'import importlib.util as u, os; print(" ".join(os.path.dirname(u.find_spec(m).origin) for m in ("cdktn", "cdktn_provider_aws", "constructs", "jsii", "cattrs", "attr", "attrs")))') > /dev/null

setup: $(VENV)/.installed

# checkov (scans the synthesized Terraform in `make test`) in its own virtualenv: its
# dependency pins conflict with the project's.  The stamp names the version, so changing
# CHECKOV_VERSION reinstalls.  The env variable keeps checkov from asking PyPI for updates.
$(CHECKOV_VENV)/.installed-$(CHECKOV_VERSION):
	rm -rf $(CHECKOV_VENV)
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --quiet --disable-pip-version-check checkov==$(CHECKOV_VERSION)
	CKV_SKIP_PACKAGE_UPDATE_CHECK=true $(CHECKOV_VENV)/bin/checkov --version
	touch $@

checkov-setup: $(CHECKOV_VENV)/.installed-$(CHECKOV_VERSION)

validate: setup
	$(AWSENVS) validate
tree: setup
	$(AWSENVS) tree
synth: setup
	$(AWSENVS) synth $(ARGS)
bootstrap: setup
	$(AWSENVS) bootstrap $(ARGS)
# Exit codes: GNU make exits 2 whenever a recipe fails, whatever code the command gave, so
# it cannot pass the tool's own codes through (`plan`: 0 no changes, 2 changes, 1 error).
# `make plan` therefore succeeds (0) when the plan ran, with or without changes, and says
# which; it fails (make's 2, with the tool's code in make's "Error N" line) only on an
# error.  Every other target: 0 on success, make's 2 on any failure.  Scripts that need the
# tool's own codes run `.venv/bin/python main.py plan` (README: "Exit codes").
plan: setup
	@echo '$(AWSENVS) plan $(ARGS)'; $(AWSENVS) plan $(ARGS) || { code=$$?; \
	  if [ $$code -eq 2 ]; then echo "make plan: changes planned (awsenvs exit 2): review them above, then make apply"; \
	  else exit $$code; fi; }
apply: setup
	$(AWSENVS) apply $(ARGS)
profiles: setup
	$(AWSENVS) profiles $(ARGS)
signin: setup
	$(AWSENVS) signin $(ARGS)
audit: setup
	$(AWSENVS) audit $(ARGS)
# Just-in-time access (docs/access.md): ARGS='maria --env shop/prod --group sysadmins --for 2h --reason "incident 42"'.
elevate: setup
	$(AWSENVS) elevate $(ARGS)
approve: setup
	$(AWSENVS) approve $(ARGS)
revoke: setup
	$(AWSENVS) revoke $(ARGS)
elevations: setup
	$(AWSENVS) elevations $(ARGS)
# import writes ORG (org.yaml); ARGS='--output FILE' writes elsewhere, ARGS=--force replaces it.
import: setup
	$(AWSENVS) import $(ARGS)
sandbox: setup
	$(AWSENVS) sandbox $(ARGS)
export-modules: setup
	$(PY) main.py export-modules $(ARGS) $(DIR)
# The GitHub Actions workflows into the git repository holding ORG (ARGS='--dry-run', '--force',
# '--dir DIR').
ci: setup
	$(AWSENVS) ci github $(ARGS)

test: setup checkov-setup
	$(PY) -m pytest -n 2 --dist loadfile --no-loadscope-reorder --durations=20 $(ARGS)

bench: setup
	$(PY) bench/synth_bench.py
	$(PY) bench/plan_bench.py
	$(PY) bench/scale_bench.py
	$(PY) bench/import_bench.py
	$(PY) bench/ci_bench.py

clean:
	rm -rf cdktf.out .pytest_cache

# A word make took for a target (`make plan ARGS=--env prod`: `prod`) is most often an ARGS
# or ORG value that lost its quotes.  .DEFAULT also runs for prerequisites without a rule,
# which are files that exist (pyproject.toml): those pass.
.DEFAULT:
	@test -e "$@" || { echo "make: '$@' is not a target: a value of ARGS or ORG with a space needs quotes, e.g. make plan ARGS=\"--env prod\"" >&2; exit 2; }
