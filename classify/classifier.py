#!/usr/bin/env python
"""Train or use a face classifier (FaceNet's classifier.py).

    python classify/classifier.py TRAIN data_dir default my_classifier.npz --use_split_dataset
    python classify/classifier.py CLASSIFY data_dir default my_classifier.npz --use_split_dataset
"""
import sys

from facerec.cli.classify import main

if __name__ == "__main__":
    sys.exit(main())
