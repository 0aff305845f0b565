"""The faces of a photo collection grouped by person: rows with a cluster number each."""
from __future__ import annotations

import numpy as np

from ..errors import FacerecError
from ..identity.protocol import is_named
from .results_file import box_cell


def _named(gallery, ff, model_name: str) -> list:
    """The names a gallery gives a photo's faces, masked and soft ones weighed as identify weighs them."""
    from ..identity.odds import soft_faces

    return gallery.identify(ff.embeddings, np.asarray(ff.masked, np.float64), soft_faces(model_name, ff.sharpness)).names


def cluster_files(files, model_name: str, gallery=None, pair_rate: float | None = None) -> list[dict]:
    """Rows with ``cluster`` (1, 2, ... largest first; None for a face that matches no one) for
    faces already embedded (FileFaces: from photos or a faces file).  With a gallery, the faces it
    names are left out (their rows say who)."""
    from ..identity.openset import shipped
    from .clustering import PAIR_RATE, cluster_embeddings, link_distance

    stats = shipped(model_name)
    if stats is None:
        raise FacerecError(f"no distance statistics for model '{model_name}': measure them with facerec calibrate")
    rows, vectors = [], []
    for ff in files:
        if ff.error or not len(ff):
            rows.append({"path": ff.path, "face": None, "box": None, "cluster": None,
                         "note": ff.error or "no face found"})
            continue
        names = _named(gallery, ff, model_name) if gallery is not None else [None] * len(ff)
        for i in range(len(ff)):
            named = is_named(names[i])
            rows.append({"path": ff.path, "face": i, "box": box_cell(ff.boxes[i]), "cluster": None,
                         "note": f"named {names[i]} by the gallery" if named else ""})
            if not named:
                vectors.append((len(rows) - 1, ff.embeddings[i]))
    if vectors:
        limit = link_distance(stats, PAIR_RATE if pair_rate is None else pair_rate)
        labels = cluster_embeddings(np.stack([v for _, v in vectors]), limit)
        for (row, _), label in zip(vectors, labels):
            rows[row]["cluster"] = int(label) + 1 if label >= 0 else None
    return rows
