"""Training a classifier: folders of people -> embeddings (one face per photo, mirrored) -> SVM + Unknown rule."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import FacerecError


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
    masked: np.ndarray | None = None  # each row's face rendered masked, when asked for


def embed_people(pipeline, people, mirror: bool = True, cache: bool = True, batch_size: int = 64,
                 progress: bool = True, masked_renderings: bool = False) -> TrainingSet:
    """One embedding per photo (its subject's face), plus its mirror image's when mirror is set;
    with masked_renderings, each row's face rendered masked too (a mirror row shares its photo's).

    people: a list of (name, photo paths).  Mirroring: with one photo per person it lifts lfw-dev
    accuracy, and is neutral from two photos on (bench/mirror_augmentation.py).  pipeline: a
    FacePipeline, or an Embedder to build one with."""
    from ..pipeline import FaceChoice, FacePipeline

    pipeline = FacePipeline.of(pipeline)
    embedder = pipeline.embedder
    people = [(name, list(paths)) for name, paths in people if len(paths)]
    paths = [p for _, ps in people for p in ps]
    labels = [i for i, (_, ps) in enumerate(people) for _ in ps]
    # A model that averages each face with its mirror image already gives both one vector.
    mirror = mirror and not embedder.flip
    faces = pipeline.files(paths, mirrored=mirror, progress=progress, cache=cache, batch_size=batch_size,
                           masked_renderings=masked_renderings)
    X, y, groups, problems, masked = [], [], [], [], []
    for k, (ff, label) in enumerate(zip(faces, labels)):
        if ff.error:
            problems.append(f"{ff.path}: {ff.error}")
            continue
        picked = ff.choose(FaceChoice.SUBJECT)
        if not picked:
            problems.append(f"{ff.path}: no face found")
            continue
        j = picked[0]
        X.append(ff.embeddings[j]); y.append(label); groups.append(k)
        if mirror:
            X.append(ff.flipped[j]); y.append(label); groups.append(k)
        if masked_renderings:
            masked += [ff.masked_embeddings[j]] * (2 if mirror else 1)
    names = [n for n, _ in people]
    left_out = [names[i] for i in range(len(names)) if i not in set(y)]
    dim = embedder.dim
    return TrainingSet(np.asarray(X, np.float32).reshape(-1, dim), np.asarray(y, np.int64), names,
                       np.asarray(groups, np.int64), problems, left_out,
                       np.asarray(masked, np.float32).reshape(-1, dim) if masked_renderings else None)


def _check_threshold(threshold: float | None, false_accept: float = 0.01) -> None:
    from .protocol import check_threshold

    check_threshold(threshold)
    if not 0 < false_accept < 1:
        raise FacerecError(f"false-accept rate {false_accept} must be between 0 and 1")


def check_training_request(people, threshold: float | None, false_accept: float = 0.01) -> None:
    """Refuse what training would refuse anyway, before any photo is embedded."""
    _check_threshold(threshold, false_accept)
    with_photos = [name for name, paths in people if len(paths)]
    if len(with_photos) < 2:
        raise FacerecError(f"need photos of at least two people to train, found {len(with_photos)}"
                           + (f" ({with_photos[0]})" if with_photos else ""))


def train_classifier(data, labels=None, model="default", *, mirror: bool = True, threshold: float | None = None,
                     false_accept: float = 0.01, seed: int = 666, progress: bool = False, pipeline=None):
    """A trained FaceClassifier (FaceNet's SVM with an Unknown rule), ready to save or use.

    data is a folder with one sub-folder of photos per person, a list of (name, paths), a
    TrainingSet, or embeddings (N, D) with ``labels`` (N names) from ``model``.  Without
    ``threshold`` the rule is chosen as FaceClassifier says, the distance to the nearest training
    face capped by the model's impostor statistics for this many faces at ``false_accept``
    (facerec.identity.openset).  pipeline: the FacePipeline that embeds photos (a Recognizer's).

    >>> clf = train_classifier("people/")              # doctest: +SKIP
    >>> clf.save("people.npz")                         # doctest: +SKIP
    """
    from ..embedding import Embedder, load_embedder
    from .classifier import FaceClassifier, embedder_info
    from .openset import shipped

    _check_threshold(threshold, false_accept)
    embedder = model if isinstance(model, Embedder) else load_embedder(model)
    ts = _training_set(data, labels, embedder, pipeline, mirror, threshold, false_accept, progress)
    if not len(ts.embeddings):
        raise FacerecError("no face found in any training photo")
    clf = FaceClassifier(threshold=threshold, false_accept=false_accept, seed=seed,
                         distance_stats=shipped(embedder.name), same_person_distance=embedder.same_person_distance,
                         embedder_info=embedder_info(embedder))
    return clf.fit(ts.embeddings, np.asarray(ts.names)[ts.labels], ts.groups, masked=ts.masked)


def _training_set(data, labels, embedder, pipeline, mirror, threshold, false_accept, progress) -> TrainingSet:
    """train_classifier's data as a TrainingSet, embedding photos where it must."""
    if isinstance(data, TrainingSet):
        return data
    if labels is not None or isinstance(data, np.ndarray):
        if labels is None:
            raise FacerecError("embeddings need their labels: train_classifier(embeddings, labels)")
        X = np.asarray(data, np.float32)
        if X.ndim != 2 or len(X) != len(labels):
            raise FacerecError(f"embeddings {X.shape} and {len(labels)} labels do not match")
        if X.shape[1] != embedder.dim:
            raise FacerecError(f"{X.shape[1]}-d embeddings given for {embedder.name}, whose are {embedder.dim}-d")
        names = sorted(set(map(str, labels)))
        y = np.asarray([names.index(str(n)) for n in labels], np.int64)
        return TrainingSet(X, y, names, np.arange(len(y)))
    from ..people_folders import read_people

    people = read_people(data) if isinstance(data, (str, Path)) else data
    if any(isinstance(paths, (str, Path)) for _, paths in people):
        raise FacerecError("people are (name, list of photo paths) pairs; a single path was given as the list")
    check_training_request(people, threshold, false_accept)
    return embed_people(pipeline or embedder, people, mirror=mirror, progress=progress, masked_renderings=True)


def describe_unknown_rule(clf) -> str:
    """The lines that say how a classifier tells strangers apart: the numbers that decide."""
    cal = clf.calibration_
    if cal.get("method") == "probability":
        why = "given" if cal.get("given") else (f"the lowest that keeps strangers named to {cal['false_accept']:g} "
                                                f"for {cal['people']} people, {cal['faces']} photos")
        side = clf.masked_side()  # masked faces are named by the training faces rendered masked
        return (f"Unknown rule: a name is given when the chance it is right is at least {clf.threshold_:.3f} ({why})\n"
                f"Expected: strangers named {cal['expected_strangers']:.2%}" + (f"\n{side.masked_rule()}" if side else ""))
    if "known_accuracy" in cal:
        dist = "" if np.isinf(clf.max_distance_) else f", distance {clf.max_distance_:.3f}"
        return (f"Unknown threshold: SVM probability {clf.threshold_:.3f}{dist} (held-out people: "
                f"known {cal['known_accuracy']:.3f}, strangers rejected {cal['stranger_rejection']:.3f})")
    if not np.isinf(clf.max_distance_):
        return f"Unknown threshold: distance {clf.max_distance_:.3f}, {cal.get('method', '')}"
    if cal.get("method") == "given by --threshold":
        return f"Unknown threshold: SVM probability {clf.threshold_:.3f} (given)"
    return f"Unknown threshold: {cal.get('method', 'none')}"
