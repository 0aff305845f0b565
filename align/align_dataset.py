#!/usr/bin/env python
"""Align a folder of people into face crops (FaceNet's align_dataset_mtcnn.py).

    python align/align_dataset.py input_dir output_dir [--image_size 160] [--margin 32]
        [--random_order] [--detect_multiple_faces] [--gpu_memory_fraction F] [--workers N]
"""
import sys

try:
    from facerec.cli.align import main
except ModuleNotFoundError as exc:  # this Python is not the project's .venv
    sys.exit(f"{sys.argv[0]}: error: {exc}: run `make install`, then `. .venv/bin/activate` (or use .venv/bin/python)")

if __name__ == "__main__":
    sys.exit(main())
