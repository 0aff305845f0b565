"""How close strangers come: a model's impostor distances, and the acceptance distance they give.

A stranger is compared with every enrolled face; each comparison is another chance to fall under
the acceptance distance.  So the distance is set from the model's impostor distances (faces of
*different* people, measured once over many identities) and the gallery's size: for a target
false-accept rate per stranger face ``a`` and ``m`` enrolled faces, each comparison may accept a
stranger with probability at most ``1 - (1 - a) ** (1 / m)`` (about a / m).  A person's photos
are alike, so their comparisons are not independent chances: ``m`` is the geometric mean of the
enrolled people and faces (bench/open_set.py: counting every photo kept strangers at a third of the
target and cost known faces; counting people only let strangers past it with three photos each).  Genuine distances
(two photos of one person) give the other side: the share of known faces the distance still names.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..errors import FacerecError

GRID = np.round(np.arange(0, 2.0005, 0.0025), 4)  # unit embeddings are at most 2 apart
FORMAT = "facerec-impostors"


def looks_like_statistics(head: bytes) -> bool:
    """Whether a file's first bytes are a calibration file's (DistanceStats.to_json)."""
    return head.lstrip().startswith(b"{") and f'"format": "{FORMAT}"'.encode() in head


@dataclass
class DistanceStats:
    """A model's distances between faces: cumulative shares at each GRID distance of impostor
    pairs (different people) and genuine pairs (one person, two photos).  projection (D, D): the
    linear map faces are compared through for these statistics (None: as embedded); the distances
    were measured after it, so it travels in the same file and cannot go out of step with them."""

    model: str
    impostor_cdf: np.ndarray
    genuine_cdf: np.ndarray
    impostor_pairs: int
    genuine_pairs: int
    identities: int
    faces: int
    projection: np.ndarray | None = None

    def project(self, vectors) -> np.ndarray:
        """Embeddings (N, D) as these statistics compare them (projected())."""
        return projected(vectors, self.projection)

    def acceptance_distance(self, gallery_faces: int, false_accept: float = 0.01) -> float:
        """The largest distance at which a stranger face is named with probability at most
        false_accept by a gallery of gallery_faces enrolled faces."""
        if not 0 < false_accept < 1:
            raise FacerecError(f"false-accept rate {false_accept} must be between 0 and 1")
        per_comparison = 1 - (1 - false_accept) ** (1 / max(1.0, float(gallery_faces)))
        ok = np.flatnonzero(self.impostor_cdf <= per_comparison)
        return float(GRID[ok[-1]]) if len(ok) else 0.0

    def pairs_behind(self, gallery_faces: int, false_accept: float = 0.01) -> float:
        """How many of the measured different-person pairs acceptance_distance() rests on (those
        closer than it): under about 10 the distance is a guess that more people would move."""
        per_comparison = 1 - (1 - false_accept) ** (1 / max(1.0, float(gallery_faces)))
        return per_comparison * self.impostor_pairs

    def strangers_accepted(self, distance: float, gallery_faces: int) -> float:
        """Expected share of stranger faces named at this distance by a gallery this size."""
        p = float(np.interp(distance, GRID, self.impostor_cdf))
        return 1 - (1 - p) ** max(1.0, float(gallery_faces))

    def known_accepted(self, distance: float) -> float:
        """Expected share of one person's photos within this distance of another of theirs."""
        return float(np.interp(distance, GRID, self.genuine_cdf))

    def to_json(self) -> str:
        d = {"format": FORMAT, "version": 1, "model": self.model,
             "impostor_pairs": self.impostor_pairs, "genuine_pairs": self.genuine_pairs,
             "identities": self.identities, "faces": self.faces, "grid_step": 0.0025,
             "impostor_cdf": [float(f"{v:.3g}") for v in self.impostor_cdf],
             "genuine_cdf": [round(float(v), 5) for v in self.genuine_cdf]}
        if self.projection is not None:
            d["projection"] = [[float(f"{v:.5g}") for v in row] for row in self.projection]
        return json.dumps(d)

    @classmethod
    def from_json(cls, text: str, source="calibration file") -> "DistanceStats":
        try:
            d = json.loads(text)
            if d.get("format") != FORMAT:
                raise ValueError("not a facerec calibration file")
            imp, gen = np.asarray(d["impostor_cdf"], np.float64), np.asarray(d["genuine_cdf"], np.float64)
            if imp.shape != GRID.shape or gen.shape != GRID.shape or not (np.all(np.diff(imp) >= 0)
                                                                          and np.all(np.diff(gen) >= 0)):
                raise ValueError("its distributions are malformed")
            projection = d.get("projection")
            if projection is not None:
                projection = np.asarray(projection, np.float32)
                if projection.ndim != 2 or projection.shape[0] != projection.shape[1] or not np.isfinite(projection).all():
                    raise ValueError("its projection is not a square matrix of numbers")
            return cls(str(d["model"]), imp, gen, int(d["impostor_pairs"]), int(d["genuine_pairs"]),
                       int(d["identities"]), int(d["faces"]), projection)
        except (ValueError, KeyError, TypeError) as exc:
            raise FacerecError(f"{source}: {exc}") from exc


def chances(people: int, faces: int) -> float:
    """The independent chances a stranger has against a gallery of this many people and faces."""
    return float(np.sqrt(max(1, people) * max(1, faces)))


def projected(vectors, projection: np.ndarray | None) -> np.ndarray:
    """Embeddings (N, D) through a projection (D, D), back on the unit sphere (distances stay within
    0-2, and dot products stay cosines); as given without one."""
    x = np.asarray(vectors, np.float32)
    if projection is None:
        return x
    if x.shape[-1] != projection.shape[0]:
        raise FacerecError(f"{x.shape[-1]}-d embeddings cannot go through a {projection.shape[0]}-d "
                           f"projection: statistics of another model")
    y = x @ projection
    return (y / np.maximum(np.linalg.norm(y, axis=-1, keepdims=True), 1e-12)).astype(np.float32)


def measure(embeddings: np.ndarray, labels, model: str, against: np.ndarray | None = None,
            projection: np.ndarray | None = None) -> DistanceStats:
    """Distance statistics from embeddings (N, D) of identities labels (N,): every pair of
    faces, in blocks so memory stays small.  against (N, D): the same photos seen another way (the
    enrolled faces rendered masked, say): then every face is paired with every other photo's.
    projection (D, D): faces compared through it (DistanceStats.project), and kept with the result."""
    x = projected(embeddings, projection)
    ref = x if against is None else projected(against, projection)
    _, y = np.unique(np.asarray(labels), return_inverse=True)
    if len(np.unique(y)) < 2:
        raise FacerecError("calibration needs faces of at least two people")
    imp = np.zeros(len(GRID) + 1, np.int64)
    gen = np.zeros(len(GRID) + 1, np.int64)
    step = 512
    sq, sq_ref = (x ** 2).sum(axis=1), (ref ** 2).sum(axis=1)  # 1 for unit vectors; not for dlib's own
    for s in range(0, len(x), step):
        d = np.sqrt(np.maximum(sq[s:s + step, None] + sq_ref[None] - 2 * x[s:s + step] @ ref.T, 0))
        rows, cols = np.arange(s, min(s + step, len(x)))[:, None], np.arange(len(x))[None]
        later = cols > rows if against is None else cols != rows  # each pair once; across, both ways
        same = y[s:s + step, None] == y[None]
        bins = np.searchsorted(GRID, d, side="left")
        imp += np.bincount(bins[later & ~same], minlength=len(GRID) + 1)
        gen += np.bincount(bins[later & same], minlength=len(GRID) + 1)
    n_imp, n_gen = int(imp.sum()), int(gen.sum())
    return DistanceStats(model, np.cumsum(imp)[:-1] / max(n_imp, 1), np.cumsum(gen)[:-1] / max(n_gen, 1),
                         n_imp, n_gen, int(len(np.unique(y))), int(len(x)), projection)


def equally_strict(distance: float, scale: DistanceStats, other: DistanceStats) -> float:
    """The largest distance on other's scale that lets different people through no more often
    than distance does on scale's (the impostor shares measured for each)."""
    rate = float(np.interp(distance, GRID, scale.impostor_cdf))
    return float(GRID[max(0, int(np.searchsorted(other.impostor_cdf, rate, side="right")) - 1)])


@lru_cache(maxsize=None)
def shipped(model_name: str) -> DistanceStats | None:
    """The statistics facerec ships for one of its own models (numbers, no photos), if any; read
    once (the masked ones carry a projection, 8 ms to parse, and verify asks per pair)."""
    path = Path(__file__).with_name("calibration") / f"{model_name}.json"
    return DistanceStats.from_json(path.read_text(), path) if path.is_file() else None
