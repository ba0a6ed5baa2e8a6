# Every target creates the venv on first use; nothing needs installing by hand.
PY      ?= python3
VENV    ?= .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed

.PHONY: demo test run bench install clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[local,test]'
	touch $(STAMP)

install: $(STAMP)

# The demo keeps its own history and state under demo-out/, apart from the user's.
demo: $(STAMP)
	XDG_STATE_HOME=$(CURDIR)/demo-out/state $(BIN)/assistant run --input assistant/data/recordings/demo.wav --output-dir demo-out --force

test: $(STAMP)
	$(BIN)/python -m pytest

run: $(STAMP)
	$(BIN)/assistant run

bench: $(STAMP)
	for b in bench/*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) demo-out .pytest_cache
