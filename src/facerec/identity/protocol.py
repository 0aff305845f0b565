"""Who a face is: the one protocol galleries and classifiers answer (loading.py reads either from a file).

Every front end gets identities through here.  An identifier (a Gallery from ``facerec enrol``, a
FaceClassifier from ``classifier.py TRAIN``, the service's live gallery) answers
``identify(embeddings) -> Identities``: for each face a person's name or ``UNKNOWN``, the chance
that answer is right, and the distance to the nearest enrolled face; a face is Unknown when the
chance its likeliest name is right is under the identifier's floor (``use_threshold``).  It also says which embedding model
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
    ``probabilities`` (the chance that this answer, a name or Unknown, is right: identity.odds)
    and ``distances`` (to the nearest enrolled face).  Unpacks as ``names, probabilities, distances``."""

    names: list
    probabilities: np.ndarray
    distances: np.ndarray

    @classmethod
    def empty(cls) -> "Identities":
        return cls([], np.zeros(0), np.zeros(0))

    @classmethod
    def nobody(cls, n: int) -> "Identities":
        """n faces, and no one enrolled to compare them with."""
        return cls([UNKNOWN] * n, np.ones(n), np.full(n, np.inf))  # with no one enrolled, Unknown is right


class Identifier(Protocol):
    """What a Recognizer needs of a gallery or classifier."""

    @property
    def model_spec(self) -> str: ...  # how to load the model its faces came from ('default' or a path)

    def identify(self, X) -> Identities: ...

    def check_model(self, embedder, source: str = ...) -> None: ...

    def acceptance_distance(self) -> float: ...  # beyond it a lone candidate is Unknown by default

    def use_threshold(self, threshold: float | None) -> None: ...  # the probability floor (None: default)


def check_threshold(threshold: float | None) -> None:
    """A probability floor is a chance: between 0 and 1 (None: the identifier's default)."""
    if threshold is not None and not 0 <= threshold <= 1:
        raise FacerecError(f"threshold {threshold} is not a probability between 0 and 1 (the chance a name is "
                           f"right under which a face is Unknown)")


def is_named(name) -> bool:
    """True for a person's name; False for UNKNOWN, a pending track, or no name."""
    return name not in (None, "", UNKNOWN, PENDING)


def check_name(name: str) -> None:
    """A person's name is a plain label: no path separators, no control characters, not UNKNOWN."""
    if not name or name in (".", "..") or any(c in name for c in "/\\") or any(ord(c) < 32 for c in name) \
            or name == UNKNOWN:
        raise FacerecError(f"'{name}' cannot be a person's name (empty, a path, '{UNKNOWN}' or control characters)")
