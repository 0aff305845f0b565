"""The classifier file: a NumPy archive read with allow_pickle=False, so opening one never runs code.

It holds the SVM's fitted arrays (restored into scikit-learn's SVC without pickle), the training
embeddings and labels, the Unknown rule, the model identity, and a few probabilities to check the
restored SVM against.  FaceClassifier.save and .load call these.
"""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from ..errors import FacerecError
from .svm import quiet_sklearn, svm_arrays

FORMAT = "facerec-classifier"
FORMAT_VERSION = 3  # 2: threshold is a floor on the chance a name is right; photos per person; 3: masked renderings


@quiet_sklearn
def write_classifier(clf, path) -> None:
    """Write a trained FaceClassifier atomically."""
    import sklearn

    from ..files import atomic_write_bytes
    from ..npz_file import write_arrays

    meta = {
        "format": FORMAT, "version": FORMAT_VERSION, "created": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "class_names": clf.class_names, "threshold": clf.threshold_,
        "max_distance": None if np.isinf(clf.max_distance_) else clf.max_distance_,
        "photos": [int(n) for n in clf.photos_],
        "embedder": clf.embedder_info or {}, "seed": clf.seed, "C": clf.C, "calibration": clf.calibration_,
        "sklearn": sklearn.__version__,
    }
    arrays = {
        "meta": meta, "train_embeddings": clf.train_embeddings_, "train_labels": clf.train_labels_,
        "train_masked": clf.train_masked_,
        **svm_arrays(clf.svm_),
        # A few outputs to check a restored model against (a newer scikit-learn may differ).
        "probe": clf.predict_proba(clf.train_embeddings_[:5]),
    }
    atomic_write_bytes(path, write_arrays(arrays))


ARRAYS = ("train_embeddings", "train_labels", "svc_classes", "svc_support", "svc_support_vectors",
          "svc_n_support", "svc_dual_coef", "svc_intercept", "svc_probA", "svc_probB", "probe")


def looks_like_classifier(head: bytes) -> bool:
    """Whether a file's first bytes are a classifier's: facerec's (a zip whose first member, the
    metadata, names the format; a gallery or a document is a zip too) or FaceNet's pickle, which
    TRAIN replaces as FaceNet's did."""
    return (head.startswith(b"PK\x03\x04") and f'"format": "{FORMAT}"'.encode() in head) or head[:1] == b"\x80"


def read_classifier(path) -> tuple[dict, dict]:
    """(meta, arrays) of a classifier file, every array checked for shape, type and range before
    use; anything that is not a classifier file is refused with FacerecError."""
    from ..npz_file import read_arrays

    path = Path(path)
    meta, a = read_arrays(path, "classifier", ARRAYS, optional=["train_masked"], newest=FORMAT_VERSION)
    if meta.get("format") != FORMAT:
        raise FacerecError(f"{path}: not a facerec classifier file")
    if not isinstance(meta.get("version"), int) or meta["version"] > FORMAT_VERSION:
        raise FacerecError(f"{path}: made by a newer facerec (format {meta.get('version')}); upgrade facerec")
    _check(path, meta, a)
    return meta, a


def _check(path, meta: dict, a: dict) -> None:
    """Refuse any array or field a trained classifier could not have written."""
    from ..embedding.vectors import rendered_rows
    from ..npz_file import check, finite_number, is_float, is_int, unit_rows

    def ok(condition, what):
        check(condition, path, "classifier", what)

    names = meta.get("class_names")
    ok(isinstance(names, list) and len(names) >= 2 and all(isinstance(n, str) and n for n in names)
       and len(set(names)) == len(names), "class names")
    ok(finite_number(meta.get("threshold"), 0, 1), "threshold")
    photos = meta.get("photos")
    ok(photos is None or (isinstance(photos, list) and len(photos) == len(names)
                          and all(isinstance(n, int) and n >= 1 for n in photos)), "photos per person")
    ok(meta.get("max_distance") is None or finite_number(meta["max_distance"], 0, 2), "max_distance")
    ok(isinstance(meta.get("embedder", {}), dict) and isinstance(meta.get("calibration", {}), dict), "model fields")
    ok(isinstance(meta.get("seed", 666), int) and 0 <= meta.get("seed", 666) < 2**32, "seed")
    ok(finite_number(meta.get("C", 10.0), 0, 1e9) and meta.get("C", 10.0) > 0, "C")
    e, labels = a["train_embeddings"], a["train_labels"]
    ok(is_float(e) and e.ndim == 2 and len(e) >= 2 and 0 < e.shape[1] <= 4096 and np.isfinite(e).all()
       and unit_rows(e),
       "training embeddings")
    m = a.get("train_masked", np.zeros_like(e))
    rendered = rendered_rows(m) if is_float(m) and m.shape == e.shape else None
    ok(rendered is not None and np.isfinite(m).all() and unit_rows(m[rendered]), "masked renderings")
    dim = meta.get("embedder", {}).get("dim")
    ok(dim is None or dim == e.shape[1], "embedding width")
    ok(is_int(labels) and labels.shape == (len(e),) and labels.min() >= 0 and labels.max() < len(names),
       "training labels")
    classes = a["svc_classes"]
    ok(classes.ndim == 1, "SVM classes")
    k = len(classes)
    ok(is_int(classes) and k >= 2 and np.array_equal(classes, np.unique(labels)),
       "SVM classes")
    sv, support, n_support = a["svc_support_vectors"], a["svc_support"], a["svc_n_support"]
    ok(sv.ndim == 2, "support vectors")
    ok(is_float(sv) and sv.ndim == 2 and sv.shape[1] == e.shape[1] and np.isfinite(sv).all(), "support vectors")
    ok(is_int(support) and support.shape == (len(sv),) and (len(sv) == 0 or
       (support.min() >= 0 and support.max() < len(e))), "support indices")
    ok(is_int(n_support) and n_support.shape == (k,) and n_support.min() >= 0 and n_support.sum() == len(sv),
       "support counts")
    pairs = k * (k - 1) // 2
    for name, shape in (("svc_dual_coef", (k - 1, len(sv))), ("svc_intercept", (pairs,)),
                        ("svc_probA", (pairs,)), ("svc_probB", (pairs,)),
                        ("probe", (min(5, len(e)), len(names)))):
        ok(is_float(a[name]) and a[name].shape == shape and np.isfinite(a[name]).all(), name)
