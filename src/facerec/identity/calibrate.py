"""Measuring a model's distance statistics on folders of people (facerec calibrate): what
openset.DistanceStats holds, from the user's own photos."""
from __future__ import annotations

import numpy as np


def calibrate(model, folders, progress: bool = True):
    """Measure a model on folders of people (one sub-folder per person; different folders must
    not hold the same person under two names): each photo's subject face, every pair."""
    from ..people_folders import read_people
    from ..embedding import Embedder, load_embedder
    from .openset import measure
    from .training import embed_people

    embedder = model if isinstance(model, Embedder) else load_embedder(model)
    people = [p for folder in folders for p in read_people(folder)]
    ts = embed_people(embedder, people, mirror=False, progress=progress)
    return measure(ts.embeddings, np.asarray(ts.names)[ts.labels], embedder.name)
