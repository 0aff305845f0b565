"""Outputs never written over inputs: files.refuse_output_over_input and the commands that use it."""
import hashlib
import os

import pytest

from facerec import FacerecError
from facerec.files import refuse_output_over_input


def _digests(*paths):
    return {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in paths}


@pytest.fixture
def files(tmp_path):
    (tmp_path / "photos").mkdir()
    photo = tmp_path / "photos" / "a.jpg"
    photo.write_bytes(b"\xff\xd8 a photo")
    clf = tmp_path / "clf.npz"
    clf.write_bytes(b"a classifier")
    return tmp_path, photo, clf


def test_same_file_under_any_name_is_refused(files, monkeypatch):
    root, photo, clf = files
    os.symlink(photo, root / "link.jpg")
    os.link(clf, root / "hard.npz")
    monkeypatch.chdir(root)
    for out in (photo, root / "link.jpg", "photos/a.jpg", "photos/../photos/./a.jpg"):
        with pytest.raises(FacerecError, match="refusing to write over it"):
            refuse_output_over_input(out, [photo])
    with pytest.raises(FacerecError, match="--log hard.npz is the same file as the classifier"):
        refuse_output_over_input("hard.npz", [(clf, "the classifier")], "--log")


def test_other_files_pass(files):
    root, photo, clf = files
    refuse_output_over_input(root / "photos" / "results.csv", [photo, clf, root / "photos"])  # inside a folder
    refuse_output_over_input(root / "new" / "x.csv", [photo, None, ""])  # does not exist yet
    refuse_output_over_input(None, [photo])


def test_identify_and_cluster_refuse_outputs_over_inputs(files, capsys):
    from facerec.cli import main

    root, photo, clf = files
    os.symlink(clf, root / "clf.csv")
    os.symlink(photo, root / "page.html")
    (root / "album.csv").mkdir()  # a folder: the results file would not replace it anyway
    before = _digests(photo, clf)
    for argv in (["identify", str(clf), str(photo), "--report", str(clf)],
                 ["identify", str(clf), str(photo), "--output", str(root / "clf.csv")],
                 ["identify", str(clf), str(root / "album.csv"), "--output", str(root / "album.csv")],
                 ["cluster", str(photo), "--html", str(root / "page.html")],
                 ["cluster", str(photo), "--gallery", str(clf), "--output", str(root / "clf.csv")]):
        assert main(argv) == 1, argv
        err = capsys.readouterr().err
        assert "refusing to write over it" in err and "Traceback" not in err and len(err.splitlines()) == 1, err
    assert _digests(photo, clf) == before


def test_a_report_folder_may_be_an_input_folder_but_not_hold_an_input(tmp_path):
    from facerec.collections.report import REPORT_FILES
    from facerec.files import refuse_outputs_over_inputs

    def check(outputs, paths):
        refuse_outputs_over_inputs(outputs, paths, [(tmp_path / "clf.npz", "the classifier")], REPORT_FILES)

    photos = tmp_path / "photos"
    photos.mkdir()
    (photos / "distances.png").write_bytes(b"png")
    check([("--report", photos, True)], [photos])  # it adds files to the folder
    with pytest.raises(FacerecError, match="--report .*distances.png is also an input photo"):
        check([("--report", photos, True)], [photos / "distances.png"])
    with pytest.raises(FacerecError, match="--report .*r.csv is also the --output"):
        check([("--output", tmp_path / "r.csv", False), ("--report", tmp_path / "r.csv", True)], [photos])


def test_classifier_script_refuses_outputs_over_inputs(files, capsys):
    from facerec.cli.classify import main

    root, photo, clf = files
    os.symlink(clf, root / "r.csv")
    model = root / "model.pb"
    model.write_bytes(b"a model")
    before = _digests(photo, clf, model)
    for argv in (["CLASSIFY", str(root / "photos"), "default", str(clf), "--report", str(clf)],
                 ["CLASSIFY", str(photo), "default", str(clf), "--output", str(root / "r.csv")],
                 ["CLASSIFY", str(photo), "default", str(clf), "--report", str(photo)],
                 ["TRAIN", str(root / "photos"), str(model), str(model)]):
        assert main(argv) == 1, argv
        err = capsys.readouterr().err
        assert "refusing to write over it" in err and "Traceback" not in err and len(err.splitlines()) == 1, err
    assert _digests(photo, clf, model) == before
