"""FaceClassifier: FaceNet's linear SVM on embeddings, plus an "Unknown" rule for strangers.

A face is Unknown when the SVM's best probability is below ``threshold`` or its embedding is
farther than ``max_distance`` from every training embedding.  When the user gives no
threshold, both are chosen on the training data itself by cross-validation that holds whole
people out as strangers.  Its file format is in classifier_file.py.
"""
from __future__ import annotations

import numpy as np

from .errors import FacerecError

UNKNOWN = "Unknown"


def _svc(seed: int):
    """FaceNet's classifier, SVC(kernel='linear', probability=True), with C=10 instead of 1.

    On unit-length embeddings C=1 regularises so hard that with one or two photos per person
    the intercepts outvote the faces (personal/test's Alex, 0.23 from his own training photo,
    came out as Obama); C=10 names him right and moves lfw-dev split accuracy by under 0.1 pt.
    """
    from sklearn.svm import SVC

    return SVC(kernel="linear", C=10.0, probability=True, random_state=seed)


def _quiet(fn):
    """scikit-learn 1.9 deprecates SVC(probability=True), which FaceNet's classifier is; the
    project pins scikit-learn below 1.11, where it still exists, so its warnings are noise here.
    So is "more classes than half the samples": one photo per person is a normal enrolment."""
    import functools
    import warnings

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            warnings.filterwarnings("ignore", message="The number of unique classes is greater than 50%")
            return fn(*args, **kwargs)

    return wrapper


def _nearest_distance(x: np.ndarray, gallery: np.ndarray) -> np.ndarray:
    if len(gallery) == 0:
        return np.full(len(x), np.inf)
    d2 = (x ** 2).sum(1)[:, None] + (gallery ** 2).sum(1)[None] - 2 * x @ gallery.T
    return np.sqrt(np.maximum(d2.min(axis=1), 0))


def _named(model, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(labels, probability of each label): the SVM's decision names the face, Platt scaling
    scores it.  FaceNet takes the arg-max of predict_proba instead, but with one or two photos
    per person libsvm's internal calibration is unreliable: on lfw-dev with 1-3 training photos
    per person its arg-max named almost no one right, while the decision function named 96-99%
    (bench/mirror_augmentation.py measures the decision function)."""
    labels = model.predict(X)
    p = model.predict_proba(X)
    col = np.searchsorted(model.classes_, labels)
    return labels, p[np.arange(len(X)), col]


class FaceClassifier:
    """fit / predict_proba / predict (names or Unknown) / save / load, scikit-learn style."""

    def __init__(self, seed: int = 666):
        self.seed = seed
        self.model = None
        self.class_names: list[str] = []
        self.threshold = 0.0
        self.max_distance = float("inf")
        self.embedder_info: dict = {}
        self.train_embeddings = np.zeros((0, 0), np.float32)
        self.train_labels = np.zeros((0,), np.int64)
        self.calibration: dict = {}

    # --- training --------------------------------------------------------------------------

    @_quiet
    def fit(self, X: np.ndarray, y: np.ndarray, class_names: list[str]) -> "FaceClassifier":
        """Train the SVM on embeddings X (N, D) with integer labels y indexing class_names."""
        X = np.asarray(X, np.float32)
        y = np.asarray(y, np.int64)
        present = np.unique(y)
        if len(present) < 2:
            raise FacerecError(f"need faces of at least two people to train, found {len(present)}"
                               + (f" ({class_names[present[0]]})" if len(present) == 1 else ""))
        self.class_names = list(class_names)
        self.model = _svc(self.seed).fit(X, y)
        self.train_embeddings, self.train_labels = X, y
        return self

    @_quiet
    def choose_unknown_rule(self, X, y, groups=None, max_folds: int = 10, repeats: int = 3) -> dict:
        """Pick threshold and max_distance by holding whole people out as strangers.

        Each fold trains on all people but a few, then scores held-out photos of the known
        people (must be named right and pass) and all photos of the held-out people (must be
        stopped). The rule maximising the mean of the two rates wins. groups: photo ids, so a
        photo and its mirror image never sit on both sides of a split.
        """
        X = np.asarray(X, np.float32)
        y = np.asarray(y, np.int64)
        groups = np.arange(len(y)) if groups is None else np.asarray(groups)
        classes = np.unique(y)
        rng = np.random.default_rng(self.seed)
        if len(classes) < 3:
            return self._default_rule("fewer than three people: no one can be held out as a stranger")
        n_folds = min(max_folds, len(classes))
        known_p, known_ok, known_d, strange_p, strange_d = [], [], [], [], []
        # Several shuffles of who is held out: one shuffle leaves the chosen rule at the mercy
        # of which few people happened to play the strangers.
        for _ in range(repeats):
            order = rng.permutation(classes)
            for f in range(n_folds):
                strangers = order[f::n_folds]
                if len(classes) - len(strangers) < 2:
                    continue
                is_stranger = np.isin(y, strangers)
                # Hold out about a quarter of each known person's photos (whole photos, by group).
                val = np.zeros(len(y), bool)
                for c in classes:
                    if c in strangers:
                        continue
                    g = np.unique(groups[y == c])
                    if len(g) < 2:
                        continue
                    pick = rng.choice(g, size=max(1, len(g) // 4), replace=False)
                    val |= np.isin(groups, pick) & (y == c)
                train = ~is_stranger & ~val
                if len(np.unique(y[train])) < 2:
                    continue
                model = _svc(self.seed).fit(X[train], y[train])
                gallery = X[train]
                if val.any():
                    pred, prob = _named(model, X[val])
                    known_p.append(prob)
                    known_ok.append(pred == y[val])
                    known_d.append(_nearest_distance(X[val], gallery))
                strange_p.append(_named(model, X[is_stranger])[1])
                strange_d.append(_nearest_distance(X[is_stranger], gallery))
        if not known_p or not strange_p:
            return self._default_rule("not enough photos per person to hold any out")
        kp, ko, kd = np.concatenate(known_p), np.concatenate(known_ok), np.concatenate(known_d)
        sp, sd = np.concatenate(strange_p), np.concatenate(strange_d)
        best = None
        p_grid = np.unique(np.concatenate([[0.0], np.quantile(np.concatenate([kp, sp]), np.linspace(0, 1, 101))]))
        d_grid = np.unique(np.concatenate([[np.inf], np.quantile(np.concatenate([kd, sd]), np.linspace(0, 1, 101))]))
        for t in p_grid:
            for d in d_grid:
                known_rate = np.mean(ko & (kp >= t) & (kd <= d))
                reject_rate = np.mean((sp < t) | (sd > d))
                score = (known_rate + reject_rate) / 2
                if best is None or score > best[0] + 1e-9:
                    best = (score, float(t), float(d), float(known_rate), float(reject_rate))
        _, self.threshold, self.max_distance, known_rate, reject_rate = best
        self.calibration = {"method": "people held out as strangers", "folds": n_folds, "repeats": repeats,
                            "known_photos": int(len(kp)), "stranger_photos": int(len(sp)),
                            "known_accuracy": known_rate, "stranger_rejection": reject_rate}
        return self.calibration

    def _default_rule(self, why: str) -> dict:
        self.threshold, self.max_distance = 0.0, float("inf")
        self.calibration = {"method": f"none ({why}); every face gets its closest name", "reason": why}
        return self.calibration

    # --- prediction ------------------------------------------------------------------------

    @_quiet
    def _checked(self, X) -> np.ndarray:
        self._check_fitted()
        X = np.asarray(X, np.float32)
        if X.ndim != 2 or X.shape[1] != self.train_embeddings.shape[1]:
            raise FacerecError(f"embeddings of width {X.shape[-1]} given to a classifier trained on "
                               f"{self.train_embeddings.shape[1]}-d embeddings")
        return X

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Class probabilities (N, n_classes) in the order of class_names."""
        X = self._checked(X)
        p = self.model.predict_proba(X)
        out = np.zeros((len(X), len(self.class_names)), np.float64)
        out[:, self.model.classes_] = p
        return out

    def predict(self, X: np.ndarray) -> tuple[list[str], np.ndarray]:
        """(names, probabilities): each face's name, or Unknown, and that name's probability."""
        names, prob, _ = self.identify(X)
        return names, prob

    @_quiet
    def identify(self, X: np.ndarray) -> tuple[list[str], np.ndarray, np.ndarray]:
        """(names, probabilities, distances): each face's name or Unknown, the SVM's probability
        for the name it picked, and the distance to the nearest training face."""
        if len(X) == 0:
            return [], np.zeros((0,)), np.zeros((0,))
        X = self._checked(X)
        best, prob = _named(self.model, X)
        dist = _nearest_distance(X, self.train_embeddings)
        names = [UNKNOWN if (prob[i] < self.threshold or dist[i] > self.max_distance) else self.class_names[best[i]]
                 for i in range(len(X))]
        return names, prob, dist

    # --- the model it belongs to -------------------------------------------------------------

    def set_embedder(self, embedder) -> None:
        """Record the model the training embeddings came from (what check_model compares with)."""
        self.embedder_info = {"name": embedder.name, "spec": embedder.spec, "key": embedder.key,
                              "dim": embedder.dim, "input_size": list(embedder.input_size),
                              "standardization": embedder.standardization}

    @property
    def model_spec(self) -> str:
        """How to load the model this classifier was trained with ('default' or a path)."""
        return self.embedder_info.get("spec") or "default"

    def check_model(self, embedder, source="the classifier") -> None:
        """Refuse an embedder other than the one this classifier was trained with."""
        key = self.embedder_info.get("key")
        if key and key != embedder.key and self.model_spec == embedder.spec:
            raise FacerecError(f"{source} was trained with another version of model '{embedder.spec}' "
                               f"(its embeddings differ from this one's); train it again")
        if key and key != embedder.key:
            raise FacerecError(f"{source} was trained with model '{self.model_spec}' ({self.embedder_info.get('name')}); "
                               f"use it with that model, or train again with '{embedder.spec}'")

    def _check_fitted(self):
        if self.model is None:
            raise FacerecError("the classifier has not been trained")

    # --- files -----------------------------------------------------------------------------

    def save(self, path) -> None:
        """Write atomically as a NumPy archive (no pickle anywhere); see classifier_file."""
        from .classifier_file import write_classifier

        self._check_fitted()
        write_classifier(self, path)

    @classmethod
    def load(cls, path) -> "FaceClassifier":
        """Read a classifier file; anything that is not one is refused before it can run code."""
        from .classifier_file import read_classifier

        return read_classifier(path)
