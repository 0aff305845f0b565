"""Shot cuts: the frames where the whole picture changes, so that no face carries its name across.

A cut changes every pixel's neighbourhood and the colours of the scene at once; motion (people
walking, a pan, a hand in front of the camera) moves pixels but keeps most of the colours, and a
flash or an exposure change shifts the colours but keeps the picture's layout.  So a frame starts a
new shot only when both jump past what a continuous shot does:
- PICTURE: the mean absolute change of a 32x18 grey thumbnail, each less its mean brightness;
- COLOURS: the total-variation distance between hue-saturation histograms (0-1).
Measured on the Hamilton clip (bench/cuts.py): its three cuts score 26.0-29.6 and 0.38-0.63;
every other frame at most 12.6 and 0.17 (medians 2.3 and 0.03).
"""
from __future__ import annotations

import numpy as np

PICTURE = 18.0
COLOURS = 0.25
# The same test on one face's box, from one detection to the next: another face now fills it (a
# cut at the same place, a person passing in front).  bench/cut_clips.py: the 19 switches between
# a person and their most similar stranger scored 21-60 and 0.29-0.87; a face's own boxes scored
# at most 21.9 and 0.099 for 99% of detections (the Hamilton clip's real motion: 35.3 and 0.144).
BOX_PICTURE = 20.0
BOX_COLOURS = 0.25


def face_patch(frame: np.ndarray, box) -> np.ndarray | None:
    """The box's pixels at 64x64, for CutDetector to compare one detection of a face with the next."""
    import cv2

    h, w = frame.shape[:2]
    x1, y1, x2, y2 = (int(round(float(v))) for v in box)
    x1, y1, x2, y2 = max(0, x1), max(0, y1), min(w, x2), min(h, y2)
    if x2 - x1 < 4 or y2 - y1 < 4:
        return None
    return cv2.resize(np.ascontiguousarray(frame[y1:y2, x1:x2]), (64, 64), interpolation=cv2.INTER_AREA)


class CutDetector:
    """Feed it every frame (uint8 RGB); ``is_cut`` says whether that frame starts a new shot."""

    def __init__(self, picture: float = PICTURE, colours: float = COLOURS):
        self.picture, self.colours = picture, colours
        self._last = None  # (thumbnail, histogram) of the previous frame

    def scores(self, frame: np.ndarray) -> tuple[float, float] | None:
        """(picture change, colour change) from the previous frame; None for the first one."""
        import cv2

        small = cv2.resize(frame, (64, 36), interpolation=cv2.INTER_AREA)
        thumb = cv2.resize(cv2.cvtColor(small, cv2.COLOR_RGB2GRAY), (32, 18), interpolation=cv2.INTER_AREA)
        hsv = cv2.cvtColor(small, cv2.COLOR_RGB2HSV)
        hist = cv2.calcHist([hsv], [0, 1], None, [16, 8], [0, 180, 0, 256]).ravel()
        hist /= max(float(hist.sum()), 1.0)
        thumb = thumb.astype(np.float32)
        thumb -= thumb.mean()  # an exposure change or a flash shifts every pixel alike: not a cut
        last, self._last = self._last, (thumb, hist)
        if last is None:
            return None
        return float(np.abs(self._last[0] - last[0]).mean()), float(0.5 * np.abs(hist - last[1]).sum())

    def is_cut(self, frame: np.ndarray) -> bool:
        s = self.scores(frame)
        return s is not None and s[0] >= self.picture and s[1] >= self.colours
