"""Pixel standardisations the supported networks were trained with."""
from __future__ import annotations

import numpy as np

from ..errors import FacerecError

NAMES = ("prewhiten", "fixed", "dlib", "none")


def prewhiten(x: np.ndarray) -> np.ndarray:
    """FaceNet's per-image standardisation: zero mean, unit variance (std floored at 1/sqrt(n))."""
    x = x.astype(np.float32)
    axes = tuple(range(1, x.ndim))
    mean = x.mean(axis=axes, keepdims=True)
    std = x.std(axis=axes, keepdims=True)
    n = np.prod(x.shape[1:])
    return ((x - mean) / np.maximum(std, np.float32(1.0 / np.sqrt(n)))).astype(np.float32)


def fixed(x: np.ndarray) -> np.ndarray:
    """FaceNet's fixed image standardisation, (x - 127.5) / 128, used by 20180402-114759."""
    return (x.astype(np.float32) - 127.5) / 128.0


def standardize(x: np.ndarray, name: str, model=None) -> np.ndarray:
    """Apply the named standardisation to a uint8 batch (N, H, W, 3); returns float32."""
    if name == "prewhiten":
        return prewhiten(x)
    if name == "fixed":
        return fixed(x)
    if name == "dlib":
        # dlib's input_rgb_image_sized: subtract the training mean per channel, divide by 256.
        mean = np.asarray(model.mean_rgb, np.float32)
        return (x.astype(np.float32) - mean) / 256.0
    if name == "none":
        return x.astype(np.float32)
    raise FacerecError(f"unknown standardization '{name}': use one of {', '.join(NAMES)}")
