"""Enrolling a person from a video or camera (issue 26): the one person followed, the good faces
kept as different as there are, and the refusals (nobody, two people, only bad faces); enrolment
from photos refuses faces too small or blurred, and leaves out a photo of someone else."""
import cv2
import numpy as np
import pytest

from faces import sample


@pytest.fixture(autouse=True)
def _no_progress_lines(monkeypatch):
    """Progress lines come every 10 s when piped: on a slow machine the one-line checks would see them."""
    monkeypatch.setenv("FACEREC_PROGRESS_EVERY", "inf")


def _clip(path, photos, seconds_each=1.0):
    from facerec.demo import render_clip

    return render_clip(photos, path, fps=10, seconds_each=seconds_each)


def _side_by_side(a, b):
    h = min(a.shape[0], b.shape[0])
    return np.hstack([cv2.resize(a, (int(a.shape[1] * h / a.shape[0]), h)), cv2.resize(b, (int(b.shape[1] * h / b.shape[0]), h))])


def _enrol(*args):
    from facerec.cli import main

    return main(["enrol", *map(str, args)])


def test_a_person_filmed_is_enrolled_from_good_faces_as_different_as_there_are(tmp_path, capsys, default_embedder):
    from facerec.identity.gallery import Gallery

    clip = _clip(tmp_path / "obama.mp4", [sample("obama.jpg"), sample("obama2.jpg"), sample("obama3.jpg")])
    gallery = tmp_path / "g.npz"
    assert _enrol(gallery, "--name", "Obama", "--from-video", clip, "--faces", "4", "--save_faces", tmp_path / "seen") == 0
    out = capsys.readouterr().out
    assert "Kept 4 faces" in out and "Enrolled 1 person" in out
    g = Gallery.load(gallery)
    assert dict(g.people()) == {"Obama": 4}
    assert sorted(p.name for p in (tmp_path / "seen").iterdir()) == [f"Obama_0{i}.png" for i in range(1, 5)]
    times = sorted(float(s.split(" at ")[1].split()[0]) for s in g.sources)
    assert times[-1] - times[0] >= 1.0  # not four neighbouring frames: the photos shown in turn
    from facerec import Recognizer

    rec = Recognizer(g, default_embedder)
    assert [f.name for f in rec.recognize(sample("obama.jpg"))] == ["Obama"]
    assert [f.name for f in rec.recognize(sample("biden.jpg"))] == ["Unknown"]
    # Filming again adds to the person (the same frame of the same video is not added twice).
    again = _clip(tmp_path / "again.mp4", [sample("obama2.jpg")], seconds_each=2.0)
    assert _enrol(gallery, "--name", "Obama", "--from-video", again, "--faces", "2") == 0
    assert _enrol(gallery, "--name", "Obama", "--from-video", again, "--faces", "2") == 0
    assert dict(Gallery.load(gallery).people()) == {"Obama": 6}


@pytest.mark.parametrize("case, message", [
    ("nobody", "no face seen"),
    ("two people", "two or more people were in view"),
    ("tiny", "too small"),
    ("blurred", "too blurred"),
])
def test_what_cannot_be_enrolled_from_a_video_is_refused_in_one_line(case, message, tmp_path, capsys, default_embedder):
    obama = sample("obama.jpg")
    frames = {"nobody": [np.full((360, 640, 3), 60, np.uint8)],
              "two people": [_side_by_side(obama, sample("biden.jpg"))],
              "tiny": [np.pad(cv2.resize(obama, (30, 40)), ((160, 160), (300, 310), (0, 0)))],
              "blurred": [cv2.GaussianBlur(obama, (0, 0), 9)]}[case]
    clip = _clip(tmp_path / "c.mp4", frames, seconds_each=2.0)
    assert _enrol(tmp_path / "g.npz", "--name", "X", "--from-video", clip) == 1
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1, err
    assert not (tmp_path / "g.npz").exists()


def test_options_of_filming_are_checked_before_any_work(tmp_path, capsys):
    assert _enrol(tmp_path / "g.npz", "--from-video", tmp_path / "none.mp4", "--name", "X") == 1
    assert "no such video file" in capsys.readouterr().err
    assert _enrol(tmp_path / "g.npz", "--camera", "0", "--from-video", "x.mp4", "--name", "X") == 1
    assert "not both" in capsys.readouterr().err
    assert _enrol(tmp_path / "g.npz", "--camera", "0") == 1
    assert "--name NAME" in capsys.readouterr().err
    assert _enrol(tmp_path / "g.npz", "people", "--seconds", "3") == 1
    assert "go with --from-video" in capsys.readouterr().err
    assert _enrol(tmp_path / "g.npz", "--camera", "0", "--name", "X", "--start", "2") == 1
    assert "--start goes with --from-video" in capsys.readouterr().err


def test_photo_enrolment_refuses_bad_faces_and_leaves_out_a_photo_of_someone_else(tmp_path, capsys, default_embedder):
    from facerec.identity.gallery import Gallery
    from facerec.images import atomic_save_image

    obama = tmp_path / "people" / "Obama"
    for name in ("obama.jpg", "obama2.jpg", "obama3.jpg", "biden.jpg"):
        atomic_save_image(obama / name, sample(name))
    atomic_save_image(obama / "blurred.jpg", cv2.GaussianBlur(sample("obama2.jpg"), (0, 0), 8))
    assert _enrol(tmp_path / "g.npz", tmp_path / "people") == 0
    out = capsys.readouterr().out
    assert "biden.jpg: far from Obama's other faces" in out and "left out" in out
    assert "blurred.jpg: the face is too blurred" in out
    assert dict(Gallery.load(tmp_path / "g.npz").people()) == {"Obama": 3}


def test_filming_says_how_long_is_left_and_how_many_good_faces(tmp_path, capsys, monkeypatch, default_embedder):
    monkeypatch.setenv("FACEREC_PROGRESS_EVERY", "0")  # a line at every step, as a terminal's bar would show
    clip = _clip(tmp_path / "obama.mp4", [sample("obama.jpg")], seconds_each=2.0)
    assert _enrol(tmp_path / "g.npz", "--name", "Obama", "--from-video", clip, "--seconds", "1.5") == 0
    lines = [line for line in capsys.readouterr().err.splitlines() if line.startswith("Filming Obama")]
    assert lines and "s left" in lines[0] and lines[-1].endswith("good faces seen")
    assert int(lines[-1].split()[-4]) >= 3


def test_a_stray_among_few_photos_does_not_take_the_good_ones_with_it():
    from facerec.identity.enrolment_checks import strays

    rng = np.random.default_rng(0)
    person = rng.normal(size=128)
    faces = [v / np.linalg.norm(v) for v in (person + rng.normal(size=128) * 0.02 for _ in range(2))]
    other = rng.normal(size=128)
    assert [i for i, _ in strays(np.stack(faces + [other / np.linalg.norm(other)]), 0.4175)] == [2]


def test_a_start_past_the_end_says_so(tmp_path, capsys, default_embedder):
    clip = _clip(tmp_path / "obama.mp4", [sample("obama.jpg")], seconds_each=2.0)
    assert _enrol(tmp_path / "g.npz", "--name", "Obama", "--from-video", clip, "--start", "30") == 1
    assert "is only 2.0 s long" in capsys.readouterr().err
