"""A gallery or a classifier from its file, and the embedding model it needs: how every front end
gets its identifier (protocol.py says what one answers)."""
from __future__ import annotations

import os
from pathlib import Path

from ..errors import FacerecError


def load_identifier(path):
    """A gallery (facerec enrol) or a classifier (classifier.py TRAIN) from its file; anything
    else is refused with one line before any model loads."""
    from .gallery import Gallery
    from .gallery_file import is_gallery_file

    if not Path(path).exists():  # before it is taken for either kind
        raise FacerecError(f"{path}: file not found (a gallery from facerec enrol, or a classifier "
                           f"from classifier.py TRAIN)")
    if is_gallery_file(path):
        return Gallery.load(path)
    from .classifier import FaceClassifier  # scikit-learn (and its memory) only for a classifier

    return FaceClassifier.load(path)


def embedder_for(identifier=None, model=None, source: str = "the file"):
    """The embedder to use with an identifier: ``model`` when given (refused unless it is the one
    the identifier's faces came from), else the identifier's own, else the default."""
    from ..embedding import load_embedder

    if model is not None and not isinstance(model, (str, os.PathLike)):
        embedder = model  # an Embedder, or one that stands in for it (the service's shared one)
    else:
        spec = model or (identifier.model_spec if identifier is not None else "default")
        embedder = load_embedder(spec)
    if identifier is not None:
        identifier.check_model(embedder, source)
    return embedder
