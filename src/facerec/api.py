"""The short public API: photos in, faces, embeddings, distances and same/different answers out.

Models are loaded on first use and kept for later calls (embedders per model, a detector per
thread: an MTCNN object owns its interpreters), never at import.
"""
from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import FacerecError

_lock = threading.Lock()
_embedders: dict = {}
_local = threading.local()


def _embedder(model):
    from .embedding import load_embedder

    model = "default" if model is None else model
    if not isinstance(model, (str, os.PathLike)):
        return model  # an Embedder, or one standing in for it (the service's shared one)
    with _lock:
        if str(model) not in _embedders:
            _embedders[str(model)] = load_embedder(model)
        return _embedders[str(model)]


def _thread_detector(min_face_size: int = 20):
    """This thread's MTCNN (an MTCNN object owns its interpreters, so each thread has its own)."""
    from .detection import MTCNN

    detectors = _local.__dict__.setdefault("detectors", {})
    if min_face_size not in detectors:
        detectors[min_face_size] = MTCNN(min_face_size=min_face_size)
    return detectors[min_face_size]


def pipeline_for(model="default"):
    """This thread's FacePipeline for a model; files it reads go through the embedding cache."""
    from .pipeline import FacePipeline

    emb = _embedder(model)
    pipelines = _local.__dict__.setdefault("pipelines", {})
    if emb.key not in pipelines:
        pipelines[emb.key] = FacePipeline(emb, detector=_thread_detector())
    return pipelines[emb.key]


def as_image(image) -> np.ndarray:
    """An RGB array from a path (read with load_image) or anything NumPy takes for one (a PIL image)."""
    return load_image(image) if isinstance(image, (str, Path)) else np.asarray(image)


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


def detect_faces(image, min_face_size: int = 20) -> list:
    """The faces in an image (array or path): a list of Face with .box (x1, y1, x2, y2), .score
    and .landmarks (5, 2: eyes, nose, mouth corners), largest scores first.

    >>> [f.box for f in detect_faces(load_image("group.jpg"))]       # doctest: +SKIP
    """
    return _thread_detector(min_face_size).detect(as_image(image)).faces()


def face_encodings(image, faces=None, model="default", flip: bool | None = None) -> np.ndarray:
    """One unit-length embedding per face, float32 (N, D); faces from detect_faces, or found
    here when None.  flip averages each face with its mirror image (default: the model's
    choice; on for the default model).

    >>> face_encodings(load_image("alice.jpg")).shape     # doctest: +SKIP
    (1, 128)
    """
    image = as_image(image)
    faces = detect_faces(image) if faces is None else list(faces)
    if any(not hasattr(f, "landmarks") for f in faces):
        raise FacerecError("faces must be Face objects from detect_faces: a box alone cannot be aligned "
                           "(facerec needs the five landmarks)")
    return pipeline_for(model).embed_faces(image, [f.box for f in faces], [f.landmarks for f in faces], flip=flip)


def face_distance(known, candidate) -> np.ndarray:
    """Euclidean distance from each of the known embeddings (N, D) to a candidate (D,): (N,).

    >>> face_distance(known_encodings, face_encodings(image)[0])     # doctest: +SKIP
    array([0.31, 0.78])
    """
    candidate = np.asarray(candidate, np.float32)
    known = np.asarray(known, np.float32)
    if known.size == 0:  # an empty gallery: no distances (as face_recognition answers)
        return np.zeros(0, np.float32)
    known = known[None] if known.ndim == 1 else known
    if candidate.ndim != 1 or known.ndim != 2 or known.shape[1] != candidate.shape[0]:
        raise FacerecError(f"face_distance takes known embeddings (N, D) and one embedding (D,); got "
                           f"{known.shape} and {candidate.shape}")
    return np.linalg.norm(known - candidate[None], axis=1)


def same_person_distance(model="default") -> float:
    """The distance under which ``model``'s embeddings are taken for one person (measured on
    lfw-dev for the default model)."""
    d = _embedder(model).same_person_distance
    if d is None:
        raise FacerecError(f"model '{model}' has no measured same-person distance: pass a tolerance")
    return float(d)


def compare_faces(known, candidate, tolerance: float | None = None, model="default") -> list:
    """For each known embedding, whether the candidate is the same person (distance <= tolerance,
    by default the model's same-person distance).

    >>> compare_faces(known_encodings, unknown_encoding)     # doctest: +SKIP
    [True, False]
    """
    tol = same_person_distance(model) if tolerance is None else float(tolerance)
    return [bool(d <= tol) for d in face_distance(known, candidate)]


@dataclass
class Verification:
    """Whether two photos show one person: distance between their faces against threshold."""

    same: bool
    distance: float
    threshold: float
    faces_a: int = 1  # faces found in each photo; the central one is compared
    faces_b: int = 1
    masked_a: bool = False  # whether each compared face wore a mask
    masked_b: bool = False


def _subject_face(pipeline, image, name):
    """(FileFaces, index) of the face a photo of one person shows (files go through the
    embedding cache)."""
    if isinstance(image, (str, Path)):
        ff = pipeline.files([str(image)], progress=False)[0]
        if ff.error:
            raise FacerecError(f"{image}: {ff.error}")
    else:
        ff = pipeline.faces(as_image(image))
    j = ff.subject()
    if j is None:
        raise FacerecError(f"{image if isinstance(image, (str, Path)) else name}: no face found")
    return ff, j


def _rendered(pipeline, image, ff, j) -> np.ndarray:
    """The face ff's j-th rendered masked (pipeline.masked_renderings), to compare with a masked face."""
    return pipeline.masked_renderings(as_image(image), ff.boxes[j:j + 1], ff.landmarks[j:j + 1])[0]


def verify_with(pipeline, a, b, threshold: float | None = None) -> Verification:
    """verify() with a given FacePipeline (a Recognizer's, the service's).  A masked face is
    compared with the other face rendered masked (or masked itself), at the distance that lets
    masked strangers through as rarely as the model's same-person distance lets bare ones."""
    from .detection.mask_check import MASKED

    fa, ja = _subject_face(pipeline, a, "first image")
    fb, jb = _subject_face(pipeline, b, "second image")
    ma, mb = bool(fa.masked[ja] >= MASKED), bool(fb.masked[jb] >= MASKED)
    ea = _rendered(pipeline, a, fa, ja) if mb and not ma else fa.embeddings[ja]
    eb = _rendered(pipeline, b, fb, jb) if ma and not mb else fb.embeddings[jb]
    t = same_person_distance(pipeline.embedder) if threshold is None else float(threshold)
    if threshold is None and (ma or mb):
        t = masked_same_person_distance(pipeline.embedder, t)
    d = float(np.linalg.norm(ea - eb))
    return Verification(d <= t, d, t, len(fa), len(fb), ma, mb)


def masked_same_person_distance(embedder, bare: float) -> float:
    """The distance at which masked faces of different people meet as often as bare ones do at
    bare (the model's masked statistics); bare itself for a model without them."""
    from .identity.openset import GRID, shipped

    plain, masked = shipped(embedder.name), shipped(f"{embedder.name}-masked")
    if plain is None or masked is None:
        return bare
    rate = float(np.interp(bare, GRID, plain.impostor_cdf))
    return float(GRID[max(0, int(np.searchsorted(masked.impostor_cdf, rate, side="right")) - 1)])


def verify(a, b, model="default", threshold: float | None = None) -> Verification:
    """Are two photos (paths or RGB arrays) of the same person? Each photo's main face is used.

    >>> r = verify("alice1.jpg", "alice2.jpg")     # doctest: +SKIP
    >>> r.same, r.distance, r.threshold            # doctest: +SKIP
    (True, 0.29, 0.42)
    """
    return verify_with(pipeline_for(model), a, b, threshold)
