"""real_time_face_recognition: a made-up clip, the real one, and every way a source can fail."""
import json
import shutil

import numpy as np
import pytest

from conftest import shared
from faces import astronaut, sample
from facerec import FacerecError
from facerec import Recognizer, train_classifier
from facerec.cli.realtime import main as realtime_main
from facerec.video import run_video


def recognise_video(source, classifier, model=None, **kw):
    return run_video(source, Recognizer.load(classifier, model=model), **kw)


def _clip(path, frames=30, fourcc="mp4v", size=320):
    """The astronaut's face drifting across a dark frame."""
    import cv2

    face = astronaut()[0:260, 110:370][:, :, ::-1]  # BGR
    face = cv2.resize(face, (160, 160))
    w = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), 10, (size, size))
    for i in range(frames):
        frame = np.full((size, size, 3), 30, np.uint8)
        x = 20 + 3 * i
        frame[80:240, x:x + 160] = face
        w.write(frame)
    w.release()
    return path


@pytest.fixture(scope="module")
def classifier(tmp_path_factory):
    from PIL import Image

    root = tmp_path_factory.mktemp("gallery")
    people = {"eileen": [astronaut()], "obama": [sample("obama.jpg"), sample("obama2.jpg")],
              "biden": [sample("biden.jpg")]}
    for name, photos in people.items():
        (root / name).mkdir()
        for i, img in enumerate(photos):
            Image.fromarray(img).save(root / name / f"{i}.jpg")
    clf = root / "clf.npz"
    train_classifier(root).save(clf)
    return clf


def _frames(path):
    import cv2

    cap = cv2.VideoCapture(str(path))
    n = 0
    while cap.read()[0]:
        n += 1
    cap.release()
    return n


def test_names_the_face_in_a_clip(tmp_path, classifier):
    clip = _clip(tmp_path / "clip.mp4")
    out, log = tmp_path / "annotated.mp4", tmp_path / "events.jsonl"
    stats = recognise_video(str(clip), classifier, output=out, log=log, display=False)
    assert stats.frames == 30
    events = [json.loads(line) for line in log.read_text().splitlines()]
    assert events and events[0]["name"] == "eileen"
    assert set(events[0]) >= {"name", "start_s", "end_s", "probability", "box"}
    assert _frames(out) == 30  # the annotated video is complete and playable


def test_a_stream_that_breaks_off_leaves_a_playable_video(tmp_path, classifier):
    clip = _clip(tmp_path / "clip.avi", frames=40, fourcc="MJPG")
    data = clip.read_bytes()
    broken = tmp_path / "broken.avi"
    broken.write_bytes(data[: len(data) // 2])
    out = tmp_path / "annotated.mp4"
    stats = recognise_video(str(broken), classifier, output=out, display=False)
    assert 0 < stats.frames < 40
    assert _frames(out) == stats.frames


@pytest.mark.parametrize("source, message", [
    ("missing.mp4", "no such video file"),
    ("text.mp4", "cannot open video"),
    ("99", "cannot open camera 99"),
])
def test_sources_that_cannot_be_opened(tmp_path, classifier, source, message, capsys):
    (tmp_path / "text.mp4").write_text("not a video")
    src = source if source.isdigit() else str(tmp_path / source)
    with pytest.raises(FacerecError, match=message):
        recognise_video(src, classifier, display=False)
    rc = realtime_main(["--source", src, "--classifier", str(classifier), "--no-display"])
    err = capsys.readouterr().err
    assert rc == 1 and message in err and len(err.strip().splitlines()) == 1


def test_cli_prints_the_summary(tmp_path, classifier, capsys):
    clip = _clip(tmp_path / "clip.mp4", frames=12)
    rc = realtime_main(["--source", str(clip), "--classifier", str(classifier), "--no-display"])
    assert rc == 0
    assert "Processed 12 frames in" in capsys.readouterr().out


def test_hamilton_clip_names_lin_manuel_miranda(tmp_path):
    video = shared("video")
    for person, photo in (("lin_manuel_miranda", "lin-manuel-miranda.png"), ("alex_lacamoire", "alex-lacamoire.png")):
        (tmp_path / "g" / person).mkdir(parents=True)
        shutil.copy(video / photo, tmp_path / "g" / person / photo)
    clf = tmp_path / "h.npz"
    train_classifier(tmp_path / "g").save(clf)
    log = tmp_path / "events.jsonl"
    stats = recognise_video(str(video / "short_hamilton_clip.mp4"), clf, log=log, display=False)
    assert stats.frames == 275
    names = [json.loads(line)["name"] for line in log.read_text().splitlines()]
    print(f"\n{stats.fps:.1f} fps; appearances: {names}")
    assert "lin_manuel_miranda" in names


def test_classifier_for_another_model_is_refused(tmp_path, classifier, tf):
    from test_model_formats import _frozen_pb

    r = np.random.default_rng(1)
    w = dict(k=r.normal(0, 0.3, (3, 3, 3, 8)).astype(np.float32), b=np.zeros(8, np.float32),
             w=r.normal(0, 0.3, (8, 6)).astype(np.float32))
    pb = _frozen_pb(tf, tmp_path, w)
    clip = _clip(tmp_path / "clip.mp4", frames=5)
    with pytest.raises(FacerecError, match="was trained with model 'default'"):
        recognise_video(str(clip), classifier, model=str(pb), output=tmp_path / "o.mp4", display=False)
