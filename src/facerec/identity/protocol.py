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

    @classmethod
    def merged(cls, first: np.ndarray, these: "Identities", others: "Identities") -> "Identities":
        """One answer from two: these for the faces where first (N,) is true, others for the rest."""
        order = np.r_[np.flatnonzero(first), np.flatnonzero(~first)]
        names = [None] * len(order)
        for i, name in zip(order, list(these.names) + list(others.names)):
            names[i] = name
        place = np.empty(len(order), int)
        place[order] = np.arange(len(order))
        return cls(names, np.r_[these.probabilities, others.probabilities][place],
                   np.r_[these.distances, others.distances][place])


class Identifier(Protocol):
    """What a Recognizer needs of a gallery or classifier."""

    @property
    def model_spec(self) -> str: ...  # how to load the model its faces came from ('default' or a path)

    def identify(self, X, masked=None, soft=None) -> Identities: ...  # (N,): seen masked (bools or chances), soft

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


MAX_NAME_LENGTH = 100
JOINERS = "\u200c\u200d"  # zero-width (non-)joiners: part of Persian and Indic spellings, and of emoji


def person_name(name) -> str:
    """The one form a person's name takes everywhere (command line, files, service): Unicode's
    composed form (NFC, so "José" typed either way is one name) without surrounding spaces.
    Refused with one line when it is empty or over MAX_NAME_LENGTH characters, a path, Unknown in
    any case, or holds control, invisible (zero-width, bidi) or unpaired surrogate characters."""
    import unicodedata

    if not isinstance(name, str):
        raise FacerecError(f"a person's name is text, not {type(name).__name__}")
    shown = name[:MAX_NAME_LENGTH].encode("utf-8", "backslashreplace").decode("utf-8")
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        raise FacerecError(f"'{shown}' cannot be a person's name (it holds an unpaired surrogate)") from None
    name = unicodedata.normalize("NFC", name).strip()
    why = ("it is empty" if not name else
           f"it is over {MAX_NAME_LENGTH} characters" if len(name) > MAX_NAME_LENGTH else
           "it is a path" if name in (".", "..") or any(c in name for c in "/\\") else
           f"'{UNKNOWN}' is what strangers are called" if name.casefold() == UNKNOWN.casefold() else
           "it holds control or invisible characters"
           if any(unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") and c not in JOINERS for c in name) else None)
    if why:
        raise FacerecError(f"'{shown}' cannot be a person's name ({why})")
    return name


def name_key(name: str) -> str:
    """Names that differ only in case or Unicode form have one key: a gallery holds one of them."""
    import unicodedata

    return unicodedata.normalize("NFC", name).casefold()


def check_name(name: str) -> None:
    """Refuse a name that is not already in the one form person_name gives."""
    if person_name(name) != name:
        raise FacerecError(f"'{name}' is not written as a person's name is kept (spaces around it, or not NFC)")
