"""Shot-cut scores (facerec.video.cuts) over every frame of a video: where the cuts stand apart.

Prints the frames whose picture and colour changes pass the thresholds, the highest scores of the
other frames, and what a threshold between them leaves.  Usage: python bench/cuts.py [VIDEO]
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

CLIP = Path(__file__).resolve().parents[2] / "shared" / "data" / "video" / "short_hamilton_clip.mp4"


def frame_scores(path) -> list[tuple[int, float, float]]:
    import cv2

    from facerec.video.cuts import CutDetector

    cap, detector, out, i = cv2.VideoCapture(str(path)), CutDetector(), [], 0
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        s = detector.scores(np.ascontiguousarray(frame[:, :, ::-1]))
        if s is not None:
            out.append((i, *s))
        i += 1
    cap.release()
    return out


def main(argv=None):
    from facerec.video.cuts import COLOURS, PICTURE

    path = Path((argv or sys.argv[1:] or [CLIP])[0])
    if not path.exists():
        print(f"skipped: {path} not available")
        return None
    scores = frame_scores(path)
    cuts = [s for s in scores if s[1] >= PICTURE and s[2] >= COLOURS]
    rest = [s for s in scores if s not in cuts]
    print(f"{path.name}: {len(scores) + 1} frames; thresholds picture {PICTURE:g}, colours {COLOURS:g}")
    print("cuts (frame: picture, colours): " + ", ".join(f"{i}: {p:.1f}, {c:.3f}" for i, p, c in cuts))
    print(f"other frames: picture at most {max(p for _, p, _ in rest):.1f} (median {np.median([p for _, p, _ in rest]):.1f}), "
          f"colours at most {max(c for _, _, c in rest):.3f} (median {np.median([c for _, _, c in rest]):.3f})")
    return {"cuts": [i for i, _, _ in cuts], "max_picture_else": max(p for _, p, _ in rest),
            "max_colours_else": max(c for _, _, c in rest)}


if __name__ == "__main__":
    main()
