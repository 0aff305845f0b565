#!/usr/bin/env python
"""Align a folder of people into face crops (FaceNet's align_dataset_mtcnn.py).

    python align/align_dataset.py input_dir output_dir [--image_size 160] [--margin 32]
        [--random_order] [--detect_multiple_faces] [--gpu_memory_fraction F] [--workers N]
"""
import sys

from facerec.cli.align import main

if __name__ == "__main__":
    sys.exit(main())
