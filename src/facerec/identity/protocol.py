"""Who a face is: the one protocol galleries and classifiers answer (loading.py reads either from a file).

Every front end gets identities through here.  An identifier (a Gallery from ``facerec enrol``, a
FaceClassifier from ``classifier.py TRAIN``, the service's live gallery) answers
``identify(embeddings) -> Identities``: for each face a person's name or ``UNKNOWN``, a
probability and the distance to the nearest enrolled face.  It also says which embedding model
its faces came from (``model_spec``) and refuses any other (``check_model``), so a file is never
used with a model that embeds faces differently.
"""
from __future__ import annotations

from typing import NamedTuple, Protocol

import numpy as np

from ..errors import FacerecError

UNKNOWN = "Unknown"  # the name of every face no enrolled person is close enough to
PENDING = "..."      # a video track's name before its first embedding


class Identities(NamedTuple):
    """The answer for a batch of faces, in their order: ``names`` (a person's, or UNKNOWN),
    ``probabilities`` (the identifier's confidence in the name it considered) and ``distances``
    (to the nearest enrolled face).  Unpacks as ``names, probabilities, distances``."""

    names: list
    probabilities: np.ndarray
    distances: np.ndarray

    @classmethod
    def empty(cls) -> "Identities":
        return cls([], np.zeros(0), np.zeros(0))

    @classmethod
    def nobody(cls, n: int) -> "Identities":
        """n faces, and no one enrolled to compare them with."""
        return cls([UNKNOWN] * n, np.zeros(n), np.full(n, np.inf))


class Identifier(Protocol):
    """What a Recognizer needs of a gallery or classifier."""

    @property
    def model_spec(self) -> str: ...  # how to load the model its faces came from ('default' or a path)

    def identify(self, X) -> Identities: ...

    def check_model(self, embedder, source: str = ...) -> None: ...

    def acceptance_distance(self) -> float: ...  # beyond it a face is Unknown


def is_named(name) -> bool:
    """True for a person's name; False for UNKNOWN, a pending track, or no name."""
    return name not in (None, "", UNKNOWN, PENDING)


def check_name(name: str) -> None:
    """A person's name is a plain label: no path separators, no control characters, not UNKNOWN."""
    if not name or name in (".", "..") or any(c in name for c in "/\\") or any(ord(c) < 32 for c in name) \
            or name == UNKNOWN:
        raise FacerecError(f"'{name}' cannot be a person's name (empty, a path, '{UNKNOWN}' or control characters)")
