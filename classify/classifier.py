#!/usr/bin/env python
"""Train or use a face classifier (FaceNet's classifier.py).

    python classify/classifier.py TRAIN data_dir default my_classifier.npz --use_split_dataset
    python classify/classifier.py CLASSIFY data_dir default my_classifier.npz --use_split_dataset
"""
import sys

try:
    from facerec.cli.classify import main
except ModuleNotFoundError as exc:  # this Python is not the project's .venv
    sys.exit(f"{sys.argv[0]}: error: {exc}: run `make install`, then `. .venv/bin/activate` (or use .venv/bin/python)")

if __name__ == "__main__":
    sys.exit(main())
