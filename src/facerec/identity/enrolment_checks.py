"""What keeps a gallery from being poisoned: faces too small or too blurred to help are refused,
and a face far from the rest of its person's faces (a photo of someone else in their folder, the
wrong person filmed) is left out, each with a note saying why.

"Far" is the model's split distance (video.tracking.split_distance: farther than 99% of pairs of
photos of one person come), measured from the mean of the person's other faces, which is nearer a
true face than any one photo is; it takes two other faces that agree to say which one is wrong.
"""
from __future__ import annotations

import numpy as np


def quality_problem(ff, j: int) -> str:
    """Why the j-th face of a FileFaces is not worth enrolling ('' when it is): too small or too
    blurred by detection.quality's measures, as taken on the chip the model embedded when the face
    was found (a turned face still helps; a face whose sharpness was not measured counts as sharp)."""
    from ..detection.quality import FaceQuality

    box, sharp = ff.boxes[j], float(ff.sharpness[j])
    return FaceQuality(float(box[2] - box[0]), sharp if np.isfinite(sharp) else np.inf, 0.0, 0.0).unusable


def strays(embeddings: np.ndarray, limit: float, known: np.ndarray | None = None) -> list[tuple[int, float]]:
    """(index, distance) of the new faces (embeddings, N x D) that lie farther than limit from the
    mean of the person's other faces (the other new ones still in, and known, K x D), when those
    number two or more.  The farthest goes first and the rest are measured again without it, so
    one stray does not drag the mean away from the faces that agree."""
    x = np.asarray(embeddings, np.float32)
    known = np.zeros((0, x.shape[1] if x.ndim == 2 else 1), np.float32) if known is None or not len(known) \
        else np.asarray(known, np.float32)
    inside, out = list(range(len(x))), []
    while inside and len(inside) + len(known) >= 3:  # each face needs two others
        others = x[inside].sum(axis=0) + known.sum(axis=0) - x[inside]  # the sum of each face's others
        centres = others / np.maximum(np.linalg.norm(others, axis=1, keepdims=True), 1e-12)
        d = np.linalg.norm(x[inside] - centres, axis=1)
        k = int(np.argmax(d))
        if d[k] <= limit:
            break
        out.append((inside.pop(k), float(d[k])))
    return out


def left_out_strays(name: str, embeddings, sources, masked, known, embedder) -> tuple[list, list, list, list]:
    """(embeddings, sources, masked renderings, notes) with the person's stray faces left out."""
    from ..video.tracking import split_distance

    limit = split_distance(embedder)
    far = dict(strays(np.asarray(embeddings), limit, known))
    notes = [f"{sources[i]}: far from {name}'s other faces (distance {d:.2f}; one person is rarely over "
             f"{limit:.2f}): left out, a photo of someone else?" for i, d in far.items()]
    keep = [i for i in range(len(embeddings)) if i not in far]
    if len(embeddings) == 2 and not len(known) and float(np.linalg.norm(embeddings[0] - embeddings[1])) > limit:
        notes.append(f"{name}: the two faces look like two people (distance "
                     f"{float(np.linalg.norm(embeddings[0] - embeddings[1])):.2f}); both enrolled, check them")
    return [embeddings[i] for i in keep], [sources[i] for i in keep], [masked[i] for i in keep], notes
