#!/usr/bin/env python
"""Recognise people live on a webcam, a video file or a stream.

    python realtime/real_time_face_recognition.py --source 0 --classifier people.npz
    python realtime/real_time_face_recognition.py --source clip.mp4 --classifier people.npz \\
        --output annotated.mp4 --log events.jsonl --no-display
"""
import sys

from facerec.cli.realtime import main

if __name__ == "__main__":
    sys.exit(main())
