"""A disk that fills up (issue 23, findings 4 and 10): every command that writes ends with one line
and a non-zero exit, and nothing of the user's is lost: the gallery, an older video and the
photos are as they were.  The disk is a file-size limit on the command's process (RLIMIT_FSIZE,
writes past it fail with EFBIG as a full disk's fail with ENOSPC), which needs no mounting."""
import hashlib
import shutil
import subprocess
import sys

import pytest

from faces import sample

resource = pytest.importorskip("resource")
pytestmark = pytest.mark.slow


def _full_disk():
    import signal

    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails instead of killing
    resource.setrlimit(resource.RLIMIT_FSIZE, (64, 64))


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    from facerec import load_image
    from facerec.demo import render_clip
    from facerec.identity.enrolment import enrol_people
    from facerec.identity.gallery import Gallery
    from facerec.embedding import load_embedder
    from facerec.samples import find

    sample("obama.jpg")
    root = tmp_path_factory.mktemp("full-disk")
    for person, photo in (("Obama", "obama.jpg"), ("Biden", "biden.jpg")):
        (root / "people" / person).mkdir(parents=True)
        shutil.copy(find() / photo, root / "people" / person / photo)
    (root / "photos").mkdir()
    shutil.copy(find() / "obama2.jpg", root / "photos" / "obama2.jpg")
    emb = load_embedder("default")
    g = Gallery.for_embedder(emb)
    enrol_people(g, emb, [("Obama", [root / "people/Obama/obama.jpg"])], progress=False)
    g.save(root / "g.npz")
    render_clip([load_image(find() / "obama3.jpg")], root / "clip.mp4")
    (root / "old.mp4").write_bytes(b"\x00\x00\x00\x1cftypisom an older video")  # a video: one it may replace
    _lfw_named(root / "lfw")
    (root / "pairs.txt").write_text("2\t1\nAnn\t1\t2\nBob\t2\tCyd\t2\nCyd\t1\t2\nAnn\t2\tDee\t1\n")
    (root / "served").mkdir()
    (root / "served" / "lfw.tgz").write_bytes(bytes(range(256)) * 400)
    (root / "events.jsonl").write_text('{"an": "older event"}\n')
    subprocess.run([sys.executable, "-m", "facerec", "classify", "TRAIN", "people", "default", "c.npz"], cwd=root,
                   check=True, capture_output=True)
    return root


def _lfw_named(folder):
    """Four people named as LFW names them (pairs and validate read only names of that form)."""
    from facerec.samples import find

    for person, photos in (("Ann", ["obama.jpg", "obama2.jpg"]), ("Bob", ["biden.jpg", "obama3.jpg"]),
                           ("Cyd", ["obama2.jpg", "obama3.jpg"]), ("Dee", ["biden.jpg", "obama.jpg"])):
        (folder / person).mkdir(parents=True)
        for i, photo in enumerate(photos, 1):
            shutil.copy(find() / photo, folder / person / f"{person}_{i:04d}.jpg")


COMMANDS = {
    "enrol": ["enrol", "g.npz", "people"],
    "forget": ["forget", "g.npz", "Obama"],
    "identify -o": ["identify", "g.npz", "photos", "-o", "out/r.csv"],
    "identify --html": ["identify", "g.npz", "photos", "--html", "out/r.html"],
    "identify --report": ["identify", "g.npz", "photos", "--report", "out/report"],
    "cluster -o": ["cluster", "photos", "-o", "out/c.csv"],
    "cluster --html": ["cluster", "photos", "--html", "out/c.html"],
    "classify CLASSIFY --output": ["classify", "CLASSIFY", "people", "default", "c.npz", "--output", "out/r.csv"],
    "classify CLASSIFY --report": ["classify", "CLASSIFY", "people", "default", "c.npz", "--report", "out/rep"],
    "identify --sort-into --copy": ["identify", "g.npz", "photos", "--sort-into", "out/sorted", "--copy"],
    "cluster --sort-into --copy": ["cluster", "photos", "--sort-into", "out/sorted", "--copy"],
    "embed": ["embed", "photos", "-o", "out/f.parquet"],
    "realtime --log": ["realtime", "--classifier", "g.npz", "--source", "clip.mp4", "--no-display", "--log", "out/e.jsonl"],
    "realtime --output": ["realtime", "--classifier", "g.npz", "--source", "clip.mp4", "--no-display", "--output", "old.mp4"],
    "align": ["align", "people", "out/aligned"],
    "classify TRAIN": ["classify", "TRAIN", "people", "default", "out/c.npz"],
    "calibrate": ["calibrate", "default", "people", "--output", "out/cal.json"],
    "pairs": ["pairs", "lfw", "out/pairs.txt", "--folds", "2", "--per_fold", "2"],
    "validate --roc": ["validate", "lfw", "default", "--lfw_pairs", "pairs.txt", "--lfw_nrof_folds", "2",
                       "--roc", "out/roc.png"],
    "demo": ["demo", "--out", "out/demo"],
}


def _digests(root):
    return {p.relative_to(root): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in root.rglob("*") if p.is_file() and "out" not in p.parts and not p.name.startswith(".")}


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_a_full_disk_is_one_line_a_non_zero_exit_and_nothing_lost(world, name):
    before = _digests(world)
    p = subprocess.run([sys.executable, "-m", "facerec", *COMMANDS[name]], cwd=world, capture_output=True,
                       text=True, timeout=600, preexec_fn=_full_disk)
    err = p.stderr.strip().splitlines()
    assert p.returncode != 0 and len(err) == 1 and "Traceback" not in p.stderr, p.stderr[-2000:]
    assert any(f"cannot {what}" in err[0] for what in ("write", "copy", "sort photos into")), err
    assert _digests(world) == before
    shutil.rmtree(world / "out", ignore_errors=True)


def test_download_on_a_full_disk_keeps_what_came_for_the_rerun(world):
    import http.server
    import threading
    from functools import partial

    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(world / "served"))
    handler.log_message = lambda *_: None
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{httpd.server_address[1]}/lfw.tgz"
    before = _digests(world)
    try:
        p = subprocess.run([sys.executable, "-m", "facerec", "download", "lfw", "--root", "out", "--url", url,
                            "--sha256", hashlib.sha256((world / "served/lfw.tgz").read_bytes()).hexdigest()],
                           cwd=world, capture_output=True, text=True, timeout=120, preexec_fn=_full_disk)
    finally:
        httpd.shutdown()
        httpd.server_close()
    err = p.stderr.strip().splitlines()
    assert p.returncode != 0 and len(err) == 1 and "Traceback" not in p.stderr, p.stderr[-2000:]
    assert err[0].startswith("facerec: error: cannot write") and "run the same command again" in err[0], err
    assert _digests(world) == before and not (world / "out/datasets/lfw").exists()
    shutil.rmtree(world / "out", ignore_errors=True)


def test_serve_events_on_a_full_disk_is_said_and_keeps_the_older_events(world):
    """The service keeps answering while its events log cannot be written (/healthz says why), and
    says it in one line with a non-zero exit when it stops; the log's older events stay."""
    import json
    import signal
    import socket
    import time
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    before = (world / "events.jsonl").read_text()
    p = subprocess.Popen([sys.executable, "-m", "facerec", "serve", "--gallery", "g.npz", "--camera",
                          "door=clip.mp4", "--events", "events.jsonl", "--port", str(port), "--no-access-log"],
                         cwd=world, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         preexec_fn=_full_disk)
    try:
        log, deadline = {}, time.monotonic() + 240
        while not log.get("error") and time.monotonic() < deadline and p.poll() is None:
            time.sleep(0.5)
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as r:
                    log = json.load(r)["events"].get("log", {})
            except OSError:
                continue
        assert log.get("error"), log
        p.send_signal(signal.SIGINT)
        _, stderr = p.communicate(timeout=60)
    finally:
        if p.poll() is None:
            p.kill()
    errors = [line for line in stderr.splitlines() if "error" in line.lower()]
    assert p.returncode != 0 and "Traceback" not in stderr, stderr[-2000:]
    assert len(errors) == 1 and errors[0].startswith("facerec: error: cannot write events.jsonl"), stderr[-2000:]
    assert (world / "events.jsonl").read_text().startswith(before)


@pytest.mark.parametrize("command", [["identify", "g.npz", "photos"], ["cluster", "photos"]])
def test_sorting_links_on_a_full_disk_is_one_line(world, command, monkeypatch, capsys):
    """Links hold no bytes, so the file-size limit cannot fill the disk for them: the link call
    itself fails as a full disk's would (ENOSPC)."""
    import errno
    import os

    from facerec.cli import main

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(args[-1]))

    monkeypatch.chdir(world)
    monkeypatch.setattr(os, "symlink", full)
    before = _digests(world)
    assert main([*command, "--sort-into", "out/sorted"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "cannot sort photos into out/sorted" in err[0] and "No space left" in err[0], err
    assert _digests(world) == before
    shutil.rmtree(world / "out", ignore_errors=True)
