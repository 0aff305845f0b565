"""The classifier file: a NumPy archive read with allow_pickle=False, so opening one never runs code.

It holds the SVM's fitted arrays (restored into scikit-learn's SVC without pickle), the training
embeddings and labels, the Unknown rule, the model identity, and a few probabilities to check the
restored SVM against.
"""
from __future__ import annotations

import io
import json
import time
import zipfile
from pathlib import Path

import numpy as np

from .classifier import FaceClassifier, _quiet, _svc
from .errors import FacerecError

FORMAT = "facerec-classifier"
FORMAT_VERSION = 1


@_quiet
def write_classifier(clf: FaceClassifier, path) -> None:
    """Write a trained classifier atomically."""
    import sklearn

    from .files import atomic_write_bytes

    m = clf.model
    meta = {
        "format": FORMAT, "version": FORMAT_VERSION, "created": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "class_names": clf.class_names, "threshold": clf.threshold,
        "max_distance": None if np.isinf(clf.max_distance) else clf.max_distance,
        "embedder": clf.embedder_info, "seed": clf.seed, "calibration": clf.calibration,
        "sklearn": sklearn.__version__,
    }
    arrays = {
        "meta": np.frombuffer(json.dumps(meta).encode(), np.uint8),
        "train_embeddings": clf.train_embeddings, "train_labels": clf.train_labels,
        "svc_classes": m.classes_, "svc_support": m.support_, "svc_support_vectors": m.support_vectors_,
        "svc_n_support": m._n_support, "svc_dual_coef": m._dual_coef_, "svc_intercept": m._intercept_,
        "svc_probA": m.probA_, "svc_probB": m.probB_,
        # A few outputs to check a restored model against (a newer scikit-learn may differ).
        "probe": clf.predict_proba(clf.train_embeddings[:5]),
    }
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    atomic_write_bytes(path, buf.getvalue())


@_quiet
def read_classifier(path) -> FaceClassifier:
    """A FaceClassifier from a file; anything that is not one is refused with FacerecError."""
    path = Path(path)
    if not path.is_file():
        raise FacerecError(f"{path}: classifier file not found")
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
        meta = json.loads(bytes(arrays["meta"]).decode())
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile, UnicodeDecodeError) as exc:
        raise FacerecError(f"{path}: not a facerec classifier file (it is damaged, or was made by "
                           f"another tool; files are never unpickled)") from exc
    if meta.get("format") != FORMAT:
        raise FacerecError(f"{path}: not a facerec classifier file")
    if meta.get("version", 0) > FORMAT_VERSION:
        raise FacerecError(f"{path}: made by a newer facerec (format {meta['version']}); upgrade facerec")
    clf = FaceClassifier(seed=meta.get("seed", 666))
    clf.class_names = meta["class_names"]
    clf.threshold = float(meta["threshold"])
    clf.max_distance = float("inf") if meta.get("max_distance") is None else float(meta["max_distance"])
    clf.embedder_info = meta.get("embedder", {})
    clf.calibration = meta.get("calibration", {})
    clf.train_embeddings = arrays["train_embeddings"]
    clf.train_labels = arrays["train_labels"]
    clf.model = _restore_svc(arrays, clf)
    if not np.allclose(clf.predict_proba(clf.train_embeddings[:5]), arrays["probe"], atol=1e-6):
        # This scikit-learn rebuilt it differently: retrain from the stored embeddings.
        clf.model = _svc(clf.seed).fit(clf.train_embeddings, clf.train_labels)
    return clf


def _restore_svc(a: dict, clf: FaceClassifier):
    """scikit-learn's SVC from its fitted arrays (what pickle would have restored)."""
    m = _svc(clf.seed)
    try:
        m.classes_ = a["svc_classes"]
        m.support_ = a["svc_support"].astype(np.int32)
        m.support_vectors_ = a["svc_support_vectors"].astype(np.float64)
        m._n_support = a["svc_n_support"].astype(np.int32)
        m._dual_coef_ = a["svc_dual_coef"].astype(np.float64)
        m.dual_coef_ = m._dual_coef_
        m._intercept_ = a["svc_intercept"].astype(np.float64)
        m.intercept_ = -m._intercept_
        m._probA = a["svc_probA"].astype(np.float64)
        m._probB = a["svc_probB"].astype(np.float64)
        m._sparse = False
        m._gamma = 1.0  # unused by a linear kernel
        m.shape_fit_ = clf.train_embeddings.shape
        m.n_features_in_ = clf.train_embeddings.shape[1]
        m.fit_status_ = 0
        m.class_weight_ = np.ones(len(m.classes_))
        m.predict_proba(clf.train_embeddings[:1].astype(np.float64))
        return m
    except Exception:
        return _svc(clf.seed).fit(clf.train_embeddings, clf.train_labels)
