# Everything runs inside .venv, which `make install` creates from the project's own files.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install test demo bench clean

install: $(STAMP)

$(STAMP): setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	$(BIN)/python -m facerec.samples
	touch $(STAMP)

test: install
	$(BIN)/python -m pytest -q

# The main job on the default model (grows into the full align -> train -> live demo).
demo: install
	$(BIN)/facerec model default

bench: install
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	$(BIN)/python bench/bench_embedding.py
	$(BIN)/python bench/bench_detection.py

clean:
	rm -rf $(VENV) build src/*.egg-info .pytest_cache
