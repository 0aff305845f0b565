"""FaceClassifier: FaceNet's linear SVM on embeddings, plus an "Unknown" rule for strangers, as a
scikit-learn estimator (hyper-parameters in __init__, fit does all the fitting, learned state ends
in "_", so clone, cross_val_score and grid searches work).

A face is Unknown when the SVM's best probability is below ``threshold_`` or its embedding is
farther than ``max_distance_`` from every training embedding.  fit chooses them:
- ``threshold`` given: that probability floor;
- otherwise, from TIGHTEN_FROM_PEOPLE people on, by cross-validation that holds whole people out
  as strangers; with fewer, no floor;
- then the open-set gate: with the model's distance statistics (``distance_stats``), no face is
  named farther from every training face than the distance that keeps strangers to
  ``false_accept`` for this many people and photos (the search may tighten it, never loosen it);
  without them, the model's ``same_person_distance`` when nothing else set a rule.
Its file format is in classifier_file.py.
"""
from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin

from ..errors import FacerecError
from .holdout import nearest_distance, no_rule
from .svm import linear_svc, quiet_sklearn, restore_svc, svm_names
from .protocol import UNKNOWN, Identities

# The held-out-people search may tighten the rule from this many people: a few people held out as
# strangers say little about strangers at large (on galleries of 3 people x 3 photos it tightened
# the rule to 0.28 and named 88% of known faces right where the statistics' rule alone names 99%:
# bench/open_set.py --path svm).
TIGHTEN_FROM_PEOPLE = 20


class FaceClassifier(ClassifierMixin, BaseEstimator):
    """fit(X, names) / predict / predict_proba / identify / save / load.

    >>> clf = FaceClassifier().fit(embeddings, names)        # doctest: +SKIP
    >>> clf.predict(face_encodings(load_image("door.jpg")))   # doctest: +SKIP
    array(['Alice'], dtype='<U7')
    """

    def __init__(self, threshold: float | None = None, false_accept: float = 0.01, seed: int = 666, C: float = 10.0,
                 distance_stats=None, same_person_distance: float | None = None, embedder_info: dict | None = None):
        self.threshold = threshold
        self.false_accept = false_accept
        self.seed = seed
        self.C = C
        self.distance_stats = distance_stats
        self.same_person_distance = same_person_distance
        self.embedder_info = embedder_info

    # --- fitting ---------------------------------------------------------------------------

    @quiet_sklearn
    def fit(self, X, y, groups=None) -> "FaceClassifier":
        """Train on embeddings X (N, D) of people y (N names, taken as text); groups (N,): each
        row's photo, so a photo and its mirror image are never split apart when people are held out."""
        X, y = np.asarray(X, np.float32), np.asarray(y).astype(str)  # names: Unknown is one too
        if self.threshold is not None and not 0 <= self.threshold <= 1:
            raise FacerecError(f"threshold {self.threshold} is not a probability between 0 and 1")
        if len(np.unique(y)) < 2:
            raise FacerecError(f"need faces of at least two people to train, found {len(np.unique(y))}"
                               + (f" ({y[0]})" if len(y) else ""))
        self.classes_, labels = np.unique(y, return_inverse=True)
        self.svm_ = linear_svc(self.seed, self.C).fit(X, labels)
        self.train_embeddings_, self.train_labels_ = X, labels.astype(np.int64)
        groups = np.arange(len(y)) if groups is None else np.asarray(groups)
        self._choose_rule(X, labels, groups)
        return self

    def _choose_rule(self, X, labels, groups) -> None:
        """threshold_, max_distance_ and calibration_ (see the module's docstring)."""
        self.threshold_, self.max_distance_ = 0.0, float("inf")
        n_people = len(np.unique(labels))
        if self.threshold is not None:
            self.threshold_ = float(self.threshold)
            self.calibration_ = {"method": "given by --threshold", "reason": "--threshold given"}
        elif n_people < TIGHTEN_FROM_PEOPLE and self.distance_stats is not None:
            self.calibration_ = no_rule(f"fewer than {TIGHTEN_FROM_PEOPLE} people: too few to tighten the rule "
                                         "by holding people out")
        else:
            from .holdout import hold_people_out

            self.threshold_, self.max_distance_, self.calibration_ = hold_people_out(
                X, labels, groups, lambda: linear_svc(self.seed, self.C), self.seed)
        self._gate(n_people, len(np.unique(groups)))

    def _gate(self, n_people: int, n_faces: int) -> None:
        """The open-set rule on the SVM (see the module's docstring)."""
        from .openset import chances

        cal = self.calibration_
        if self.distance_stats is None:
            if "known_accuracy" not in cal and self.same_person_distance is not None:
                # No statistics and too few people to hold any out: the model's same-person distance.
                self.max_distance_ = float(self.same_person_distance)
                model = (self.embedder_info or {}).get("name", "the model")
                self.calibration_ = {"method": f"{model}'s same-person distance ({cal['reason']})"}
            return
        if cal.get("method") != "given by --threshold":
            # The distance decides; the search's probability floor only turned known faces away
            # (lfw-dev split 15/10: accuracy 0.978 with it, 0.983 without, strangers 0.990 / 0.985).
            self.threshold_ = 0.0
        m = chances(n_people, n_faces)
        stats = self.distance_stats
        limit = stats.acceptance_distance(m, self.false_accept)
        self.max_distance_ = min(self.max_distance_, limit)
        cal.update(false_accept=self.false_accept, people=n_people, faces=n_faces, rule_distance=limit,
                   expected_strangers=stats.strangers_accepted(self.max_distance_, m),
                   expected_known=stats.known_accepted(self.max_distance_))

    # --- prediction ------------------------------------------------------------------------

    def acceptance_distance(self) -> float:
        """The distance to the nearest training face beyond which a face is Unknown (inf: none)."""
        return self.max_distance_

    @property
    def class_names(self) -> list[str]:
        return [str(c) for c in self.classes_]

    def _checked(self, X) -> np.ndarray:
        if not hasattr(self, "svm_"):
            raise FacerecError("the classifier has not been trained")
        X = np.asarray(X, np.float32)
        if X.ndim != 2 or X.shape[1] != self.train_embeddings_.shape[1]:
            raise FacerecError(f"embeddings of width {X.shape[-1]} given to a classifier trained on "
                               f"{self.train_embeddings_.shape[1]}-d embeddings")
        return X

    @quiet_sklearn
    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities (N, n_classes) in the order of classes_."""
        X = self._checked(X)
        out = np.zeros((len(X), len(self.classes_)), np.float64)
        out[:, self.svm_.classes_] = self.svm_.predict_proba(X)
        return out

    def predict(self, X) -> np.ndarray:
        """Each face's name, or Unknown."""
        return np.asarray(self.identify(X).names, dtype=object)

    @quiet_sklearn
    def identify(self, X) -> Identities:
        """Each face's name or Unknown, the SVM's probability for the name it picked, and the
        distance to the nearest training face."""
        if len(X) == 0:
            return Identities.empty()
        X = self._checked(X)
        best, prob = svm_names(self.svm_, X)
        dist = nearest_distance(X, self.train_embeddings_)
        names = [UNKNOWN if (prob[i] < self.threshold_ or dist[i] > self.max_distance_) else str(self.classes_[best[i]])
                 for i in range(len(X))]
        return Identities(names, prob, dist)

    # --- the model it belongs to -------------------------------------------------------------

    @property
    def model_spec(self) -> str:
        """How to load the model this classifier was trained with ('default' or a path)."""
        return (self.embedder_info or {}).get("spec") or "default"

    def check_model(self, embedder, source="the classifier") -> None:
        """Refuse an embedder other than the one this classifier was trained with."""
        info = self.embedder_info or {}
        key = info.get("key")
        if key and key != embedder.key and self.model_spec == embedder.spec:
            raise FacerecError(f"{source} was trained with another version of model '{embedder.spec}' "
                               f"(its embeddings differ from this one's); train it again")
        if key and key != embedder.key:
            raise FacerecError(f"{source} was trained with model '{self.model_spec}' ({info.get('name')}); "
                               f"use it with that model, or train again with '{embedder.spec}'")

    # --- files -----------------------------------------------------------------------------

    def save(self, path) -> None:
        """Write atomically as a NumPy archive (no pickle anywhere); see classifier_file."""
        from .classifier_file import write_classifier

        if not hasattr(self, "svm_"):
            raise FacerecError("the classifier has not been trained")
        write_classifier(self, path)

    @classmethod
    def load(cls, path, log=None) -> "FaceClassifier":
        """Read a classifier file; anything that is not one is refused before it can run code.

        Should this scikit-learn restore the SVM differently from the one that wrote it, the SVM
        is retrained from the stored faces, and log (stderr by default) says so: never silently."""
        from .classifier_file import read_classifier

        meta, a = read_classifier(path)
        clf = cls(seed=meta.get("seed", 666), C=float(meta.get("C", 10.0)), embedder_info=meta.get("embedder", {}))
        clf.classes_ = np.asarray(meta["class_names"])
        clf.threshold_ = float(meta["threshold"])
        clf.max_distance_ = float("inf") if meta.get("max_distance") is None else float(meta["max_distance"])
        clf.calibration_ = meta.get("calibration", {})
        clf.train_embeddings_ = a["train_embeddings"].astype(np.float32)
        clf.train_labels_ = a["train_labels"].astype(np.int64)
        clf._restore_svm(a, path, meta.get("sklearn", "?"), log)
        return clf

    @quiet_sklearn
    def _restore_svm(self, a: dict, path, made_with: str, log) -> None:
        try:
            self.svm_ = restore_svc(a, self.seed, self.C, self.train_embeddings_.shape)
            same = np.allclose(self.predict_proba(self.train_embeddings_[:5]), a["probe"], atol=1e-6)
            why = "its SVM restores with different results here"
        except (ValueError, TypeError, AttributeError, IndexError) as exc:
            same, why = False, f"its SVM cannot be restored here ({type(exc).__name__})"
        if not same:
            import sys

            import sklearn

            log = log or (lambda msg: print(msg, file=sys.stderr))
            log(f"note: {path}: {why} (made with scikit-learn {made_with}, this is {sklearn.__version__}); "
                f"retraining the SVM from its {len(self.train_labels_)} stored faces")
            self.svm_ = linear_svc(self.seed, self.C).fit(self.train_embeddings_, self.train_labels_)


def embedder_info(embedder) -> dict:
    """What a classifier records of the model its training embeddings came from."""
    return {"name": embedder.name, "spec": embedder.spec, "key": embedder.key, "dim": embedder.dim,
            "input_size": list(embedder.input_size), "standardization": embedder.standardization}
