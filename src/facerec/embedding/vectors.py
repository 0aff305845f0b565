"""What an embedding must be wherever one comes in (a faces file, a gallery, a caller's array):
a row of the model's width, finite, and of unit length, as every embedder here gives.  A row that
is not (NaN, inf, zeros, a scaled copy) would sit at no meaningful distance from anyone, and once
saved it would make the gallery unreadable."""
from __future__ import annotations

import numpy as np

from ..errors import FacerecError

UNIT_TOLERANCE = 1e-3


def bad_rows(vectors: np.ndarray) -> np.ndarray:
    """Which rows of (N, D) are not finite unit vectors."""
    v = np.asarray(vectors, np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        norms = np.linalg.norm(v, axis=1)
    return ~np.isfinite(v).all(axis=1) | ~(np.abs(norms - 1) < UNIT_TOLERANCE)


def checked_embeddings(vectors, dim: int, what: str = "embeddings") -> np.ndarray:
    """vectors as float32 (N, dim), refused with one line unless every row is a finite unit vector."""
    v = np.asarray(vectors)
    if v.ndim != 2 or v.shape[1] != dim:
        raise FacerecError(f"{what}: {v.shape[-1] if v.ndim else 0}-d, where the model's are {dim}-d")
    if not np.issubdtype(v.dtype, np.number):
        raise FacerecError(f"{what}: not numbers")
    bad = bad_rows(v)
    if bad.any():
        raise FacerecError(f"{what}: {int(bad.sum())} of {len(v)} are not finite unit vectors "
                           f"(as the model gives); nothing was changed")
    return v.astype(np.float32)


def rendered_rows(vectors: np.ndarray) -> np.ndarray:
    """Which rows hold a vector: a face enrolled without its masked rendering has zeros there."""
    return np.abs(vectors).sum(axis=1) > 0
