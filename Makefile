# neurograde - two commands on a fresh machine: `make grade` and `make test`.
# Each bootstraps .venv from the pinned requirements when it is missing or older than them.
# The interpreter .venv is made from: the system's python3 when it is 3.10+ with venv support (other users can run
# it, so student code can drop to an unprivileged user when grading as root), else the first python3 on PATH.
PYTHON ?= $(shell for p in /usr/bin/python3 python3; do \
	$$p -c 'import sys, venv, ensurepip; sys.exit(sys.version_info < (3, 10))' 2>/dev/null && { echo $$p; break; }; \
	done)
VENV := .venv
PY := $(VENV)/bin/python
RUNTIME_STAMP := $(VENV)/.installed-runtime
DEV_STAMP := $(VENV)/.installed-dev
RELEASE_STAMP := $(VENV)/.installed-release
DIST ?= dist
SUBMISSION ?= student_template
ASSIGNMENT ?=
RESULTS ?= results/results.json
JOBS ?= 2
# The kit's tests spend half their time waiting (time limits, processes they watch): more pytest workers than cores
# keep both cores busy, and work stealing keeps the last long tests from running alone.
TEST_JOBS ?= 4

.PHONY: grade grade-hidden grade-all bench test test-quick stubs data release venv clean help sandbox-deps

help:
	@echo "make grade [SUBMISSION=dir] [ASSIGNMENT='name ...']   grade a submission (default: student_template/)"
	@echo "make test                                            run the kit's own test suite"
	@echo "make test-quick                                      the suite without its e2e tests (attacks, classes, notebooks, browser, release)"
	@echo "make grade-all DIR=folder-or-zip [JOBS=2] [UNSAFE=1]  grade a whole class into results/gradebook.csv"
	@echo "make bench                                           time and measure grading (see README, Performance)"
	@echo "make stubs                                           regenerate student_template/ from reference/"
	@echo "make release [DIST=dist]                             student bundle, Gradescope zips, nbgrader course"
	@echo "make data                                            rebuild data/ from ../shared/datasets/"

$(PY):
	@test -n "$(PYTHON)" || { echo "neurograde needs Python 3.10 or newer with venv (python3-venv)"; exit 1; }
	$(PYTHON) -m venv $(VENV)

$(RUNTIME_STAMP): requirements.txt | $(PY)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	@touch $@

$(RELEASE_STAMP): requirements-release.txt $(RUNTIME_STAMP)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-release.txt
	@touch $@

$(DEV_STAMP): requirements-dev.txt requirements-release.txt requirements-cluster.txt requirements-otter.txt $(RUNTIME_STAMP)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $@

# The kit's tests attack the namespace sandbox, so they need bubblewrap: installed here when running as root on a
# Debian/Ubuntu machine (CI). Elsewhere grading falls back to rlimits and says so; the sandbox tests then fail
# with a message that names this package.
sandbox-deps:
	@command -v bwrap >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap >/dev/null; }; } || \
		echo "note: bubblewrap (bwrap) is not installed: student code is graded without namespaces"

venv: $(RUNTIME_STAMP)

grade: $(RUNTIME_STAMP)
	$(PY) -m autograder grade --submission $(SUBMISSION) --results $(RESULTS) $(foreach a,$(ASSIGNMENT),--assignment $(a))

grade-hidden: $(RUNTIME_STAMP)
	$(PY) -m autograder grade --with-hidden --submission $(SUBMISSION) --results $(RESULTS) $(foreach a,$(ASSIGNMENT),--assignment $(a))

test: $(DEV_STAMP) sandbox-deps
	$(PY) -m pytest -n $(TEST_JOBS) --dist worksteal tests

# The tests without the `e2e` marker, for the edit-test loop: the bug zoo, the mistake catalogues and the repeated
# gradings in-process, and the sandbox's own end-to-end tests (engine, adversarial, cheats, box, fork server).
# `make test` (what CI runs) is the whole suite.
test-quick: $(DEV_STAMP) sandbox-deps
	$(PY) -m pytest -n $(TEST_JOBS) --dist worksteal -m "not e2e" tests

grade-all: $(RUNTIME_STAMP)
	@test -n "$(DIR)" || { echo "usage: make grade-all DIR=submissions/ [JOBS=2] [OUT=results/gradebook.csv]"; exit 2; }
	$(PY) -m autograder grade-all $(DIR) --jobs $(JOBS) --out $(or $(OUT),results/gradebook.csv) $(if $(UNSAFE),--unsafe-no-sandbox)

bench: $(DEV_STAMP)
	$(PY) scripts/bench.py

release: $(RELEASE_STAMP)
	$(PY) -m autograder release --dist $(DIST)

stubs: $(RUNTIME_STAMP)
	$(PY) -m autograder stubs

data: $(RUNTIME_STAMP)
	$(PY) scripts/build_data.py

clean:
	rm -rf results dist .pytest_cache
