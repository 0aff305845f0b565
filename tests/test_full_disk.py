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
    (root / "old.mp4").write_bytes(b"an older video")
    return root


COMMANDS = {
    "enrol": ["enrol", "g.npz", "people"],
    "forget": ["forget", "g.npz", "Obama"],
    "identify -o": ["identify", "g.npz", "photos", "-o", "out/r.csv"],
    "identify --html": ["identify", "g.npz", "photos", "--html", "out/r.html"],
    "identify --report": ["identify", "g.npz", "photos", "--report", "out/report"],
    "cluster -o": ["cluster", "photos", "-o", "out/c.csv"],
    "embed": ["embed", "photos", "-o", "out/f.parquet"],
    "realtime --log": ["realtime", "--classifier", "g.npz", "--source", "clip.mp4", "--no-display", "--log", "out/e.jsonl"],
    "realtime --output": ["realtime", "--classifier", "g.npz", "--source", "clip.mp4", "--no-display", "--output", "old.mp4"],
    "align": ["align", "people", "out/aligned"],
    "classify TRAIN": ["classify", "TRAIN", "people", "default", "out/c.npz"],
    "calibrate": ["calibrate", "default", "people", "--output", "out/cal.json"],
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
    assert "cannot write" in err[0] or "could not be written" in err[0], err
    assert _digests(world) == before
    shutil.rmtree(world / "out", ignore_errors=True)
