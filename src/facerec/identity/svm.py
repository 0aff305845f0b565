"""FaceNet's SVM as facerec uses it: made, quietened, read for a name, and written to and restored
from plain arrays (scikit-learn's fitted attributes, so no pickle is ever needed)."""
from __future__ import annotations

import functools
import warnings

import numpy as np


def linear_svc(seed: int, C: float = 10.0):
    """FaceNet's classifier, SVC(kernel='linear', probability=True), with C=10 instead of 1.

    On unit-length embeddings C=1 regularises so hard that with one or two photos per person
    the intercepts outvote the faces (personal/test's Alex, 0.23 from his own training photo,
    came out as Obama); C=10 names him right and moves lfw-dev split accuracy by under 0.1 pt.
    """
    from sklearn.svm import SVC

    return SVC(kernel="linear", C=C, probability=True, random_state=seed)


def quiet_sklearn(fn):
    """scikit-learn 1.9 deprecates SVC(probability=True), which FaceNet's classifier is; the
    project pins scikit-learn below 1.11, where it still exists, so its warnings are noise here.
    So is "more classes than half the samples": one photo per person is a normal enrolment."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            warnings.filterwarnings("ignore", message="The number of unique classes is greater than 50%")
            return fn(*args, **kwargs)

    return wrapper


def svm_names(svm, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(class indices, probability of each): the SVM's decision names the face, Platt scaling
    scores it.  FaceNet takes the arg-max of predict_proba instead, but with one or two photos
    per person libsvm's internal calibration is unreliable: on lfw-dev with 1-3 training photos
    per person its arg-max named almost no one right, while the decision function named 96-99%
    (bench/mirror_augmentation.py measures the decision function)."""
    labels = svm.predict(X)
    p = svm.predict_proba(X)
    col = np.searchsorted(svm.classes_, labels)
    return labels, p[np.arange(len(X)), col]


def svm_arrays(m) -> dict:
    """The fitted arrays of a linear SVC: what restore_svc needs to rebuild it."""
    return {"svc_classes": m.classes_, "svc_support": m.support_, "svc_support_vectors": m.support_vectors_,
            "svc_n_support": m._n_support, "svc_dual_coef": m._dual_coef_, "svc_intercept": m._intercept_,
            "svc_probA": m.probA_, "svc_probB": m.probB_}


def restore_svc(a: dict, seed: int, C: float, shape):
    """scikit-learn's SVC from its fitted arrays (what pickle would have restored)."""
    m = linear_svc(seed, C)
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
    m.shape_fit_ = tuple(shape)
    m.n_features_in_ = shape[1]
    m.fit_status_ = 0
    m.class_weight_ = np.ones(len(m.classes_))
    return m
