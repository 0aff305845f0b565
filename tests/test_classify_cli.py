"""classify/classifier.py TRAIN|CLASSIFY end to end: LFW, strangers, personal photos, bad input."""
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from conftest import shared
from faces import astronaut
from facerec.batch.align_dataset import align_dataset
from facerec.cli.classify import main as classifier_main

SPLIT = ["--use_split_dataset", "--min_nrof_images_per_class", "15", "--nrof_train_images_per_class", "10"]


def run(capsys, *args):
    rc = classifier_main([str(a) for a in args])
    out = capsys.readouterr()
    return rc, out.out, out.err


@pytest.fixture(scope="module")
def aligned_lfw(tmp_path_factory):
    lfw, unknown = shared("lfw-dev"), shared("lfw-unknown")
    out = tmp_path_factory.mktemp("lfw-aligned")
    align_dataset(lfw, out / "dev", progress=False)
    align_dataset(unknown, out / "unknown", progress=False)
    return out


@pytest.mark.slow
def test_lfw_split_accuracy_and_strangers(aligned_lfw, tmp_path, capsys):
    clf = tmp_path / "lfw.npz"
    rc, out, _ = run(capsys, "TRAIN", aligned_lfw / "dev", "default", clf, *SPLIT)
    assert rc == 0 and "Number of classes: 38" in out and "Number of images: 380" in out
    assert f'Saved classifier model to file "{clf}"' in out
    rc, out, _ = run(capsys, "CLASSIFY", aligned_lfw / "dev", "default", clf, *SPLIT,
                     "--unknown_dir", aligned_lfw / "unknown", "--report", tmp_path / "report")
    assert rc == 0
    assert re.search(r"^\s+0  \S+: \d\.\d{3}  \(\S+\.\w+\)$", out, re.M)  # FaceNet's per-image line, with its file
    acc = float(re.search(r"^Accuracy: (\S+)", out, re.M).group(1))
    known, rejected = map(float, re.search(r"accuracy (\S+) \(\d+ faces\); strangers rejected: (\S+)", out).groups())
    print(f"\nlfw-dev split: accuracy {acc:.3f}; open set: known {known:.3f}, strangers rejected {rejected:.3f}")
    # The default floor holds strangers to 1% (it let 1.6% through with 10 photos a person before, and
    # named 0.9 points more known faces): rejected is held higher than accuracy gave way.
    assert acc >= 0.97 and known >= 0.95 and rejected >= 0.98
    assert (tmp_path / "report" / "confusion.png").stat().st_size > 1000
    assert "precision" in (tmp_path / "report" / "report.txt").read_text()


def test_personal_photos(tmp_path, capsys):
    train, test = shared("personal", "train"), shared("personal", "test")
    clf = tmp_path / "personal.npz"
    rc, out, _ = run(capsys, "TRAIN", train, "default", clf)
    assert rc == 0, out
    rc, out, _ = run(capsys, "CLASSIFY", test, "default", clf)
    assert rc == 0
    names = {}
    for line in out.splitlines():
        m = re.match(r"\s+\d+  (\S+): \S+  \((\S+), face at (\d+)", line)
        if m:
            names.setdefault(Path(m.group(2)).name, []).append(m.group(1))
    print("\n" + "\n".join(f"{k}: {v}" for k, v in sorted(names.items())))
    assert names["alex_lacamoire1.jpg"] == ["alex_lacamoire"]
    assert names["johnsnow_test1.jpg"] == ["kit_harington"]
    assert names["obama1.jpg"] == ["obama"]
    assert sorted(names["kit_with_rose.jpg"]) == ["kit_harington", "rose_leslie"]
    both = names["obama_and_biden.jpg"]
    assert "obama" in both and "biden" in both  # the two people in one photo


# --- bad input ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def gallery(tmp_path_factory):
    """Two "people" from the astronaut photo (the face and its mirror image), plus oddities."""
    root = tmp_path_factory.mktemp("gallery")
    face = astronaut()
    (root / "eileen").mkdir()
    (root / "mirror").mkdir()
    (root / "blank").mkdir()
    for i in range(3):
        Image.fromarray(np.roll(face, 4 * i, axis=0)).save(root / "eileen" / f"{i}.jpg")
        Image.fromarray(np.roll(face[:, ::-1], 4 * i, axis=0)).save(root / "mirror" / f"{i}.jpg")
    Image.fromarray(np.full((200, 200, 3), 80, np.uint8)).save(root / "blank" / "nothing.jpg")
    return root


def test_class_without_faces_is_left_out(gallery, tmp_path, capsys):
    clf = tmp_path / "c.npz"
    rc, out, _ = run(capsys, "TRAIN", gallery, "default", clf)
    assert rc == 0 and clf.exists()
    assert "Class blank has no usable face; it is left out" in out
    assert "no face found" in out


def test_one_class_only_leaves_no_file(gallery, tmp_path, capsys):
    only = tmp_path / "only"
    (only / "eileen").mkdir(parents=True)
    for f in (gallery / "eileen").iterdir():
        (only / "eileen" / f.name).write_bytes(f.read_bytes())
    clf = tmp_path / "c.npz"
    rc, _, err = run(capsys, "TRAIN", only, "default", clf)
    assert rc == 1 and "at least two people" in err and len(err.strip().splitlines()) == 1
    assert not clf.exists() and not list(tmp_path.glob(".c.npz*"))


@pytest.mark.parametrize("make", ["missing", "empty"])
def test_missing_or_empty_data_dir(tmp_path, capsys, make):
    d = tmp_path / "data"
    if make == "empty":
        d.mkdir()
    rc, _, err = run(capsys, "TRAIN", d, "default", tmp_path / "c.npz")
    assert rc == 1 and ("does not exist" in err or "no photos" in err)
    assert "Traceback" not in err


def test_foreign_or_damaged_classifier_file(gallery, tmp_path, capsys):
    import pickle

    bad = tmp_path / "sklearn.pkl"
    bad.write_bytes(pickle.dumps({"model": [1, 2, 3]}))
    rc, _, err = run(capsys, "CLASSIFY", gallery, "default", bad)
    assert rc == 1 and "not a facerec classifier file" in err and "Traceback" not in err


def test_classifier_for_another_model(gallery, tmp_path, capsys, tf):
    from test_model_formats import _frozen_pb  # reuse the tiny FaceNet graph

    clf = tmp_path / "c.npz"
    assert run(capsys, "TRAIN", gallery, "default", clf)[0] == 0
    r = np.random.default_rng(1)
    w = dict(k=r.normal(0, 0.3, (3, 3, 3, 8)).astype(np.float32), b=np.zeros(8, np.float32),
             w=r.normal(0, 0.3, (8, 6)).astype(np.float32))
    pb = _frozen_pb(tf, tmp_path, w)
    rc, _, err = run(capsys, "CLASSIFY", gallery, pb, clf)
    assert rc == 1 and "was trained with model 'default'" in err


def test_rerun_uses_the_embedding_cache(gallery, tmp_path, capsys, monkeypatch):
    from facerec.embedding.base import Embedder

    clf = tmp_path / "c.npz"
    assert run(capsys, "TRAIN", gallery, "default", clf)[0] == 0
    calls = []
    real = Embedder.embed
    monkeypatch.setattr(Embedder, "embed", lambda self, *a, **k: calls.append(1) or real(self, *a, **k))
    assert run(capsys, "TRAIN", gallery, "default", clf)[0] == 0
    assert calls == []  # every photo's embeddings came from the cache
    assert run(capsys, "TRAIN", gallery, "default", clf, "--no_cache")[0] == 0
    assert calls  # and the patch does see the network when the cache is bypassed
