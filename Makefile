# Everything runs inside .venv, which `make install` creates from the project's own files.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install test demo bench clean

# Both BlazeFace models: a .venv that has only the first fetches the second.
BLAZE  := $(VENV)/share/facerec-models/face_detection_short_range.tflite \
          $(VENV)/share/facerec-models/face_detection_full_range_sparse.tflite

install: $(STAMP) $(BLAZE)

$(STAMP): setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,scale,serve]'
	$(BIN)/python -m facerec.samples
	touch $(STAMP)

# BlazeFace's weights, two files of the mediapipe wheel (facerec/detection/blazeface.py); its own
# target, so a .venv made before they were needed gets them too (one run fetches both; make may
# start it once per missing file, and the second finds both there).
$(BLAZE): | $(STAMP)
	$(BIN)/python -m facerec.detection.blazeface

test: install
	$(BIN)/python -m pytest -q

# The main job end to end on the default model: align, train, classify, real time.
demo: install
	$(BIN)/facerec demo

# face_recognition's command line is one anchor: --no-deps, as dlib comes from dlib-bin, not a source build.
bench: install
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	$(BIN)/python -m pip install --quiet --no-deps 'face_recognition==1.3.0' click
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) build src/*.egg-info .pytest_cache
