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
from facerec.video.realtime import run_video


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
    assert "truncated or damaged" in stats.stopped_early


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
    old_log = tmp_path / "events.jsonl"
    kept = '{"type": "left", "camera": "0", "appearance": "0-0-0", "name": "kept"}\n'
    old_log.write_text(kept)
    rc = realtime_main(["--source", src, "--classifier", str(classifier), "--no-display", "--log", str(old_log)])
    err = capsys.readouterr().err
    assert rc == 1 and message in err and len(err.strip().splitlines()) == 1
    assert old_log.read_text() == kept  # a mistyped source empties no earlier log


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
    events = [json.loads(line) for line in log.read_text().splitlines()]
    names = [e["name"] for e in events]
    print(f"\n{stats.fps:.1f} fps; appearances: {names}")
    assert "lin_manuel_miranda" in names
    # The clip cuts from Lin-Manuel Miranda to the audience at frame 211 (30 frames/s): his
    # appearance ends there, and no face of the next shot inherits his name.
    cut_s = 211 / 30
    assert all(e["end_s"] < cut_s for e in events if e["name"] == "lin_manuel_miranda"), events


def test_classifier_for_another_model_is_refused(tmp_path, classifier, tf):
    from test_model_formats import _frozen_pb

    r = np.random.default_rng(1)
    w = dict(k=r.normal(0, 0.3, (3, 3, 3, 8)).astype(np.float32), b=np.zeros(8, np.float32),
             w=r.normal(0, 0.3, (8, 6)).astype(np.float32))
    pb = _frozen_pb(tf, tmp_path, w)
    clip = _clip(tmp_path / "clip.mp4", frames=5)
    with pytest.raises(FacerecError, match="was trained with model 'default'"):
        recognise_video(str(clip), classifier, model=str(pb), output=tmp_path / "o.mp4", display=False)


def _digest(path):
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


def _one_clean_line(err):
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1, err


@pytest.mark.parametrize("option, target", [
    ("--output", "source"), ("--log", "source"), ("--output", "symlink"), ("--log", "hardlink"),
    ("--output", "classifier"), ("--log", "output"),
])
def test_an_output_over_an_input_is_refused_before_any_work(tmp_path, classifier, capsys, option, target):
    import os

    clip = _clip(tmp_path / "clip.mp4", frames=12)
    before = {clip: _digest(clip), classifier: _digest(classifier)}
    argv = ["--source", str(clip), "--classifier", str(classifier), "--no-display"]
    if target == "symlink":
        os.symlink(clip, tmp_path / "link.mp4")
        path = tmp_path / "link.mp4"
    elif target == "hardlink":
        os.link(clip, tmp_path / "same.jsonl")
        path = tmp_path / "same.jsonl"
    elif target == "output":
        path = tmp_path / "annotated.mp4"
        argv += ["--output", str(path)]
    else:
        path = {"source": clip, "classifier": classifier}[target]
    rc = realtime_main(argv + [option, str(path)])
    captured = capsys.readouterr()
    assert rc == 1
    _one_clean_line(captured.err)
    assert "refusing to write over it" in captured.err and option in captured.err
    assert "Processed" not in captured.out  # refused before a frame was read
    assert {p: _digest(p) for p in before} == before
    assert not (tmp_path / "annotated.mp4").exists()


def test_log_and_video_go_into_new_folders(tmp_path, classifier, capsys):
    clip = _clip(tmp_path / "clip.mp4", frames=12)
    out, log = tmp_path / "new" / "video" / "annotated.mp4", tmp_path / "other" / "events.jsonl"
    rc = realtime_main(["--source", str(clip), "--classifier", str(classifier), "--no-display",
                        "--output", str(out), "--log", str(log)])
    assert rc == 0, capsys.readouterr().err
    assert _frames(out) == 12 and log.read_text().strip()
    assert sorted(p.name for p in out.parent.iterdir()) == ["annotated.mp4"]  # no partial file left


def test_a_log_under_a_file_is_one_clean_line(tmp_path, classifier, capsys):
    clip = _clip(tmp_path / "clip.mp4", frames=5)
    (tmp_path / "file").write_text("x")
    rc = realtime_main(["--source", str(clip), "--classifier", str(classifier), "--no-display",
                        "--log", str(tmp_path / "file" / "events.jsonl")])
    err = capsys.readouterr().err
    assert rc == 1 and "events log" in err
    _one_clean_line(err)


def test_video_is_renamed_into_place_when_whole(tmp_path, classifier, monkeypatch):
    """A run killed half-way leaves no annotated.mp4 that looks complete; one interrupted by
    the user (Ctrl-C) still leaves a playable video of what it saw."""
    import facerec.video.realtime as video

    clip = _clip(tmp_path / "clip.mp4", frames=20)
    out = tmp_path / "annotated.mp4"
    seen, draw = [], video.draw

    def draw_then_stop(frame, tracks, fps=None):
        seen.append(out.exists())
        if len(seen) == 8:
            raise KeyboardInterrupt
        draw(frame, tracks, fps)

    monkeypatch.setattr(video, "draw", draw_then_stop)
    with pytest.raises(KeyboardInterrupt):
        recognise_video(str(clip), classifier, output=out, display=False)
    assert seen and not any(seen)  # never under its own name while being written
    assert _frames(out) == 7
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


class _FakeCapture:
    """A live source that gives `frames` frames, then stops (read() is False) or, with hang,
    blocks in read() for that many seconds first, as a dead stream does until its backend's own
    time-out."""

    def __init__(self, frames, hang=0.0):
        self.frames, self.hang, self.reads = frames, hang, 0
        self.released, self.released_while_reading = False, False
        self.reading = False
        import threading

        self.unblock = threading.Event()
        self.image = np.full((120, 160, 3), 30, np.uint8)

    def __call__(self, *args):  # stands in for cv2.VideoCapture
        return self

    def isOpened(self):
        return True

    def get(self, prop):
        import cv2

        return {cv2.CAP_PROP_FPS: 25.0, cv2.CAP_PROP_FRAME_WIDTH: 160, cv2.CAP_PROP_FRAME_HEIGHT: 120}.get(prop, 0.0)

    def read(self):
        self.reads += 1
        if self.reads > self.frames:
            if self.hang:
                self.reading = True
                self.unblock.wait(self.hang)
                self.reading = False
            return False, None
        return True, self.image.copy()

    def release(self):
        self.released = True
        self.released_while_reading |= self.reading


@pytest.fixture
def fake_camera(monkeypatch):
    import cv2

    made = []

    def install(frames, hang=0.0):
        cap = _FakeCapture(frames, hang)
        monkeypatch.setattr(cv2, "VideoCapture", cap)
        made.append(cap)
        return cap

    yield install
    for cap in made:
        cap.unblock.set()


def test_a_live_source_that_stops_is_a_failure(classifier, fake_camera, capsys):
    fake_camera(6)
    rc = realtime_main(["--source", "rtsp://camera.invalid/live", "--classifier", str(classifier), "--no-display"])
    captured = capsys.readouterr()
    assert rc == 1
    _one_clean_line(captured.err)
    assert "source rtsp://camera.invalid/live stopped delivering frames after 6 frames (" in captured.err
    assert "Processed 6 frames" in captured.out  # what was seen is still reported


def test_a_live_source_stopped_by_max_frames_is_fine(classifier, fake_camera, capsys):
    fake_camera(6)
    rc = realtime_main(["--source", "0", "--classifier", str(classifier), "--no-display", "--max-frames", "4"])
    assert rc == 0, capsys.readouterr().err


def test_a_source_that_hangs_times_out(classifier, fake_camera, capsys):
    import time

    cap = fake_camera(3, hang=1.5)
    t = time.perf_counter()
    rc = realtime_main(["--source", "0", "--classifier", str(classifier), "--no-display", "--read-timeout", "0.5"])
    took = time.perf_counter() - t
    captured = capsys.readouterr()
    assert rc == 1 and took < 8
    _one_clean_line(captured.err)
    assert "source 0 stopped delivering frames after 3 frames" in captured.err and "0.5 s" in captured.err
    # the reader is let finish its read, and the capture is not pulled from under it
    assert cap.released and not cap.released_while_reading


def test_a_truncated_file_is_a_failure_a_whole_one_is_not(tmp_path, classifier, capsys):
    clip = _clip(tmp_path / "clip.avi", frames=40, fourcc="MJPG")
    data = clip.read_bytes()
    (tmp_path / "broken.avi").write_bytes(data[: len(data) // 2])
    assert realtime_main(["--source", str(clip), "--classifier", str(classifier), "--no-display"]) == 0
    capsys.readouterr()
    rc = realtime_main(["--source", str(tmp_path / "broken.avi"), "--classifier", str(classifier), "--no-display"])
    err = capsys.readouterr().err
    assert rc == 1 and "ended after 20 of its 40 frames (truncated or damaged)" in err
    _one_clean_line(err)
