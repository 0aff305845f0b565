"""Training a classifier: folders of people -> embeddings (one face per photo, mirrored) -> SVM + Unknown rule."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .errors import FacerecError


@dataclass
class TrainingSet:
    """Embeddings (N, D) with labels (N,) indexing names; groups (N,) give each row's photo, so a
    photo and its mirror image are never split apart when people are held out."""

    embeddings: np.ndarray
    labels: np.ndarray
    names: list
    groups: np.ndarray
    problems: list = field(default_factory=list)   # "path: reason" for every photo left out
    left_out: list = field(default_factory=list)   # people with no usable face


def embed_people(embedder, people, mirror: bool = True, cache: bool = True, batch_size: int = 64,
                 progress: bool = True) -> TrainingSet:
    """One embedding per photo (its subject's face), plus its mirror image's when mirror is set.

    people: a list of (name, photo paths).  Mirroring: with one photo per person it lifts lfw-dev
    accuracy, and is neutral from two photos on (bench/mirror_augmentation.py)."""
    from .encoder import FaceEncoder

    encoder = FaceEncoder(embedder, cache=cache, batch_size=batch_size)
    people = [(name, list(paths)) for name, paths in people if len(paths)]
    paths = [p for _, ps in people for p in ps]
    labels = [i for i, (_, ps) in enumerate(people) for _ in ps]
    # A model that averages each face with its mirror image already gives both one vector.
    mirror = mirror and not embedder.flip
    faces = encoder.encode(paths, mirrored=mirror, progress=progress)
    X, y, groups, problems = [], [], [], []
    for k, (ff, label) in enumerate(zip(faces, labels)):
        if ff.error:
            problems.append(f"{ff.path}: {ff.error}")
            continue
        j = ff.subject()
        if j is None:
            problems.append(f"{ff.path}: no face found")
            continue
        X.append(ff.embeddings[j]); y.append(label); groups.append(k)
        if mirror:
            X.append(ff.flipped[j]); y.append(label); groups.append(k)
    names = [n for n, _ in people]
    left_out = [names[i] for i in range(len(names)) if i not in set(y)]
    dim = encoder.embedder.dim
    return TrainingSet(np.asarray(X, np.float32).reshape(-1, dim), np.asarray(y, np.int64), names,
                       np.asarray(groups, np.int64), problems, left_out)


def _check_threshold(threshold: float | None, false_accept: float = 0.01) -> None:
    if threshold is not None and not 0 <= threshold <= 1:
        raise FacerecError(f"threshold {threshold} is not a probability between 0 and 1")
    if not 0 < false_accept < 1:
        raise FacerecError(f"false-accept rate {false_accept} must be between 0 and 1")


def check_training_request(people, threshold: float | None, false_accept: float = 0.01) -> None:
    """Refuse what training would refuse anyway, before any photo is embedded."""
    _check_threshold(threshold, false_accept)
    with_photos = [name for name, paths in people if len(paths)]
    if len(with_photos) < 2:
        raise FacerecError(f"need photos of at least two people to train, found {len(with_photos)}"
                           + (f" ({with_photos[0]})" if with_photos else ""))


TIGHTEN_FROM_PEOPLE = 20  # the held-out-people search may tighten the rule from this many people


def train_classifier(data, labels=None, model="default", *, mirror: bool = True, threshold: float | None = None,
                     false_accept: float = 0.01, seed: int = 666, progress: bool = False):
    """A trained FaceClassifier (FaceNet's SVM with an Unknown rule), ready to save or use.

    data is a folder with one sub-folder of photos per person, a list of (name, paths), a
    TrainingSet, or embeddings (N, D) with ``labels`` (N names) from ``model``.  Without
    ``threshold`` the probability floor is chosen by holding people out (see FaceClassifier); the
    distance to the nearest training face is capped by the model's impostor statistics for this
    many faces at ``false_accept`` (facerec.openset).

    >>> clf = train_classifier("people/")              # doctest: +SKIP
    >>> clf.save("people.npz")                         # doctest: +SKIP
    """
    from .classifier import FaceClassifier
    from .embedding import Embedder, load_embedder

    _check_threshold(threshold, false_accept)
    embedder = model if isinstance(model, Embedder) else load_embedder(model)
    if isinstance(data, TrainingSet):
        ts = data
    elif labels is not None or isinstance(data, np.ndarray):
        if labels is None:
            raise FacerecError("embeddings need their labels: train_classifier(embeddings, labels)")
        X = np.asarray(data, np.float32)
        if X.ndim != 2 or len(X) != len(labels):
            raise FacerecError(f"embeddings {X.shape} and {len(labels)} labels do not match")
        if X.shape[1] != embedder.dim:
            raise FacerecError(f"{X.shape[1]}-d embeddings given for {embedder.name}, whose are {embedder.dim}-d")
        names = sorted(set(map(str, labels)))
        y = np.asarray([names.index(str(n)) for n in labels], np.int64)
        ts = TrainingSet(X, y, names, np.arange(len(y)))
    else:
        from .datasets import read_people

        people = read_people(data) if isinstance(data, (str, Path)) else data
        if any(isinstance(paths, (str, Path)) for _, paths in people):
            raise FacerecError("people are (name, list of photo paths) pairs; a single path was given as the list")
        check_training_request(people, threshold, false_accept)
        ts = embed_people(embedder, people, mirror=mirror, progress=progress)
    if not len(ts.embeddings):
        raise FacerecError("no face found in any training photo")
    clf = FaceClassifier(seed=seed).fit(ts.embeddings, ts.labels, ts.names)
    clf.set_embedder(embedder)
    if threshold is not None:
        clf.threshold = threshold
        clf.calibration = {"method": "given by --threshold"}
        _gate(clf, embedder, len(np.unique(ts.labels)), len(np.unique(ts.groups)), false_accept,
              {"reason": "--threshold given"})
        return clf
    n_people = len(np.unique(ts.labels))
    if n_people < TIGHTEN_FROM_PEOPLE and _stats(embedder) is not None:
        # A few people held out as strangers say little about strangers at large: on galleries
        # of 3 people x 3 photos the search tightened the rule to 0.28 and named 88% of known
        # faces right where the statistics' rule alone names 99% (bench/open_set.py --path svm).
        cal = clf._default_rule(f"fewer than {TIGHTEN_FROM_PEOPLE} people: too few to tighten the rule by holding "
                                "people out")
    else:
        cal = clf.choose_unknown_rule(ts.embeddings, ts.labels, ts.groups)
    _gate(clf, embedder, len(np.unique(ts.labels)), len(np.unique(ts.groups)), false_accept, cal)
    return clf


def _stats(embedder):
    from .openset import shipped

    return shipped(embedder.name)


def _gate(clf, embedder, n_people: int, n_faces: int, false_accept: float, cal: dict) -> None:
    """The open-set rule on the SVM: no face is named farther from every training face than the
    distance the model's impostor statistics allow for this many faces at the false-accept target.
    The held-out-people search may tighten it (on a large gallery), never loosen it.  Without
    statistics for the model, the search's rule stands."""
    from .openset import chances

    stats = _stats(embedder)
    if stats is None:
        if "known_accuracy" not in cal and embedder.same_person_distance is not None:
            # No statistics and too few people to hold any out: the model's same-person distance.
            clf.max_distance = float(embedder.same_person_distance)
            clf.calibration = {"method": f"{embedder.name}'s same-person distance ({cal['reason']})"}
        return
    if cal.get("method") != "given by --threshold":  # (--threshold, or threshold= in Python)
        # The distance decides; the search's probability floor only turned known faces away
        # (lfw-dev split 15/10: accuracy 0.978 with it, 0.983 without, strangers 0.990 / 0.985).
        clf.threshold = 0.0
    m = chances(n_people, n_faces)
    limit = stats.acceptance_distance(m, false_accept)
    clf.max_distance = min(clf.max_distance, limit)
    clf.calibration.update(false_accept=false_accept, people=n_people, faces=n_faces, rule_distance=limit,
                           expected_strangers=stats.strangers_accepted(clf.max_distance, m),
                           expected_known=stats.known_accepted(clf.max_distance))


def describe_unknown_rule(clf) -> str:
    """The lines that say how a classifier tells strangers apart: the numbers that decide."""
    cal = clf.calibration
    if "rule_distance" in cal:
        tighter = clf.max_distance < cal["rule_distance"]
        lines = [f"Unknown rule: distance {clf.max_distance:.4f} to the nearest training face "
                 f"({cal['false_accept']:g} false-accept target for {cal['people']} people, {cal['faces']} faces: "
                 f"{cal['rule_distance']:.4f}"
                 + (", tightened by holding people out" if tighter else "") + ")",
                 f"Expected: strangers named {cal['expected_strangers']:.2%}, single photos of a known person "
                 f"within the distance {cal['expected_known']:.2%}"]
        if clf.threshold > 0:
            lines.append(f"Probability floor {clf.threshold:.3f}"
                         + (" (given)" if cal.get("method") == "given by --threshold" else ""))
        return "\n".join(lines)
    if "known_accuracy" in cal:
        dist = "" if np.isinf(clf.max_distance) else f", distance {clf.max_distance:.3f}"
        return (f"Unknown threshold: probability {clf.threshold:.3f}{dist} (held-out people: "
                f"known {cal['known_accuracy']:.3f}, strangers rejected {cal['stranger_rejection']:.3f})")
    if not np.isinf(clf.max_distance):
        return f"Unknown threshold: distance {clf.max_distance:.3f}, {cal.get('method', '')}"
    if cal.get("method") == "given by --threshold":
        return f"Unknown threshold: probability {clf.threshold:.3f} (given)"
    return f"Unknown threshold: {cal.get('method', 'none')}"
