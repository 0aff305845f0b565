"""The facerec command: one line on stderr and a non-zero exit for bad input, never a traceback."""
import json
import subprocess
import sys

import numpy as np
import pytest


def _run(*args):
    return subprocess.run([sys.executable, "-m", "facerec", *args], capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("args, message", [
    (["model", "/no/such/model.pb"], "no such model file"),
    (["model", "default", "--standardization", "prewhiten"], "is for FaceNet's models"),
    (["download", "lfw", "--url", "http://127.0.0.1:9/lfw.tgz"], "download of"),
])
def test_errors_are_one_line(args, message, tmp_path):
    if args[0] == "download":
        args = args + ["--root", str(tmp_path)]
    p = _run(*args)
    assert p.returncode == 1
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0] and lines[0].startswith("facerec: error:")
    assert "Traceback" not in p.stderr


@pytest.mark.slow
def test_text_file_as_model(tmp_path):
    bad = tmp_path / "model.pb"
    bad.write_text("not a graph")
    p = _run("model", str(bad))
    assert p.returncode == 1 and "Traceback" not in p.stderr
    assert str(bad) in p.stderr and "frozen graph" in p.stderr


def test_model_describes_the_default():
    p = _run("model", "default")
    assert p.returncode == 0, p.stderr
    assert "dlib-resnet-v1" in p.stdout and "150x150" in p.stdout and "128-d" in p.stdout
    assert "checked by dlib's detector and BlazeFace" in p.stdout  # make install fetched its weights
    assert "same person:     within 0.42 (what verify decides by)" in p.stdout


def _subcommands():
    from facerec.cli import build_parser

    sub = next(a for a in build_parser()._actions if a.dest == "command")
    return sorted(sub.choices)


def test_every_subcommand_and_script_has_help():
    from conftest import REPO

    names = _subcommands()
    assert {"align", "classify", "realtime", "validate", "verify", "download", "pairs", "model", "demo"} <= set(names)
    for name in names:
        p = _run(name, "--help")
        assert p.returncode == 0 and p.stdout.startswith(f"usage: facerec {name}"), (name, p.stderr)
    for script in ("align/align_dataset.py", "classify/classifier.py", "realtime/real_time_face_recognition.py"):
        p = subprocess.run([sys.executable, str(REPO / script), "--help"], capture_output=True, text=True, timeout=120)
        assert p.returncode == 0 and p.stdout.startswith("usage:"), (script, p.stderr)


def test_progress_lines_when_not_a_terminal(capsys):
    from facerec.progress import progress

    bar = progress(3, "Faces", every=0.0)
    for _ in range(3):
        bar.update()
    bar.close()
    lines = capsys.readouterr().err.splitlines()
    assert lines[0].startswith("Faces: 1/3 img (33%)") and lines[2].startswith("Faces: 3/3 img (100%)")


@pytest.fixture(scope="module")
def obama_biden(tmp_path_factory):
    """A classifier trained on face_recognition's sample photos, and a clip of photos it did not see."""
    from faces import astronaut
    from facerec import load_image, train_classifier
    from facerec.demo import render_clip
    from facerec.samples import find

    src = find()
    if src is None:
        pytest.skip("face_recognition sample photos not fetched (run: python -m facerec.samples)")
    root = tmp_path_factory.mktemp("people")
    for person, photos in (("Barack_Obama", ["obama.jpg", "obama2.jpg"]), ("Joe_Biden", ["biden.jpg"])):
        (root / "people" / person).mkdir(parents=True)
        for p in photos:
            (root / "people" / person / p).write_bytes((src / p).read_bytes())
    train_classifier(root / "people").save(root / "people.npz")
    render_clip([load_image(src / "obama3.jpg"), astronaut()], root / "clip.mp4", seconds_each=1.0)
    return root


@pytest.mark.slow
def test_realtime_options_in_any_order_and_no_display(obama_biden, tmp_path):
    import json
    import os

    clf, clip, log = obama_biden / "people.npz", obama_biden / "clip.mp4", tmp_path / "events.jsonl"
    p = _run("realtime", "--no-display", "--log", str(log), "--source", str(clip), "--classifier", str(clf))
    assert p.returncode == 0, p.stderr
    assert "Processed 30 frames" in p.stdout
    assert "Barack_Obama" in {json.loads(line)["name"] for line in log.read_text().splitlines()}
    # Without --no-display on a machine with no display: a one-line note, not an abort.
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    p = subprocess.run([sys.executable, "-m", "facerec", "realtime", "--classifier", str(clf), "--source", str(clip),
                        "--max-frames", "5"], capture_output=True, text=True, timeout=300, env=env)
    assert p.returncode == 0, p.stderr
    assert p.stderr.strip() == "facerec realtime: note: no display found: running without a window"


def test_verify_prints_the_answer_its_chance_and_the_distance():
    from facerec.samples import find

    src = find()
    if src is None:
        pytest.skip("face_recognition sample photos not fetched (run: python -m facerec.samples)")
    same = _run("verify", str(src / "obama.jpg"), str(src / "obama2.jpg"))
    other = _run("verify", str(src / "obama.jpg"), str(src / "biden.jpg"))
    assert same.returncode == 0 and other.returncode == 0, same.stderr + other.stderr
    assert same.stdout.startswith("same:         yes") and other.stdout.startswith("same:         no")
    assert "max distance: 0.4200" in same.stdout and same.stderr == "" and other.stderr == ""
    assert float(same.stdout.split("probability:")[1].split()[0]) > 0.99  # a clear answer, sure of itself
    as_json = json.loads(_run("verify", str(src / "obama.jpg"), str(src / "biden.jpg"), "--json").stdout)
    assert as_json["same"] is False and as_json["distance"] > as_json["max_distance"] == 0.42
    strict = _run("verify", str(src / "obama.jpg"), str(src / "obama2.jpg"), "--threshold", "1")
    assert strict.stdout.startswith("same:         no") and "threshold:    1 (" in strict.stdout
    old = _run("verify", str(src / "obama.jpg"), str(src / "biden.jpg"), "--threshold", "0.42")  # a distance, once
    assert old.returncode == 0 and "a distance is --max-distance" in old.stderr
    both = _run("verify", str(src / "obama.jpg"), str(src / "obama2.jpg"), "--threshold", "0.5", "--max-distance", "1")
    assert both.returncode != 0 and both.stderr.count("\n") == 1 and both.stdout == ""
    bad = _run("verify", str(src / "obama.jpg"), "/no/such.jpg")
    assert bad.returncode == 1 and bad.stderr.count("\n") == 1 and "/no/such.jpg" in bad.stderr


@pytest.mark.slow
def test_no_tensorflow_chatter_while_building_the_cache(obama_biden, tmp_path):
    """A first TRAIN on a fresh cache converts MTCNN and the default model: nothing but our lines.
    Progress lines (every 10 s when piped, so only on a slow or busy machine) are turned off, so
    what the test sees does not depend on how long the run takes."""
    import os

    env = dict(os.environ, FACEREC_CACHE=str(tmp_path / "fresh-cache"), FACEREC_PROGRESS_EVERY="inf")
    p = subprocess.run([sys.executable, "-m", "facerec", "classify", "TRAIN", str(obama_biden / "people"), "default",
                        str(tmp_path / "c.npz")], capture_output=True, text=True, timeout=600, env=env)
    assert p.returncode == 0, p.stderr
    assert p.stderr == ""
    ours = ("Number of classes", "Number of images", "Loading feature", "Calculating features", "Training classifier",
            "Unknown rule", "Expected:", "Saved classifier model")
    lines = p.stdout.splitlines()
    assert lines[0] == "Number of classes: 2" and all(line.startswith(ours) for line in lines), p.stdout


def test_calibrate_writes_its_figures(obama_biden, tmp_path):
    from facerec.identity.openset import DistanceStats

    out = tmp_path / "cal.json"
    p = _run("calibrate", "default", str(obama_biden / "people"), "--output", str(out))
    assert p.returncode == 0, p.stderr
    assert "3 faces of 2 people; 2 different-person pairs, 1 same-person pair" in p.stdout
    assert DistanceStats.from_json(out.read_text()).identities == 2
    # Two pairs cannot place a 1% quantile: every distance is marked a guess, and said why.
    rows = [line for line in p.stdout.splitlines() if line.strip()[:1].isdigit() and "faces of" not in line]
    assert len(rows) == 8 and all(row.endswith("  *") for row in rows)
    assert "a guess; measure more people to make it firm (2 people now)" in p.stdout


def test_calibration_distances_rest_on_enough_pairs_or_are_guesses():
    from facerec.identity.openset import DistanceStats, GRID

    cdf = np.clip(GRID / 2, 0, 1)
    stats = DistanceStats(model="m", impostor_cdf=cdf, genuine_cdf=cdf, impostor_pairs=100_000, genuine_pairs=10,
                          identities=500, faces=1000)
    assert stats.pairs_behind(1) == pytest.approx(1000) and stats.pairs_behind(10_000) < 10


def test_enrol_says_the_floor_masked_faces_are_named_by(obama_biden, tmp_path):
    """A masked face is named by the gallery's masked side, whose default floor is its own (its
    strangers come closer): enrol says both, so a masked face Unknown at 0.7 is no surprise."""
    p = _run("enrol", str(tmp_path / "g.npz"), str(obama_biden / "people"))
    assert p.returncode == 0, p.stderr
    bare = float(p.stdout.split("is at least ")[1].split()[0])
    masked = float(p.stdout.split("A masked face: at least ")[1].split()[0])
    assert masked > bare >= 0.5 and "expected masked strangers named" in p.stdout

