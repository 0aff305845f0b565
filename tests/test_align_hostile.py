"""align_dataset.py against odd names, bombs, a full disk and SIGKILL (issue 14, findings 4, 5, 7)."""
import errno
import os
import random
import signal
import struct
import subprocess
import sys
import time
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from conftest import REPO
from faces import astronaut, face_crop_of_astronaut
from facerec import FacerecError
from facerec.batch.align_dataset import FAILURES_FILE, align_dataset
from facerec.cli.align import main as align_main
from facerec.images import UnreadableImage, load_image

NOT_UTF8 = os.fsdecode(b"caf\xe9 photo.jpg")
NEWLINE = "two\nlines.jpg"


def _jpeg(path, rgb):
    Image.fromarray(rgb).save(path, "JPEG", quality=90)


def _png_claiming(path, width, height):
    """A tiny PNG whose header claims width x height: what a decompression bomb looks like up front."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64))
                     + chunk(b"IEND", b""))


def test_pixel_limit_is_enforced_before_decoding(tmp_path):
    import tracemalloc

    _png_claiming(tmp_path / "bomb.png", 20000, 20000)  # 400 megapixels in 100 bytes
    tracemalloc.start()
    try:
        with pytest.raises(UnreadableImage, match="too large .*not decoded"):
            load_image(tmp_path / "bomb.png")
        assert tracemalloc.get_traced_memory()[1] < 20 << 20
    finally:
        tracemalloc.stop()


@pytest.fixture(scope="module")
def odd_folder(tmp_path_factory):
    root = tmp_path_factory.mktemp("odd")
    d = root / "Eileen"
    d.mkdir()
    face = face_crop_of_astronaut()
    _jpeg(d / "x.jpg", face)
    Image.fromarray(face[:, ::-1].copy()).save(d / "x.png")  # same stem, another photo
    _jpeg(d / NOT_UTF8, face)
    _jpeg(d / NEWLINE, face)
    _png_claiming(d / "bomb.png", 20000, 20000)
    os.symlink(d / "gone.jpg", d / "dangling.jpg")
    os.symlink(d / "loop.jpg", d / "loop.jpg")
    return root


@pytest.fixture(scope="module")
def odd_aligned(odd_folder, tmp_path_factory):
    out = tmp_path_factory.mktemp("odd-out")
    return out, align_dataset(odd_folder, out, workers=1, progress=False)


def test_same_stem_photos_each_get_their_crop(odd_aligned):
    out, summary = odd_aligned
    a, b = out / "Eileen" / "x_jpg.png", out / "Eileen" / "x_png.png"
    assert a.exists() and b.exists() and a.read_bytes() != b.read_bytes()
    assert not (out / "Eileen" / "x.png").exists()


def test_odd_names_are_aligned_and_written_as_one_escaped_line(odd_aligned):
    out, summary = odd_aligned
    assert (out / "Eileen" / (Path(NOT_UTF8).stem + ".png")).exists()
    assert (out / "Eileen" / "two\nlines.png").exists()
    (bb,) = out.glob("bounding_boxes_*.txt")
    text = bb.read_bytes().decode("utf-8")  # valid UTF-8 throughout
    lines = text.splitlines()
    assert len(lines) == summary.images  # one record per photo: the newline did not split one
    assert any("caf\\xe9 photo.png" in line for line in lines)
    assert any("two\\nlines.png" in line for line in lines)


def test_bombs_and_broken_links_are_listed_not_dropped(odd_aligned):
    out, summary = odd_aligned
    failures = (out / FAILURES_FILE).read_text(encoding="utf-8")
    listed = {Path(line.split("\t")[0]).name: line.split("\t")[1] for line in failures.splitlines()}
    assert "too large" in listed["bomb.png"]
    assert "leads nowhere" in listed["dangling.jpg"]
    assert "loops" in listed["loop.jpg"]
    assert summary.aligned_images == 4 and summary.faces == 4


def test_rerun_over_odd_names_skips_everything(odd_folder, odd_aligned):
    out, _ = odd_aligned
    again = align_dataset(odd_folder, out, workers=1, progress=False)
    assert again.skipped == again.aligned_images == 4
    latest = max(out.glob("bounding_boxes_*.txt"), key=lambda p: p.stat().st_mtime_ns)
    boxes = [line for line in latest.read_text(encoding="utf-8").splitlines() if len(line.split()) >= 5]
    assert len(boxes) == 4  # skipped crops are recorded again, with their boxes


def test_the_cli_prints_odd_names_without_stopping(odd_folder, tmp_path):
    p = subprocess.run([sys.executable, str(REPO / "align" / "align_dataset.py"), str(odd_folder),
                        str(tmp_path / "out"), "--workers", "1"], capture_output=True, timeout=600)
    assert p.returncode == 0, p.stderr.decode(errors="replace")
    assert b"Traceback" not in p.stderr


def test_a_full_disk_stops_with_one_line(tmp_path, monkeypatch, capsys):
    import facerec.files

    src = tmp_path / "in" / "Eileen"
    src.mkdir(parents=True)
    _jpeg(src / "a.jpg", face_crop_of_astronaut())

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(facerec.files, "atomic_write_bytes", full)
    with pytest.raises(FacerecError, match="No space left on device.*rerun continues"):
        align_dataset(tmp_path / "in", tmp_path / "out", workers=1, progress=False)
    assert align_main([str(tmp_path / "in"), str(tmp_path / "out2"), "--workers", "1"]) == 1
    err = capsys.readouterr().err
    assert "No space left on device" in err and len(err.strip().splitlines()) == 1


# --- interruption ----------------------------------------------------------------------------------

def _two_hundred_photos(root: Path) -> None:
    """200 distinct photos: the astronaut moved, scaled, mirrored and relit, and a few with no face."""
    import cv2

    rng = np.random.default_rng(7)
    base = astronaut()
    for i in range(200):
        person = root / f"person{i % 8}"
        person.mkdir(parents=True, exist_ok=True)
        if i % 25 == 24:
            img = np.full((240, 320, 3), rng.integers(40, 200), np.uint8)  # no face here
        else:
            s = rng.uniform(0.45, 0.7)
            img = cv2.resize(base, None, fx=s, fy=s, interpolation=cv2.INTER_AREA)
            img = np.roll(img, int(rng.integers(-30, 30)), axis=1)
            img = np.clip(img * rng.uniform(0.7, 1.2), 0, 255).astype(np.uint8)
            if i % 2:
                img = img[:, ::-1].copy()
        _jpeg(person / f"photo{i:03d}.jpg", img)


def _state(out: Path) -> dict:
    """Every output file's bytes by relative path; bounding_boxes records as a sorted list."""
    files = {}
    for p in sorted(out.rglob("*")):
        if p.is_file() and not p.name.startswith("bounding_boxes_"):
            files[str(p.relative_to(out))] = p.read_bytes()
    return files


def _records(path: Path, out: Path) -> list:
    return sorted(line.replace(str(out), "OUT") for line in path.read_text(encoding="utf-8").splitlines())


def _run(src, out):
    return subprocess.Popen([sys.executable, str(REPO / "align" / "align_dataset.py"), str(src), str(out),
                             "--workers", "2"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)


@pytest.mark.slow
def test_sigkill_at_five_moments_then_rerun_equals_an_uninterrupted_run(tmp_path):
    src = tmp_path / "photos"
    _two_hundred_photos(src)
    whole = tmp_path / "whole"
    t = time.perf_counter()
    p = _run(src, whole)
    _, err = p.communicate(timeout=600)
    took = time.perf_counter() - t
    assert p.returncode == 0, err.decode()
    (bb_whole,) = whole.glob("bounding_boxes_*.txt")
    expected_records = _records(bb_whole, whole)
    assert len(expected_records) == 200

    out = tmp_path / "killed"
    rng = random.Random(14)
    for moment in sorted(rng.uniform(0.2, 1.0) * took for _ in range(5)):
        p = _run(src, out)
        time.sleep(moment)
        os.killpg(p.pid, signal.SIGKILL)  # the script and its workers, without warning
        p.communicate()
    p = _run(src, out)
    _, err = p.communicate(timeout=600)
    assert p.returncode == 0, err.decode()

    assert _state(out) == _state(whole)  # crops, sidecars and align_failures.txt, byte for byte
    files = sorted(out.glob("bounding_boxes_*.txt"), key=lambda f: f.stat().st_mtime_ns)
    assert _records(files[-1], out) == expected_records
    for f in files:  # what the killed runs recorded is right as far as it goes
        assert set(_records(f, out)) <= set(expected_records)


def test_a_really_full_disk_with_two_workers(tmp_path):
    """The same through the worker processes, on a 300 KB tmpfs (needs root; skipped otherwise)."""
    mnt = tmp_path / "tiny"
    mnt.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=300k", "tmpfs", str(mnt)],
                      capture_output=True).returncode != 0:
        pytest.skip("cannot mount a small tmpfs here (not root)")
    try:
        src = tmp_path / "in" / "Eileen"
        src.mkdir(parents=True)
        for i in range(40):
            _jpeg(src / f"p{i}.jpg", np.roll(astronaut(), i * 3, axis=1))
        p = subprocess.run([sys.executable, str(REPO / "align" / "align_dataset.py"), str(tmp_path / "in"),
                            str(mnt / "out"), "--workers", "2"], capture_output=True, text=True, timeout=600)
        assert p.returncode == 1
        assert "No space left on device" in p.stderr and "Traceback" not in p.stderr
        assert not list((mnt / "out").rglob("*.tmp"))  # no half-written crop left behind
    finally:
        subprocess.run(["umount", str(mnt)])


def test_ctrl_c_says_so_in_one_line_and_keeps_the_failures_list(tmp_path):
    src = tmp_path / "in" / "Eileen"
    src.mkdir(parents=True)
    for i in range(60):
        _jpeg(src / f"p{i}.jpg", np.roll(astronaut(), i * 3, axis=1))
    _jpeg(src / "wall.jpg", np.full((200, 300, 3), 90, np.uint8))  # no face: a failure to list
    out = tmp_path / "out"
    # A cache of its own: with these photos' faces cached from an earlier run the whole job ends
    # before three crops are seen, and there is nothing left to interrupt.
    p = subprocess.Popen([sys.executable, str(REPO / "align" / "align_dataset.py"), str(tmp_path / "in"),
                          str(out), "--workers", "2"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         start_new_session=True, env={**os.environ, "FACEREC_CACHE": str(tmp_path / "cache")})
    deadline = time.time() + 300
    while len(list(out.glob("Eileen/*.png"))) < 3 and time.time() < deadline and p.poll() is None:
        time.sleep(0.05)
    os.killpg(p.pid, signal.SIGINT)  # what Ctrl-C sends to the whole foreground group
    _, err = p.communicate(timeout=120)
    assert p.returncode == 130, err.decode()
    assert err.decode().strip().splitlines()[-1].endswith("interrupted") and b"Traceback" not in err
    assert (out / FAILURES_FILE).exists() and not list(out.rglob("*.tmp"))
