"""Is a face masked?  The chance, from the lower face's edges.

A bare lower face has edges a mask hides: nostrils, lips, the mouth's line, the chin's shading.
So the lower half of dlib's face chip (cut from the five landmarks) is described by histograms
of gradient directions (HOG, 8 px cells, 2x2-cell blocks) and a logistic regression trained on
lfw-singles and lfw-unknown as the detector's second look sees them: every detection in the bare
photos (faces, and the backgrounds its low thresholds pick up) against the faces found in masked
copies (facerec.masks; bench/fit_mask_check.py writes mask_check.npz).  On lfw-dev (people it
never saw): at MASKED 1.7% of bare detections and 96.6% of masked faces are called masked; at
MASKED_SURE none of the bare ones and 77.8% of the masked.
"""
from __future__ import annotations

import functools
from pathlib import Path

import numpy as np

from ..alignment import warp_to_template
from ..errors import FacerecError

WEIGHTS = Path(__file__).with_name("mask_check.npz")
MASKED = 0.5          # a face is reported masked from this chance
MASKED_SURE = 0.95    # ... and kept on that evidence alone (face_check) from this one
CHIP, PADDING = 150, 0.25  # dlib's face chip, as the default embedder cuts it
LOWER = (slice(67, 135), slice(22, 128))  # the chip's rows and columns from the nose to the chin
CELLS = (40, 64)      # the lower face resized to this (h, w) before HOG


def lower_face(image: np.ndarray, landmarks) -> np.ndarray:
    """The grey lower half of the face's chip, CELLS in size."""
    import cv2

    chip = warp_to_template(image, np.asarray(landmarks, np.float64), CHIP, PADDING)
    grey = cv2.cvtColor(chip, cv2.COLOR_RGB2GRAY)[LOWER]
    return cv2.resize(grey, CELLS[::-1], interpolation=cv2.INTER_AREA)


def hog(grey: np.ndarray, cell: int = 8, bins: int = 9) -> np.ndarray:
    """Histograms of unsigned gradient directions per cell, normalised per 2x2-cell block."""
    import cv2

    g = grey.astype(np.float32)
    gx = cv2.Sobel(g, cv2.CV_32F, 1, 0, ksize=1)
    gy = cv2.Sobel(g, cv2.CV_32F, 0, 1, ksize=1)
    magnitude = np.hypot(gx, gy)
    direction = np.minimum((np.arctan2(gy, gx) % np.pi / np.pi * bins).astype(int), bins - 1)
    rows, cols = g.shape[0] // cell, g.shape[1] // cell
    cut = (magnitude[..., None] * (direction[..., None] == np.arange(bins)))[:rows * cell, :cols * cell]
    hist = cut.reshape(rows, cell, cols, cell, bins).sum(axis=(1, 3))
    blocks = np.concatenate([hist[:-1, :-1], hist[1:, :-1], hist[:-1, 1:], hist[1:, 1:]], axis=2)
    blocks /= np.sqrt((blocks ** 2).sum(axis=2, keepdims=True) + 1e-3)
    return blocks.ravel()


@functools.lru_cache(maxsize=1)
def weights_id() -> str:
    """A short digest of the shipped weights (what a cached chance was computed with)."""
    import hashlib

    return hashlib.sha256(WEIGHTS.read_bytes()).hexdigest()[:12]


@functools.lru_cache(maxsize=1)
def _weights() -> tuple[np.ndarray, float]:
    with np.load(WEIGHTS) as w:
        return w["coef"].astype(np.float32), float(w["intercept"])


def masked_chances(image: np.ndarray, landmarks) -> np.ndarray:
    """The chance that each face (landmarks (N, 5, 2)) of a uint8 RGB image is masked: (N,)."""
    landmarks = np.asarray(landmarks)
    if not len(landmarks):
        return np.zeros(0, np.float32)
    coef, intercept = _weights()
    z = np.array([_logit(image, lm, coef, intercept) for lm in landmarks], np.float64)
    return (1 / (1 + np.exp(-z))).astype(np.float32)


def _logit(image: np.ndarray, landmarks, coef: np.ndarray, intercept: float) -> float:
    if not np.isfinite(landmarks).all() or np.ptp(landmarks, axis=0).max() < 2:  # no face to look at
        return -np.inf
    try:
        return float(hog(lower_face(image, landmarks)) @ coef + intercept)
    except FacerecError:  # landmarks all in one place: no face to look at, so not a masked one
        return -np.inf
