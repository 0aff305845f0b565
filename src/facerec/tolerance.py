"""face_recognition's ``tolerance`` on this model's scale.

face_recognition compares dlib's descriptors, which are not unit length (about 1.44 long), at a
tolerance of 0.6; facerec's embeddings are unit length and averaged with their mirror image, so the
same faces lie closer together: at 0.6 here most different people would match.  A tolerance is
turned into the distance on this model's scale at which different people match no more often than
at that tolerance in face_recognition, measured on the same LFW photos in two groups and the
stricter kept (identity/calibration/face_recognition-tolerance.json, by bench/face_recognition_api.py).
"""
from __future__ import annotations

import json
import warnings
from functools import lru_cache
from pathlib import Path

import numpy as np

from .errors import FacerecError

TABLE = Path(__file__).parent / "identity" / "calibration" / "face_recognition-tolerance.json"
_warned: set = set()


@lru_cache(maxsize=None)
def _table() -> tuple[str, np.ndarray, np.ndarray]:
    try:
        t = json.loads(TABLE.read_text())
        return t["model"], np.asarray(t["tolerance"], float), np.asarray(t["distance"], float)
    except (OSError, ValueError, KeyError) as exc:
        raise FacerecError(f"{TABLE}: damaged ({exc}); reinstall facerec") from exc


def distance_for_tolerance(tolerance: float, embedder) -> float:
    """The distance on embedder's scale as strict as face_recognition's tolerance; a model without
    a measured table takes the tolerance as it is (with a warning, once per model)."""
    model, tolerances, distances = _table()
    if not tolerances[0] <= tolerance <= tolerances[-1]:
        raise FacerecError(f"tolerance {tolerance:g} is outside what was measured ({tolerances[0]:g} to "
                           f"{tolerances[-1]:g}; face_recognition's default is 0.6)")
    if embedder.name != model:
        _warn_once(embedder.name, f"model '{embedder.name}' has no measured face_recognition scale: "
                                  f"tolerance={tolerance} is used as a distance on its own scale")
        return float(tolerance)
    return float(np.interp(tolerance, tolerances, distances))


def warn_if_habit(distances, embedder) -> None:
    """Warn once when a distance lies where face_recognition's habit of 0.6 would call two faces one
    person and this model's same-person distance would not (face_distance's callers often compare
    its numbers with 0.6 themselves)."""
    same = embedder.same_person_distance
    if same is None or embedder.name != _table()[0]:
        return
    d = np.asarray(distances, float)
    if np.any((d > same) & (d <= 0.6)):
        _warn_once("habit", f"face_distance: distances here are not on face_recognition's scale: one person is "
                            f"under {same} (face_recognition: 0.6); use compare_faces(..., tolerance=0.6), "
                            f"which translates it, or facerec.same_person_distance()")


def _warn_once(key: str, message: str) -> None:
    if key not in _warned:
        _warned.add(key)
        warnings.warn(message, stacklevel=4)
