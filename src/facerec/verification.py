"""Are two photos of one person?  Each photo's main face, compared; the answer's chance of being right.

The distance decides by default (the model's same-person distance, or max_distance); threshold P
decides on the chance instead.  The chance is Bayes' rule over "one person" and "two people" with
even odds before looking, from the model's measured genuine and impostor distances (identity.odds),
masked faces from its masked statistics (and compared through their projection), soft ones (too
blurred to enrol) from its soft ones.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import FacerecError


@dataclass
class Verification:
    """Whether two photos show one person: the distance between their faces against max_distance,
    or the chance of one person against threshold; probability: the chance the answer is right."""

    same: bool
    distance: float
    max_distance: float | None
    probability: float
    faces_a: int = 1  # faces found in each photo; the central one is compared
    faces_b: int = 1
    masked_a: bool = False  # whether each compared face wore a mask
    masked_b: bool = False
    threshold: float | None = None  # the probability floor, when it decided
    soft_a: bool = False  # whether each compared face was too blurred to enrol
    soft_b: bool = False

    def as_dict(self) -> dict:
        """JSON-ready, as `facerec verify --json` and the service answer."""
        return {"same": bool(self.same), "distance": round(float(self.distance), 4),
                "probability": round(float(self.probability), 4),
                "max_distance": None if self.max_distance is None else round(float(self.max_distance), 4),
                "threshold": self.threshold, "faces_a": self.faces_a, "faces_b": self.faces_b,
                "masked_a": self.masked_a, "masked_b": self.masked_b, "soft_a": self.soft_a, "soft_b": self.soft_b}


def subject_face(pipeline, image, name):
    """(FileFaces, index) of the face a photo of one person shows.  Files go through the embedding
    cache; arrays are remembered (api.remembered), so a photo in many pairs is embedded once."""
    from .loaded import as_image, remembered

    if isinstance(image, (str, Path)):
        ff = pipeline.files([str(image)], progress=False)[0]
        if ff.error:
            raise FacerecError(f"{image}: {ff.error}")
    else:
        pixels = as_image(image)
        # A detector with other settings finds other faces (the service's shared one has none to read).
        finder = getattr(pipeline.detector, "settings", None) or id(pipeline.detector)
        ff = remembered(("file faces", pipeline.embedder.key, finder), pixels, lambda: pipeline.faces(pixels))
    j = ff.subject()
    if j is None:
        raise FacerecError(f"{image if isinstance(image, (str, Path)) else name}: no face found")
    return ff, j


def _rendered(pipeline, image, ff, j) -> np.ndarray:
    """The face ff's j-th rendered masked (pipeline.masked_renderings), to compare with a masked face."""
    from .loaded import as_image

    return pipeline.masked_renderings(as_image(image), ff.boxes[j:j + 1], ff.landmarks[j:j + 1])[0]


def chance_same(embedder, distance: float, kind: str = "") -> float:
    """The chance two faces this far apart are one person (even odds before looking), under the
    model's statistics of that kind ("masked", "soft"; "" bare); 0.5 for a model without any."""
    from .identity.odds import shipped_odds

    odds = (shipped_odds(f"{embedder.name}-{kind}") if kind else None) or shipped_odds(embedder.name)
    if odds is None:
        return 0.5
    person, _ = odds.chances(np.array([[distance]]), np.array([[1]]), people=1)
    return float(person[0, 0])


def _distance(embedder, ea, eb, kind: str) -> float:
    """Two faces' distance as the model's statistics of that kind compare them (through their
    projection, where they have one: openset.DistanceStats.project)."""
    from .identity.openset import shipped

    stats = shipped(f"{embedder.name}-{kind}") if kind else None
    if stats is not None:
        ea, eb = stats.project(np.stack([ea, eb]))
    return float(np.linalg.norm(np.asarray(ea, np.float32) - np.asarray(eb, np.float32)))


def check_decision(threshold, max_distance) -> None:
    """One way to decide, each in range; raised before any work."""
    if threshold is not None and max_distance is not None:
        raise FacerecError("give a probability threshold or a max distance, not both")
    if threshold is not None and not 0 <= float(threshold) <= 1:
        raise FacerecError(f"threshold {threshold} is a probability: it must be between 0 and 1")
    if max_distance is not None and not float(max_distance) >= 0:
        raise FacerecError(f"max distance {max_distance} must be 0 or more")


def verify_with(pipeline, a, b, threshold: float | None = None, max_distance: float | None = None) -> Verification:
    """api.verify with a given FacePipeline (a Recognizer's, the service's).  A masked face is
    compared with the other face rendered masked (or masked itself), at the distance that lets
    masked strangers through as rarely as the model's same-person distance lets bare ones; a soft
    face (too blurred to enrol) likewise under the model's soft-face statistics."""
    from .detection.mask_check import MASKED
    from .identity.odds import soft_faces
    from .loaded import same_person_distance

    check_decision(threshold, max_distance)
    fa, ja = subject_face(pipeline, a, "first image")
    fb, jb = subject_face(pipeline, b, "second image")
    ma, mb = bool(fa.masked[ja] >= MASKED), bool(fb.masked[jb] >= MASKED)
    sa, sb = (bool(soft_faces(pipeline.embedder.name, f.sharpness[j:j + 1])[0]) for f, j in ((fa, ja), (fb, jb)))
    ea = _rendered(pipeline, a, fa, ja) if mb and not ma else fa.embeddings[ja]
    eb = _rendered(pipeline, b, fb, jb) if ma and not mb else fb.embeddings[jb]
    kind = "masked" if ma or mb else "soft" if sa or sb else ""
    d = _distance(pipeline.embedder, ea, eb, kind)
    p_same = chance_same(pipeline.embedder, d, kind)
    if threshold is not None:
        same, limit = p_same >= float(threshold), None
    else:
        limit = float(max_distance) if max_distance is not None else same_person_distance(pipeline.embedder)
        if max_distance is None and kind:
            limit = same_person_distance_for(pipeline.embedder, limit, kind)
        same = d <= limit
    return Verification(same, d, limit, p_same if same else 1 - p_same, len(fa), len(fb), ma, mb,
                        None if threshold is None else float(threshold), sa, sb)


def same_person_distance_for(embedder, bare: float, kind: str) -> float:
    """The distance at which faces of that kind ("masked", "soft") of different people meet as
    often as bare ones do at bare (the model's statistics of that kind); bare without them."""
    from .identity.openset import equally_strict, shipped

    plain, other = shipped(embedder.name), shipped(f"{embedder.name}-{kind}")
    return bare if plain is None or other is None else equally_strict(bare, plain, other)


def distance_matrix(pipeline, images) -> tuple[np.ndarray, list]:
    """FaceNet's compare.py: the distances (N, N) between the main faces of N photos, and for each
    photo its FileFaces and subject index (or the FacerecError saying why it has no face)."""
    found = []
    for i, image in enumerate(images):
        try:
            found.append(subject_face(pipeline, image, f"image {i + 1}"))
        except FacerecError as exc:
            found.append(exc)
    dim = pipeline.embedder.dim
    x = np.stack([f[0].embeddings[f[1]] if isinstance(f, tuple) else np.full(dim, np.nan, np.float32) for f in found])
    return np.linalg.norm(x[:, None] - x[None], axis=2), found
