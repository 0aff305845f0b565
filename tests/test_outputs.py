"""Outputs never written over inputs: files.refuse_output_over_input and the commands that use it."""
import hashlib
import os

import numpy as np
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


def _people(root):
    """Four people in LFW's naming, as pairs and TRAIN read them; the photos' bytes do not matter
    to a refusal, which comes before any photo is read."""
    for name in ("Ann_Lee", "Bo_Chan", "Cy_Dow", "Di_Eng"):
        (root / "people" / name).mkdir(parents=True)
        for k in (1, 2):
            (root / "people" / name / f"{name}_{k:04d}.jpg").write_bytes(b"\xff\xd8 " + name.encode())
    return root / "people"


def test_pairs_train_and_calibrate_never_replace_a_file_of_another_kind(tmp_path, capsys):
    """A photo (or any file not of the kind the command writes) under the output's name is the
    user's: refused before any work.  The command's own earlier output is replaced, as before."""
    from facerec.cli import main
    from facerec.cli.classify import main as classifier_script

    people = _people(tmp_path)
    photo = people / "Ann_Lee" / "Ann_Lee_0001.jpg"
    notes = tmp_path / "notes.txt"
    notes.write_text("my notes\n")
    before = _digests(photo, notes)
    runs = [(main, ["pairs", str(people), str(photo), "--folds", "2", "--per_fold", "1"]),
            (main, ["pairs", str(people), str(notes), "--folds", "2", "--per_fold", "1"]),
            (main, ["calibrate", "default", str(people), "--output", str(photo)]),
            (main, ["calibrate", "default", str(people), "--output", str(notes)]),
            (classifier_script, ["TRAIN", str(people), "default", str(photo)]),
            (classifier_script, ["TRAIN", str(people), "default", str(notes)])]
    for run, argv in runs:
        assert run(argv) == 1, argv
        err = capsys.readouterr().err
        assert "is not a" in err and "refusing to write over it" in err and len(err.splitlines()) == 1, err
    assert _digests(photo, notes) == before
    pairs = tmp_path / "pairs.txt"
    for _ in range(2):  # a rerun replaces its own pairs file
        assert main(["pairs", str(people), str(pairs), "--folds", "2", "--per_fold", "1"]) == 0
    assert pairs.read_text().splitlines()[0].split() == ["2", "1"]


def test_what_each_command_takes_for_its_own_output():
    from facerec.evaluation import looks_like_pairs
    from facerec.identity.classifier_file import looks_like_classifier
    from facerec.identity.openset import looks_like_statistics

    from facerec.npz_file import write_arrays

    assert looks_like_pairs(b"10\t300\nA 1 2\n") and looks_like_pairs(b"300\n")
    # a BOM, and a head that ends inside a name's two-byte character, are still a pairs file
    assert looks_like_pairs(b"\xef\xbb\xbf10\t300\n") and looks_like_pairs(b"10\t300\nJos\xc3\xa9 1 2\nJos\xc3")
    assert not looks_like_pairs(b"\xff\xd8\xff\xe0") and not looks_like_pairs(b"my notes\n")
    ours = write_arrays({"meta": {"format": "facerec-classifier", "version": 3}, "x": np.zeros(3)})
    a_gallery = write_arrays({"meta": {"format": "facerec-gallery", "version": 2}, "x": np.zeros(3)})
    assert looks_like_classifier(ours[:4096]) and looks_like_classifier(b"\x80\x04\x95")  # FaceNet's pickle
    assert not looks_like_classifier(a_gallery[:4096]) and not looks_like_classifier(b"PK\x03\x04 a .docx")
    assert not looks_like_classifier(b"\xff\xd8\xff\xe0") and not looks_like_classifier(b"{}")
    assert looks_like_statistics(b'{"format": "facerec-impostors", "version": 1}')
    assert not looks_like_statistics(b'{"format": "other"}') and not looks_like_statistics(b"\x89PNG")


def test_align_refuses_to_write_among_the_photos(tmp_path, capsys):
    from facerec.cli.align import main

    people = _people(tmp_path)
    before = _digests(*people.rglob("*.jpg"))
    os.symlink(people, tmp_path / "link")
    for out in (people, people / "Ann_Lee", people / "New_Folder", tmp_path / "link" / "out"):
        assert main([str(people), str(out)]) == 1
        err = capsys.readouterr().err
        assert "choose a folder outside it" in err and len(err.splitlines()) == 1, err
    assert _digests(*people.rglob("*.jpg")) == before and not list(people.rglob("*.png"))


def test_embed_refuses_its_faces_file_as_an_input(tmp_path, capsys):
    from facerec.cli import main

    faces = tmp_path / "faces.parquet"
    faces.write_bytes(b"PAR1 not really")
    before = _digests(faces)
    assert main(["embed", str(faces), "--output", str(faces)]) == 1
    assert "refusing to write over it" in capsys.readouterr().err
    assert _digests(faces) == before


def test_results_pages_reports_logs_videos_and_figures_never_replace_the_users_files(tmp_path, capsys):
    """identify's --output, --html and --report, the real-time tool's --log and --output, and
    validate's --roc refuse a file of another kind under their name before any work (the user's
    contacts.csv was replaced); their own earlier outputs are replaced (or added to) on a rerun."""
    from facerec.cli import main
    from facerec.cli.realtime import main as realtime
    people = _people(tmp_path)
    gallery = tmp_path / "g.npz"
    contacts, page, notes = tmp_path / "contacts.csv", tmp_path / "mine.html", tmp_path / "rep" / "summary.txt"
    contacts.write_text("name,phone\nAnn,1\n")
    page.write_text("<html>my page</html>")
    notes.parent.mkdir()
    notes.write_text("my notes\n")
    clip, drawing = tmp_path / "clip.mp4", tmp_path / "drawing.png"
    clip.write_bytes(b"\x00\x00\x00\x1cftypisom a video")
    drawing.write_bytes(b"\x89PNG\r\n\x1a\n my drawing")
    before = _digests(contacts, page, notes, drawing)
    photo = str(people / "Ann_Lee" / "Ann_Lee_0001.jpg")
    runs = [(main, ["identify", str(gallery), photo, "--output", str(contacts)]),
            (main, ["identify", str(gallery), photo, "--html", str(page)]),
            (main, ["identify", str(gallery), photo, "--report", str(notes.parent)]),
            (main, ["cluster", photo, "--output", str(contacts)]),
            (realtime, ["--source", str(clip), "--gallery", str(gallery), "--no-display", "--log", str(contacts)]),
            (realtime, ["--source", str(clip), "--gallery", str(gallery), "--no-display", "--output", str(page)]),
            (main, ["validate", str(people), str(tmp_path / "pairs.txt"), "--roc", str(drawing)])]
    for run, argv in runs:
        assert run(argv) != 0, argv
        err = capsys.readouterr().err
        assert "exists and is not" in err and "refusing to write over it" in err, (argv, err)
    assert _digests(contacts, page, notes, drawing) == before


def test_what_results_pages_reports_logs_videos_and_figures_take_for_their_own():
    from facerec.collections.html_page import looks_like_page
    from facerec.collections.results_file import looks_like_results
    from facerec.evaluation import looks_like_figure
    from facerec.video.appearances import looks_like_events
    from facerec.video.realtime import looks_like_video

    assert looks_like_results(b"path,face,box,name\n") and looks_like_results(b'{"path": "a.jpg", "face": 0}')
    assert not looks_like_results(b"name,phone\n") and not looks_like_results(b'{"paths": 1}')
    assert looks_like_page(b"<!doctype html><html><head><meta charset='utf-8'><title>People")
    assert not looks_like_page(b"<html>my page</html>")
    assert looks_like_events(b'{"type": "left", "camera": "0", "appearance": "0-0-1"}\n')
    assert not looks_like_events(b'{"type": "FeatureCollection", "features": []}') and not looks_like_events(b"a,b\n")
    assert looks_like_video(b"\x00\x00\x00\x1cftypisom") and looks_like_video(b"RIFF\x00\x00\x00\x00AVI LIST")
    assert looks_like_video(b"\x00\x00\x01\xba\x44") and looks_like_video(b"G@" + bytes(186) + b"G@")
    assert not looks_like_video(b"<html>") and not looks_like_video(b"\xff\xd8\xff\xe0")
    assert looks_like_figure(b"\x89PNG\r\n\x1a\n....tEXtSoftware\x00Matplotlib version3")
    assert looks_like_figure(b"%PDF-1.4\n%\xac\xdc \xab\xba\n1 0 obj") and not looks_like_figure(b"%PDF-1.5\n%\xe2\xe3")


def test_a_pipe_as_an_output_is_written_to_not_read(tmp_path):
    """A FIFO named as --log (a reader at its other end) holds nothing to lose: the check returns
    at once rather than wait to read from it."""
    from facerec.files import refuse_replacing_another_kind

    fifo = tmp_path / "events.fifo"
    os.mkfifo(fifo)
    # A writer with bytes waiting: a check that read the pipe would get them at once and refuse
    # (not hang), so this fails rather than stalls if the pipe is ever read again.
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    writer = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
    try:
        os.write(writer, b"x" * 8192)
        refuse_replacing_another_kind(fifo, lambda head: False, "an events log", "--log")
        assert os.read(reader, 8192) == b"x" * 8192  # nothing of it was taken
    finally:
        os.close(writer)
        os.close(reader)
