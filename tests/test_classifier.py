"""FaceClassifier: training, the unknown rule, scikit-learn's conventions, and a file format that
never runs code."""
import pickle
import zipfile

import numpy as np
import pytest

from facerec import FacerecError
from facerec.identity.classifier import UNKNOWN, FaceClassifier


def _people(rng, n_people=8, per=6, dim=32, spread=0.15):
    centres = rng.normal(size=(n_people, dim))
    X, y = [], []
    for i, c in enumerate(centres):
        pts = c + spread * rng.normal(size=(per, dim))
        X.append(pts)
        y += [i] * per
    X = np.concatenate(X)
    names = np.array([f"p{i}" for i in y])
    return (X / np.linalg.norm(X, axis=1, keepdims=True)).astype(np.float32), names, centres


def test_names_known_people_and_stops_strangers(rng):
    X, y, _ = _people(rng)
    clf = FaceClassifier().fit(X, y)  # no distance statistics: the rule is chosen by holding people out
    cal = clf.calibration_
    assert cal["known_accuracy"] > 0.9 and cal["stranger_rejection"] > 0.9
    assert np.mean(clf.predict(X) == y) > 0.9
    strangers, _, _ = _people(np.random.default_rng(99), n_people=5, per=3)
    assert np.mean(clf.predict(strangers) == UNKNOWN) > 0.8


def test_save_load_round_trip(tmp_path, rng):
    X, y, _ = _people(rng)
    clf = FaceClassifier(embedder_info={"name": "test", "key": "abc"}).fit(X, y)
    path = tmp_path / "clf.npz"
    clf.save(path)
    assert [p.name for p in tmp_path.iterdir()] == ["clf.npz"]  # no temporary file left behind
    back = FaceClassifier.load(path)
    np.testing.assert_allclose(back.predict_proba(X), clf.predict_proba(X), atol=1e-9)
    assert back.predict(X)[0] == clf.predict(X)[0]
    assert back.threshold_ == clf.threshold_ and back.max_distance_ == clf.max_distance_
    assert back.embedder_info == {"name": "test", "key": "abc"}


class _Exploit:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_a_crafted_pickle_is_refused_and_runs_nothing(tmp_path):
    marker = tmp_path / "pwned"
    evil = tmp_path / "classifier.pkl"
    evil.write_bytes(pickle.dumps(_Exploit(str(marker))))
    with pytest.raises(FacerecError, match="not a facerec classifier"):
        FaceClassifier.load(evil)
    assert not marker.exists()
    # the same payload inside an .npz (an object array) is refused too
    sneaky = tmp_path / "classifier.npz"
    np.savez(sneaky, meta=np.array([_Exploit(str(marker))], dtype=object))
    with pytest.raises(FacerecError, match="not a facerec classifier"):
        FaceClassifier.load(sneaky)
    assert not marker.exists()


def test_damaged_and_foreign_files(tmp_path, rng):
    X, y, _ = _people(rng)
    good = tmp_path / "good.npz"
    FaceClassifier().fit(X, y).save(good)
    cut = tmp_path / "cut.npz"
    cut.write_bytes(good.read_bytes()[:500])
    foreign = tmp_path / "foreign.npz"
    np.savez(foreign, weights=np.zeros(3))
    other_zip = tmp_path / "other.zip"
    with zipfile.ZipFile(other_zip, "w") as z:
        z.writestr("model.json", "{}")
    for bad in (cut, foreign, other_zip, tmp_path / "missing.npz"):
        with pytest.raises(FacerecError):
            FaceClassifier.load(bad)


def test_one_class_is_refused(rng):
    X, y, _ = _people(rng, n_people=1)
    with pytest.raises(FacerecError, match="at least two people"):
        FaceClassifier().fit(X, y)


def test_two_people_get_no_stranger_rule(rng):
    X, y, _ = _people(rng, n_people=2)
    clf = FaceClassifier().fit(X, y)
    assert "fewer than three" in clf.calibration_["method"] and clf.threshold_ == 0.0


def test_wrong_embedding_width(rng):
    X, y, _ = _people(rng)
    clf = FaceClassifier().fit(X, y)
    with pytest.raises(FacerecError, match="32-d"):
        clf.predict(np.zeros((1, 128), np.float32))


def test_follows_scikit_learns_estimator_conventions(rng):
    """clone copies the hyper-parameters and nothing learned; cross_val_score fits a clone per
    fold (all of fit, the Unknown rule included) and scores its predict."""
    from sklearn.base import clone
    from sklearn.model_selection import StratifiedKFold, cross_val_score

    X, y, _ = _people(rng)
    clf = FaceClassifier(threshold=0.2, seed=3, C=5.0)
    copy = clone(clf)
    assert copy.get_params() == clf.get_params() and copy.get_params()["C"] == 5.0
    clf.fit(X, y)
    assert hasattr(clf, "svm_") and not hasattr(clone(clf), "svm_")
    assert clf.threshold_ == 0.2 and list(clf.classes_) == sorted(set(y))
    scores = cross_val_score(FaceClassifier(), X, y, cv=StratifiedKFold(3, shuffle=True, random_state=0))
    assert len(scores) == 3 and scores.mean() > 0.9
    # A classifier that names no one right scores low: the score measures something.
    assert cross_val_score(FaceClassifier(threshold=1.0), X, y, cv=3).mean() < 0.5


def test_a_given_threshold_is_kept_beside_the_models_statistics(rng):
    """--threshold with the default model's statistics: the probability floor given stays (it
    was reset to 0 before, so the option did nothing with the default model)."""
    from facerec.identity.openset import shipped

    X, y, _ = _people(rng)
    clf = FaceClassifier(threshold=0.5, distance_stats=shipped("dlib-resnet-v1")).fit(X, y)
    assert clf.threshold_ == 0.5 and clf.calibration_["given"]
    default = FaceClassifier(distance_stats=shipped("dlib-resnet-v1")).fit(X, y)
    assert 0.5 <= default.threshold_ < 1 and not default.calibration_["given"]


def test_probability_is_the_chance_the_answer_is_right_not_the_svms(rng):
    """With one photo per person Platt scaling says little ("alex_lacamoire: 0.000" for a right
    name); the probability comes from the distances, for names and Unknown alike."""
    from facerec.identity.openset import shipped

    X, y, _ = _people(rng, n_people=3, per=2, dim=128, spread=0.02)
    clf = FaceClassifier(distance_stats=shipped("dlib-resnet-v1")).fit(X[::2], y[::2])  # one photo each
    ids = clf.identify(X[1::2])
    assert list(ids.names) == list(y[1::2]) and (ids.probabilities > 0.99).all()
    far = -X[:1]  # as far from everyone as a face can be: surely a stranger
    ids = clf.identify(far)
    assert ids.names == [UNKNOWN] and ids.probabilities[0] > 0.99

