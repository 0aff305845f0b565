"""FaceClassifier: FaceNet's linear SVM on embeddings, plus an "Unknown" rule for strangers, as a
scikit-learn estimator (hyper-parameters in __init__, fit does all the fitting, learned state ends
in "_", so clone, cross_val_score and grid searches work).

The SVM picks a person; ``probability`` is the chance the answer is right, worked out as a gallery's
is (identity.odds) from the distances to each person's nearest training photo and the model's
distance statistics (``distance_stats``).  A face is Unknown when the chance the SVM's person is
right is under ``threshold_``: ``threshold`` when given, else the lowest floor that keeps strangers
named to ``false_accept`` for this many people and photos.  The SVM's own (Platt) probability stays
in ``predict_proba``.

A model without distance statistics has no such chance: its probability is the SVM's, and the rule
is FaceNet's (``threshold`` a floor on it; else a floor and a distance chosen by holding people
out as strangers; with too few photos for that, the model's ``same_person_distance``).
Its file format is in classifier_file.py.
"""
from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin

from ..errors import FacerecError
from .holdout import nearest_distance
from .svm import linear_svc, quiet_sklearn, restore_svc, svm_names
from .gallery import masked_flags
from .mask_state import seen_masked
from .protocol import UNKNOWN, Identities, check_threshold


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
    def fit(self, X, y, groups=None, masked=None) -> "FaceClassifier":
        """Train on embeddings X (N, D) of people y (N names, taken as text); groups (N,): each
        row's photo, so a photo and its mirror image are never split apart when people are held out;
        masked (N, D): each row's face rendered masked, for naming masked faces (None: compared bare)."""
        X, y = np.asarray(X, np.float32), np.asarray(y).astype(str)  # names: Unknown is one too
        check_threshold(self.threshold)
        self.floor_given_, self.masked_side_, self.soft_floor_ = self.threshold, None, None
        if len(np.unique(y)) < 2:
            raise FacerecError(f"need faces of at least two people to train, found {len(np.unique(y))}"
                               + (f" ({y[0]})" if len(y) else ""))
        self.classes_, labels = np.unique(y, return_inverse=True)
        self.svm_ = linear_svc(self.seed, self.C).fit(X, labels)
        self.train_embeddings_, self.train_labels_ = X, labels.astype(np.int64)
        self.train_masked_ = np.zeros_like(X) if masked is None else np.asarray(masked, np.float32).reshape(X.shape)
        groups = np.arange(len(y)) if groups is None else np.asarray(groups)
        self._choose_rule(X, labels, groups)
        return self

    def _choose_rule(self, X, labels, groups) -> None:
        """threshold_, max_distance_, photos_ and calibration_ (see the module's docstring)."""
        n_people = len(np.unique(labels))
        # A photo and its mirror image share a group: a person's photos are their groups.
        self.photos_ = np.array([len(np.unique(groups[labels == k])) for k in range(n_people)])
        self.threshold_, self.max_distance_ = 0.0, float("inf")
        if self.distance_stats is not None:
            odds = self._odds()
            given = self.threshold is not None
            self.threshold_ = float(self.threshold) if given else odds.floor_for(self.photos_, self.false_accept)
            self.calibration_ = {"method": "probability", "given": given, "false_accept": self.false_accept,
                                 "people": n_people, "faces": int(self.photos_.sum()),
                                 "expected_strangers": odds.strangers_named(self.threshold_, self.photos_)}
        elif self.threshold is not None:
            self.threshold_ = float(self.threshold)
            self.calibration_ = {"method": "given by --threshold", "reason": "--threshold given"}
        else:
            from .holdout import hold_people_out

            self.threshold_, self.max_distance_, self.calibration_ = hold_people_out(
                X, labels, groups, lambda: linear_svc(self.seed, self.C), self.seed)
            if "known_accuracy" not in self.calibration_ and self.same_person_distance is not None:
                # Too few photos to hold any people out: the model's same-person distance.
                self.max_distance_ = float(self.same_person_distance)
                model = (self.embedder_info or {}).get("name", "the model")
                self.calibration_ = {"method": f"{model}'s same-person distance "
                                               f"({self.calibration_.get('reason', 'no rule')})"}

    def _odds(self):
        from .odds import AnswerOdds

        if getattr(self, "odds_", None) is None or self.odds_.stats is not self.distance_stats:
            self.odds_ = AnswerOdds(self.distance_stats)
        return self.odds_

    # --- prediction ------------------------------------------------------------------------

    def acceptance_distance(self) -> float:
        """The distance to the nearest training face beyond which a face is Unknown (inf: none)."""
        return self.max_distance_

    def use_threshold(self, threshold: float | None) -> None:
        """Name a face only when the chance the name is right is at least threshold (None: as trained)."""
        check_threshold(threshold)
        if threshold is not None:
            self.threshold_ = self.floor_given_ = float(threshold)

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

    def masked_side(self):
        """What names masked faces: a gallery of the training faces rendered masked, each person
        under their class number, with the model's masked statistics and this classifier's floor
        rule; False when masked faces are compared bare (no renderings or no masked statistics)."""
        if getattr(self, "masked_side_", None) is None:
            from ..embedding.vectors import rendered_rows
            from .gallery import Gallery

            have = rendered_rows(self.train_masked_)
            self.masked_side_ = False
            if self.distance_stats is None or not have.all():
                return False
            g = Gallery(self.embedder_info or {"name": self.distance_stats.model}, self.train_masked_.shape[1],
                        self.false_accept)
            # One row per photo: a mirror image's row holds its photo's rendering again.
            first = np.sort(np.unique(self.train_masked_, axis=0, return_index=True)[1])
            g.add_many([str(k) for k in self.train_labels_[first]], self.train_masked_[first],
                       [f"training face {i}" for i in first], self.train_masked_[first])
            side = g.masked_side()
            self.masked_side_ = side is not g and side
        if self.masked_side_:
            self.masked_side_.use_threshold(getattr(self, "floor_given_", None))
        return self.masked_side_

    @quiet_sklearn
    def identify(self, X, masked=None, soft=None) -> Identities:
        """Each face's name (the SVM's person) or Unknown, the chance that answer is right (the
        SVM's probability for a model without distance statistics), and the distance to the
        nearest training face.  masked (N,) bool: faces seen masked, named by the nearest
        training faces rendered masked (masked_side()), the SVM having seen none; soft (N,) bool:
        faces too blurred to enrol, their chances weighed with the model's soft-face
        statistics and held to the floor those give, and under the default floor to the sharp one
        too (as Gallery.soft_side)."""
        if len(X) == 0:
            return Identities.empty()
        X = self._checked(X)
        masked, soft = seen_masked(masked, len(X)), masked_flags(soft, len(X), "soft")
        side = self.masked_side() if masked.any() else False
        if side:
            names, probs, dists = side.identify(X[masked])
            names = [n if n == UNKNOWN else str(self.classes_[int(n)]) for n in names]  # class numbers back
            return Identities.merged(masked, Identities(names, probs, dists),
                                     self.identify(X[~masked], soft=soft[~masked]))
        best, prob = svm_names(self.svm_, X)
        if self.distance_stats is None:
            dist = nearest_distance(X, self.train_embeddings_)
            named = (prob >= self.threshold_) & (dist <= self.max_distance_)
        else:
            chance, p_stranger, dist = self._chances(X, best, self._odds())
            named = chance >= self.threshold_
            soft_odds = self._soft_odds() if soft.any() else None
            if soft_odds is not None:
                chance[soft], p_stranger[soft], _ = self._chances(X[soft], best[soft], soft_odds)
                # Under the default floor a soft face is never named where a sharp one would not
                # be (Gallery.soft_side); a floor the user gave is the chance alone.
                guard = named[soft] if getattr(self, "floor_given_", None) is None else True
                named[soft] = guard & (chance[soft] >= self._soft_floor(soft_odds))
            prob = np.where(named, chance, p_stranger)
        names = [str(self.classes_[b]) if ok else UNKNOWN for b, ok in zip(best, named)]
        return Identities(names, prob, dist)

    def _chances(self, X, best, odds) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """For faces X and the SVM's people best: the chance each is that person, the chance each
        is a stranger, and the distance to the nearest training face."""
        from .odds import people_similarity

        sims = people_similarity(X @ self.train_embeddings_.T, self.train_labels_, len(self.classes_))
        dists = np.sqrt(np.maximum(2 - 2 * sims, 0))
        p_people, p_stranger = odds.chances(dists, np.broadcast_to(self.photos_, dists.shape), len(self.classes_))
        return p_people[np.arange(len(X)), best], p_stranger, dists.min(axis=1)

    def _soft_odds(self):
        """AnswerOdds under the model's soft-face statistics (None: the model has none)."""
        from .odds import shipped_odds

        return shipped_odds(f"{(self.embedder_info or {}).get('name') or self.distance_stats.model}-soft")

    def _soft_floor(self, odds) -> float:
        """The floor for soft faces: the one given, else the default rule under their statistics."""
        given = getattr(self, "floor_given_", None)
        if given is not None:
            return float(given)
        if getattr(self, "soft_floor_", None) is None:
            self.soft_floor_ = odds.floor_for(self.photos_, self.false_accept)
        return self.soft_floor_

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

        from .openset import shipped

        meta, a = read_classifier(path)
        info = meta.get("embedder", {})
        clf = cls(seed=meta.get("seed", 666), C=float(meta.get("C", 10.0)), embedder_info=info,
                  distance_stats=shipped(info.get("name", "")))
        clf.classes_ = np.asarray(meta["class_names"])
        clf.threshold_ = float(meta["threshold"])
        clf.max_distance_ = float("inf") if meta.get("max_distance") is None else float(meta["max_distance"])
        clf.calibration_ = meta.get("calibration", {})
        clf.train_embeddings_ = a["train_embeddings"].astype(np.float32)
        clf.train_labels_ = a["train_labels"].astype(np.int64)
        clf.photos_ = np.asarray(meta.get("photos") or np.bincount(clf.train_labels_), np.int64)
        clf.train_masked_ = a.get("train_masked", np.zeros_like(clf.train_embeddings_)).astype(np.float32)
        clf.floor_given_ = clf.threshold_ if clf.calibration_.get("given") else None
        clf.masked_side_ = clf.soft_floor_ = None
        if meta["version"] < 2 and clf.distance_stats is not None:
            clf._adopt_probability_rule(path, log)
        clf._restore_svm(a, path, meta.get("sklearn", "?"), log)
        return clf

    def _adopt_probability_rule(self, path, log) -> None:
        """A file from before probabilities were calibrated: its floor was on the SVM's own
        probability, so the default floor for its people and photos takes its place."""
        cal = self.calibration_
        self.false_accept = float(cal.get("false_accept", 0.01))
        if cal.get("faces"):  # it stored mirror images as rows of their own
            self.photos_ = np.maximum(1, np.round(self.photos_ * cal["faces"] / self.photos_.sum())).astype(np.int64)
        self.threshold_, self.max_distance_ = self._odds().floor_for(self.photos_, self.false_accept), float("inf")
        if cal.get("method") == "given by --threshold":
            _log(log)(f"note: {path}: its --threshold was a floor on the SVM's own probability; the default "
                      f"rule applies now (train again to give one on the chance a name is right)")
        self.calibration_ = {"method": "probability", "given": False, "false_accept": self.false_accept,
                             "people": len(self.classes_), "faces": int(self.photos_.sum()),
                             "expected_strangers": self._odds().strangers_named(self.threshold_, self.photos_)}

    @quiet_sklearn
    def _restore_svm(self, a: dict, path, made_with: str, log) -> None:
        try:
            self.svm_ = restore_svc(a, self.seed, self.C, self.train_embeddings_.shape)
            same = np.allclose(self.predict_proba(self.train_embeddings_[:5]), a["probe"], atol=1e-6)
            why = "its SVM restores with different results here"
        except (ValueError, TypeError, AttributeError, IndexError) as exc:
            same, why = False, f"its SVM cannot be restored here ({type(exc).__name__})"
        if not same:
            import sklearn

            _log(log)(f"note: {path}: {why} (made with scikit-learn {made_with}, this is {sklearn.__version__}); "
                f"retraining the SVM from its {len(self.train_labels_)} stored faces")
            self.svm_ = linear_svc(self.seed, self.C).fit(self.train_embeddings_, self.train_labels_)


def _log(log):
    """log, or a line on stderr."""
    import sys

    return log or (lambda msg: print(msg, file=sys.stderr))


def embedder_info(embedder) -> dict:
    """What a classifier records of the model its training embeddings came from."""
    return {"name": embedder.name, "spec": embedder.spec, "key": embedder.key, "dim": embedder.dim,
            "input_size": list(embedder.input_size), "standardization": embedder.standardization}
