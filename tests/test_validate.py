"""validate_on_lfw: pairs files, FaceNet's 10-fold protocol, raw and aligned LFW."""
import re

import numpy as np
import pytest

from conftest import shared
from facerec import FacerecError
from facerec.evaluation import evaluate, make_pairs, pair_paths, read_pairs
from facerec.cli.validate import main as validate_main


def _people(root, n_people=24, per=4):
    for i in range(n_people):
        d = root / f"Person_{i:02d}"
        d.mkdir(parents=True)
        for k in range(1, per + 1):
            (d / f"Person_{i:02d}_{k:04d}.jpg").write_bytes(b"x")


def test_pairs_file_is_lfw_format_with_disjoint_folds(tmp_path):
    _people(tmp_path)
    text = make_pairs(tmp_path, n_folds=4, per_fold=5, seed=1)
    lines = text.strip().splitlines()
    assert lines[0] == "4\t5" and len(lines) == 1 + 4 * 10
    (tmp_path / "pairs.txt").write_text(text)
    pairs = read_pairs(tmp_path / "pairs.txt")
    folds = [pairs[i * 10:(i + 1) * 10] for i in range(4)]
    people = [{p[0] for p in f} | {p[2] for p in f if len(p) == 4} for f in folds]
    for i in range(4):
        assert all(len(p) == 3 for p in folds[i][:5]) and all(len(p) == 4 for p in folds[i][5:])
        for j in range(i + 1, 4):
            assert not people[i] & people[j]  # as in LFW View 2, no one appears in two folds
    paths, same, missing = pair_paths(tmp_path, pairs + [["Nobody", "1", "2"]])
    assert len(paths) == 40 and same.sum() == 20 and missing == ["Nobody 1 2"]


def test_protocol_on_separable_and_random_embeddings(rng):
    n = 400
    same = np.arange(n) % 2 == 0
    e1 = rng.normal(size=(n, 16))
    e1 /= np.linalg.norm(e1, axis=1, keepdims=True)
    close = e1 + 0.05 * rng.normal(size=e1.shape)
    far = rng.normal(size=e1.shape)
    e2 = np.where(same[:, None], close, far)
    e2 /= np.linalg.norm(e2, axis=1, keepdims=True)
    r = evaluate(e1, e2, same)
    assert r["accuracy"] == 1.0 and r["auc"] > 0.999 and r["eer"] < 0.01
    r = evaluate(e1, rng.permutation(e2), same, metric=1)
    assert 0.3 < r["accuracy"] < 0.7


def test_bad_pairs_file(tmp_path):
    (tmp_path / "p.txt").write_text("10\t300\nonly_a_name\n")
    with pytest.raises(FacerecError, match="expected"):
        read_pairs(tmp_path / "p.txt")
    with pytest.raises(FacerecError, match="not found"):
        read_pairs(tmp_path / "missing.txt")


@pytest.mark.slow
def test_validate_on_raw_lfw_dev(tmp_path, capsys):
    lfw = shared("lfw-dev")
    pairs = tmp_path / "pairs.txt"
    pairs.write_text(make_pairs(lfw, n_folds=10, per_fold=20, seed=3) + "Nobody_Here\t1\t2\n")
    rc = validate_main([str(lfw), "default", "--lfw_pairs", str(pairs), "--roc", str(tmp_path / "roc.png")])
    out = capsys.readouterr().out
    assert rc == 0
    assert "skipped pair (image missing): Nobody_Here 1 2" in out
    acc = float(re.search(r"Accuracy: (\S+)\+-", out).group(1))
    print(f"\n{out}")
    assert acc > 0.95 and (tmp_path / "roc.png").stat().st_size > 1000


@pytest.mark.slow
def test_verify_agrees_with_validate_at_the_same_threshold(tmp_path):
    """facerec.verify, pair by pair on images it detects and embeds itself, against validate's
    accuracy at the model's same-person distance on the same pairs (verify decides a pair with a
    soft face at the soft distance: only pairs between the two may differ)."""
    from facerec import load_embedder, load_image, verify
    from facerec.evaluation import validate_pairs
    from facerec.verification import same_person_distance_for

    lfw = shared("lfw-dev")
    pairs = tmp_path / "pairs.txt"
    pairs.write_text(make_pairs(lfw, n_folds=10, per_fold=15, seed=5))
    r = validate_pairs(lfw, pairs, "default", progress=False)
    paths, same, _ = pair_paths(lfw, read_pairs(pairs))
    bare = r["fixed_threshold"]
    soft = same_person_distance_for(load_embedder("default"), bare, "soft")
    right = n = between = 0
    for (a, b), s in zip(paths, same):
        try:
            v = verify(load_image(a), load_image(b))
        except FacerecError:  # no face in one of them: validate skips such pairs too
            continue
        n += 1
        right += v.same == s
        assert v.max_distance == (soft if v.soft_a or v.soft_b else bare)
        between += (v.soft_a or v.soft_b) and soft < v.distance <= bare
    print(f"\nverify: {right}/{n} = {right / n:.4f}; validate at {r['fixed_threshold']}: {r['fixed_accuracy']:.4f} "
          f"over {r['pairs']} pairs (10-fold accuracy {r['accuracy']:.4f})")
    assert n == r["pairs"]
    assert abs(right / n - r["fixed_accuracy"]) <= between / n + 1e-12


@pytest.mark.parametrize("roc, says", [("curve.gif", "a figure is written as"), ("pairs.png", "is also the pairs file")])
def test_a_roc_path_that_cannot_be_drawn_is_refused_before_any_work(tmp_path, capsys, monkeypatch, roc, says):
    from facerec.cli import main

    monkeypatch.chdir(tmp_path)
    (tmp_path / "pairs.png").write_text("keep")  # a pairs file may have any name
    assert main(["validate", "lfw", "default", "--lfw_pairs", "pairs.png", "--roc", roc]) == 1
    out = capsys.readouterr()
    assert says in out.err and len(out.err.strip().splitlines()) == 1 and "forward pass" not in out.out
    assert (tmp_path / "pairs.png").read_text() == "keep" and sorted(p.name for p in tmp_path.iterdir()) == ["pairs.png"]


def test_too_many_folds_is_refused_before_any_photo_is_read(tmp_path, monkeypatch):
    """The folds are checked against the pairs before the model runs, and the message names the
    fold count the pairs file was written for.  (The photos here are not images: reading one
    would fail differently.)"""
    from facerec import embedding

    _people(tmp_path)
    (tmp_path / "pairs.txt").write_text(make_pairs(tmp_path, n_folds=2, per_fold=2, seed=1))
    monkeypatch.setattr(embedding, "load_embedder", lambda *a, **k: pytest.fail("the model was loaded"))
    from facerec.evaluation import validate_pairs

    with pytest.raises(FacerecError, match=r"8 pairs cannot be split into 10 folds .*written for 2"):
        validate_pairs(tmp_path, tmp_path / "pairs.txt", n_folds=10)


def test_val_at_far_is_marked_unmeasured_when_too_few_different_pairs_train_it(rng):
    """FAR 0.001 cannot be seen with under 1,000 different-person pairs in the training folds:
    VAL would read 0 however good the model; on LFW's 6,000 pairs (2,700 per training) it is measured."""
    same = np.arange(200) % 2 == 0
    e1 = rng.normal(size=(200, 8))
    assert not evaluate(e1, e1 + 0.01, same)["val_measurable"]
    big = np.arange(6000) % 2 == 0
    e = rng.normal(size=(6000, 8))
    e /= np.linalg.norm(e, axis=1, keepdims=True)
    other = np.where(big[:, None], e + 0.01 * rng.normal(size=e.shape), rng.permutation(e))
    r = evaluate(e, other, big)
    assert r["val_measurable"] and r["different_pairs_per_training"] == 2700 and r["val"] > 0.9


def test_folds_follow_the_pairs_file_and_one_kind_of_pair_is_refused(tmp_path, monkeypatch):
    """A pairs file written for 2 folds is evaluated in 2 (10 would leave folds of one kind of
    pair: AUC 0.25 and EER nan were printed); pairs of one kind only are refused before the model."""
    from facerec import embedding
    from facerec.evaluation import validate_pairs

    _people(tmp_path)
    pairs = tmp_path / "pairs.txt"
    pairs.write_text(make_pairs(tmp_path, n_folds=2, per_fold=2, seed=1))
    seen = {}
    monkeypatch.setattr("facerec.evaluation._check_folds", lambda n, folds, *a, **k: seen.setdefault("folds", folds))
    monkeypatch.setattr(embedding, "load_embedder", lambda *a, **k: pytest.fail("stop here"))
    with pytest.raises(pytest.fail.Exception, match="stop here"):
        validate_pairs(tmp_path, pairs)
    assert seen["folds"] == 2
    same_only = tmp_path / "same.txt"
    same_only.write_text("2\t2\n" + "\n".join(line for line in pairs.read_text().splitlines()[1:]
                                               if len(line.split()) == 3) + "\n")
    monkeypatch.undo()
    monkeypatch.setattr(embedding, "load_embedder", lambda *a, **k: pytest.fail("the model was loaded"))
    with pytest.raises(FacerecError, match="all same-person pairs; accuracy needs both kinds"):
        validate_pairs(tmp_path, same_only)


def test_the_default_roc_never_replaces_a_file_already_there(tmp_path, monkeypatch):
    from facerec.cli.validate import parse_arguments

    monkeypatch.chdir(tmp_path)
    argv = ["lfw", "default", "--lfw_pairs", "pairs.txt"]
    assert parse_arguments(argv, "validate").roc == "roc.png"
    (tmp_path / "roc.png").write_bytes(b"the user's own")
    (tmp_path / "roc-2.png").write_bytes(b"an earlier run's")
    assert parse_arguments(argv, "validate").roc == "roc-3.png"
    assert parse_arguments(argv + ["--roc", "roc.png"], "validate").roc == "roc.png"  # named: replaced
