#!/usr/bin/env python
"""Recognise people live on a webcam, a video file or a stream.

    python realtime/real_time_face_recognition.py --source 0 --classifier people.npz
    python realtime/real_time_face_recognition.py --source clip.mp4 --classifier people.npz \\
        --output annotated.mp4 --log events.jsonl --no-display
"""
import sys

try:
    from facerec.cli.realtime import main
except ModuleNotFoundError as exc:  # this Python is not the project's .venv
    sys.exit(f"{sys.argv[0]}: error: {exc}: run `make install`, then `. .venv/bin/activate` (or use .venv/bin/python)")

if __name__ == "__main__":
    sys.exit(main())
