"""Whether a face is good enough to enrol: its size, its sharpness and how far it is turned.

Sharpness is the variance of the Laplacian over the middle of the face's aligned chip (eyes to
mouth, grey): detail the embedding can use.  A small face is blown up into the chip and comes out
soft too, so the measure also catches faces too small to help.  On 40 lfw-dev faces it is 23-132
(5th-95th percentile) and 5-14 after a Gaussian blur of 2 px: SHARP (15) keeps the first and
refuses the second.  Faces 25 px wide score 7-21, and MIN_SIZE refuses them whatever they score.  Turn is read from the five landmarks: yaw, the nose's offset
from the eyes' midpoint in eye distances (0 facing the camera, about 0.5 in profile), and roll, the
eyes' tilt in degrees.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MIN_SIZE = 40     # px: the narrowest face box worth enrolling
SHARP = 15.0      # the least sharpness worth enrolling (see above); a face under it is named as a
                  # soft face, under the model's soft-face statistics (Gallery.soft_side)
MAX_YAW = 0.35    # frontal to moderately turned
MAX_ROLL = 30.0   # degrees


@dataclass
class FaceQuality:
    """size (box width, px), sharpness, yaw and roll of one face; problem: why it is not worth
    enrolling ('' when it is)."""

    size: float
    sharpness: float
    yaw: float
    roll: float

    @property
    def unusable(self) -> str:
        """Why the face is too poor to help recognise anyone ('' when it is not): size, blur."""
        if self.size < MIN_SIZE:
            return f"too small ({self.size:.0f} px wide, under {MIN_SIZE})"
        if self.sharpness < SHARP:
            return f"too blurred (sharpness {self.sharpness:.0f}, under {SHARP:.0f})"
        return ""

    @property
    def problem(self) -> str:
        """unusable, or turned too far: a photo in profile still helps, but filming someone has
        frontal faces enough to keep only those."""
        if self.unusable:
            return self.unusable
        if abs(self.yaw) > MAX_YAW or abs(self.roll) > MAX_ROLL:
            return f"turned too far from the camera (yaw {self.yaw:+.2f}, roll {self.roll:+.0f} degrees)"
        return ""

    def as_dict(self) -> dict:
        return {"size": round(self.size, 1), "sharpness": round(self.sharpness, 1), "yaw": round(self.yaw, 3),
                "roll": round(self.roll, 1), "problem": self.problem}


def sharpness(chip: np.ndarray) -> float:
    """Variance of the Laplacian over the middle of a face chip (RGB, any size)."""
    import cv2

    h, w = chip.shape[:2]
    grey = cv2.cvtColor(np.ascontiguousarray(chip), cv2.COLOR_RGB2GRAY).astype(np.float32)
    middle = grey[int(h * 0.2):int(h * 0.87), int(w * 0.17):int(w * 0.83)]
    return float(cv2.Laplacian(cv2.resize(middle, (100, 100)), cv2.CV_32F).var())


def sharpnesses(chips) -> np.ndarray:
    """sharpness() of each of some chips (N,), float32."""
    return np.asarray([sharpness(c) for c in chips], np.float32).reshape(-1)


def soft_flags(sharpness_values) -> np.ndarray:
    """Which faces are soft (too blurred to enrol: sharpness under SHARP); a face whose
    sharpness was not measured (NaN: read back from an older file) counts as sharp."""
    s = np.asarray(sharpness_values, np.float64).reshape(-1)
    return np.nan_to_num(s, nan=np.inf) < SHARP


def turn(landmarks: np.ndarray) -> tuple[float, float]:
    """(yaw, roll) of a face from its five landmarks (eyes, nose, mouth corners)."""
    left, right, nose = (np.asarray(landmarks, np.float64)[i] for i in (0, 1, 2))
    eyes = right - left
    span = max(float(np.linalg.norm(eyes)), 1e-6)
    roll = float(np.degrees(np.arctan2(eyes[1], eyes[0])))
    offset = (nose - (left + right) / 2) @ (eyes / span)  # along the eye line
    return float(offset / span), roll


def measure(chip: np.ndarray, box, landmarks) -> FaceQuality:
    """The quality of one face from its aligned chip, box (x1, y1, x2, y2) and five landmarks."""
    yaw, roll = turn(landmarks)
    return FaceQuality(float(box[2] - box[0]), sharpness(chip), yaw, roll)
