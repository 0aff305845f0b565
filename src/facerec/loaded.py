"""What the public API runs on: models loaded on first use and kept for later calls (embedders per
model, a detector per thread: an MTCNN object owns its interpreters), never at import; images as
arrays; and the faces of images already seen, remembered for the next calls on the same pixels.
"""
from __future__ import annotations

import os
import threading
from collections import OrderedDict
from pathlib import Path

import numpy as np

from .errors import FacerecError

_lock = threading.Lock()
_embedders: dict = {}
_local = threading.local()
MEMORY = 32  # images whose faces each thread keeps (remembered)


def embedder_for(model):
    """The embedder of a model name or path, loaded once per process (an Embedder passes through)."""
    from .embedding import load_embedder

    model = "default" if model is None else model
    if not isinstance(model, (str, os.PathLike)):
        return model  # an Embedder, or one standing in for it (the service's shared one)
    with _lock:
        if str(model) not in _embedders:
            _embedders[str(model)] = load_embedder(model)
        return _embedders[str(model)]


def is_loaded(model: str) -> bool:
    """Whether a model has been loaded in this process (nothing is loaded to answer)."""
    return str(model) in _embedders


def thread_detector(min_face_size: int = 20):
    """This thread's MTCNN (an MTCNN object owns its interpreters, so each thread has its own)."""
    from .detection import MTCNN

    detectors = _local.__dict__.setdefault("detectors", {})
    if min_face_size not in detectors:
        detectors[min_face_size] = MTCNN(min_face_size=min_face_size)
    return detectors[min_face_size]


def pipeline_for(model="default"):
    """This thread's FacePipeline for a model; files it reads go through the embedding cache."""
    from .pipeline import FacePipeline

    emb = embedder_for(model)
    pipelines = _local.__dict__.setdefault("pipelines", {})
    if emb.key not in pipelines:
        pipelines[emb.key] = FacePipeline(emb, detector=thread_detector())
    return pipelines[emb.key]


def as_image(image) -> np.ndarray:
    """uint8 RGB (H, W, 3) from a path (read with load_image) or anything NumPy takes for an image (a
    PIL image; grey (H, W) and RGBA arrays are turned RGB, as face_recognition's callers pass them)."""
    if isinstance(image, (str, os.PathLike)):
        return load_image(image)
    array = np.asarray(image)
    if array.dtype != np.uint8:
        raise FacerecError(f"an image must be uint8 RGB (H, W, 3) or grey (H, W); got {array.dtype} {array.shape}")
    if array.ndim == 2:
        array = np.repeat(array[:, :, None], 3, axis=2)
    elif array.ndim == 3 and array.shape[2] == 4:
        array = array[:, :, :3]
    if array.dtype != np.uint8 or array.ndim != 3 or array.shape[2] != 3:
        raise FacerecError(f"an image must be uint8 RGB (H, W, 3) or grey (H, W); got {array.dtype} {array.shape}")
    return array


def load_image(path) -> np.ndarray:
    """uint8 RGB (H, W, 3) of an image file, turned upright by its EXIF orientation.

    >>> image = load_image("photo.jpg")     # doctest: +SKIP
    """
    from .images import UnreadableImage
    from .images import load_image as _load

    if Path(path).is_dir():
        raise FacerecError(f"{path}: is a folder, not an image")
    try:
        return _load(path)
    except UnreadableImage as exc:
        raise FacerecError(f"{path}: {exc}") from exc


def remembered(kind, image: np.ndarray, compute=None):
    """compute() for this image's pixels, kept for the next calls on the same pixels in this thread
    (the last MEMORY results): face_locations then face_encodings, or one photo in many verify
    pairs, detect and embed once.  Keyed by a digest of the pixels, so a changed array is new.
    Without compute: what is remembered, or None."""
    import hashlib

    key = (kind, image.shape, hashlib.blake2b(np.ascontiguousarray(image).data, digest_size=16).digest())
    memory = _local.__dict__.setdefault("memory", OrderedDict())
    if key not in memory:
        if compute is None:  # only asked whether it is remembered
            return None
        memory[key] = compute()
        while len(memory) > MEMORY:
            memory.popitem(last=False)
    memory.move_to_end(key)
    return memory[key]


def detections(image: np.ndarray, min_face_size: int = 20):
    """MTCNN's Detections of a uint8 RGB image (remembered for the same pixels)."""
    return remembered(("faces", min_face_size), image, lambda: thread_detector(min_face_size).detect(image))


def same_person_distance(model="default") -> float:
    """The distance under which ``model``'s embeddings are taken for one person (measured on
    lfw-dev for the default model)."""
    d = embedder_for(model).same_person_distance
    if d is None:
        raise FacerecError(f"model '{model}' has no measured same-person distance: pass a tolerance")
    return float(d)


