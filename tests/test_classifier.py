"""FaceClassifier: training, the unknown rule, and a file format that never runs code."""
import pickle
import zipfile

import numpy as np
import pytest

from facerec import FacerecError
from facerec.classifier import UNKNOWN, FaceClassifier


def _people(rng, n_people=8, per=6, dim=32, spread=0.15):
    centres = rng.normal(size=(n_people, dim))
    X, y = [], []
    for i, c in enumerate(centres):
        pts = c + spread * rng.normal(size=(per, dim))
        X.append(pts)
        y += [i] * per
    X = np.concatenate(X)
    return (X / np.linalg.norm(X, axis=1, keepdims=True)).astype(np.float32), np.array(y), centres


def test_names_known_people_and_stops_strangers(rng):
    X, y, _ = _people(rng)
    names = [f"p{i}" for i in range(8)]
    clf = FaceClassifier().fit(X, y, names)
    cal = clf.choose_unknown_rule(X, y)
    assert cal["known_accuracy"] > 0.9 and cal["stranger_rejection"] > 0.9
    pred, prob = clf.predict(X)
    assert np.mean([p == names[t] for p, t in zip(pred, y)]) > 0.9
    strangers, _, _ = _people(np.random.default_rng(99), n_people=5, per=3)
    pred, _ = clf.predict(strangers)
    assert np.mean([p == UNKNOWN for p in pred]) > 0.8


def test_save_load_round_trip(tmp_path, rng):
    X, y, _ = _people(rng)
    clf = FaceClassifier().fit(X, y, [f"p{i}" for i in range(8)])
    clf.choose_unknown_rule(X, y)
    clf.embedder_info = {"name": "test", "key": "abc"}
    path = tmp_path / "clf.npz"
    clf.save(path)
    assert [p.name for p in tmp_path.iterdir()] == ["clf.npz"]  # no temporary file left behind
    back = FaceClassifier.load(path)
    np.testing.assert_allclose(back.predict_proba(X), clf.predict_proba(X), atol=1e-9)
    assert back.predict(X)[0] == clf.predict(X)[0]
    assert back.threshold == clf.threshold and back.max_distance == clf.max_distance
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
    FaceClassifier().fit(X, y, [f"p{i}" for i in range(8)]).save(good)
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
        FaceClassifier().fit(X, y, ["alone"])


def test_two_people_get_no_stranger_rule(rng):
    X, y, _ = _people(rng, n_people=2)
    clf = FaceClassifier().fit(X, y, ["a", "b"])
    cal = clf.choose_unknown_rule(X, y)
    assert "fewer than three" in cal["method"] and clf.threshold == 0.0


def test_wrong_embedding_width(rng):
    X, y, _ = _people(rng)
    clf = FaceClassifier().fit(X, y, [f"p{i}" for i in range(8)])
    with pytest.raises(FacerecError, match="32-d"):
        clf.predict(np.zeros((1, 128), np.float32))
