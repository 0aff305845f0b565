"""align/align_dataset.py on a folder holding everything real photo folders throw at it."""
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from conftest import REPO
from faces import astronaut
from facerec.batch.align_dataset import FAILURES_FILE, align_dataset
from facerec.people_folders import read_sidecar
from facerec.cli.align import main as align_main

GOOD = "Eileen Collins"
UNICODE = "José María Ñúñez"


def _jpeg(path, rgb, **kw):
    Image.fromarray(rgb).save(path, "JPEG", quality=92, **kw)


@pytest.fixture(scope="module")
def messy_folder(tmp_path_factory):
    import cv2

    root = tmp_path_factory.mktemp("people")
    face = astronaut()
    good, uni, broken = root / GOOD, root / UNICODE, root / "Broken"
    for d in (good, uni, broken, root / "Empty"):
        d.mkdir()
    _jpeg(good / "astronaut.jpg", face)
    Image.fromarray(face).convert("L").save(good / "gray.png")
    rgba = np.dstack([face, np.full(face.shape[:2], 255, np.uint8)])
    rgba[:40, :, 3] = 0  # a transparent strip
    Image.fromarray(rgba, "RGBA").save(good / "rgba.png")
    Image.fromarray(face).convert("P", palette=Image.ADAPTIVE, colors=256).save(good / "palette.png")
    Image.fromarray(face).convert("CMYK").save(good / "cmyk.jpg", "JPEG", quality=92)
    deep = (np.asarray(Image.fromarray(face).convert("L"), np.uint16) * 257)
    Image.fromarray(deep).save(good / "deep16.png")  # mode I;16
    # Stored rotated, with the EXIF tag that tells viewers to turn it upright (orientation 6:
    # rotate 90 degrees clockwise to display).
    exif = Image.Exif()
    exif[0x0112] = 6
    _jpeg(good / "rotated.jpg", np.rot90(face, k=1).copy(), exif=exif)
    # A 105-megapixel photo.
    huge = cv2.resize(face, (10240, 10240), interpolation=cv2.INTER_LINEAR)
    ok, buf = cv2.imencode(".jpg", huge[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, 80])
    (good / "huge 105MP.jpg").write_bytes(buf.tobytes())
    del huge
    _jpeg(uni / "foto 1 ñ.jpg", face)
    data = (good / "astronaut.jpg").read_bytes()
    (broken / "truncated.jpg").write_bytes(data[: len(data) // 3])
    (broken / "text.jpg").write_text("this is not a photo\n")
    (broken / "zero.jpg").write_bytes(b"")
    _jpeg(broken / "noface.jpg", np.full((300, 400, 3), 90, np.uint8))
    (broken / "notes.txt").write_text("shopping list")
    (broken / ".DS_Store").write_bytes(b"\0\1\2")
    (good / ".hidden.jpg").write_bytes(data)
    return root


GOOD_FILES = ["astronaut", "gray", "rgba", "palette", "cmyk", "deep16", "rotated", "huge 105MP"]
BAD = {"truncated.jpg": "truncated", "text.jpg": "not an image", "zero.jpg": "empty file",
       "noface.jpg": "no face", "notes.txt": "not an image file"}


@pytest.fixture(scope="module")
def aligned(messy_folder, tmp_path_factory):
    out = tmp_path_factory.mktemp("aligned")
    summary = align_dataset(messy_folder, out, workers=1)
    return out, summary


@pytest.mark.slow
def test_every_good_image_is_aligned(aligned):
    from facerec.detection import MTCNN

    out, summary = aligned
    assert summary.images == len(GOOD_FILES) + 1 + 4  # + unicode one + 4 broken with image names
    assert summary.aligned_images == len(GOOD_FILES) + 1
    det = MTCNN()
    crops = [out / GOOD / f"{n}.png" for n in GOOD_FILES] + [out / UNICODE / "foto 1 ñ.png"]
    for crop in crops:
        assert crop.exists(), crop
        img = np.asarray(Image.open(crop).convert("RGB"))
        assert img.shape == (160, 160, 3)
        side = read_sidecar(crop)
        lm = np.asarray(side["landmarks"])
        # the crop really holds an upright face where the sidecar says
        found = det.detect(img)
        assert len(found) >= 1, crop
        j = int(np.argmin(np.linalg.norm(found.landmarks.mean(1) - lm.mean(0), axis=1)))
        assert np.abs(found.landmarks[j] - lm).mean() < 6, crop
        assert lm[0, 1] < lm[3, 1] and lm[1, 1] < lm[4, 1], f"{crop}: face is not upright"


def test_huge_photo_is_cropped_from_the_original(aligned):
    out, _ = aligned
    side = read_sidecar(out / GOOD / "huge 105MP.png")
    assert side["source_size"] == [10240, 10240]
    x1, y1, x2, y2 = side["crop_region"]
    assert x2 - x1 > 1000  # in the original's pixels (the face is ~1700 px wide there, ~270 at 1600 px)


def test_every_bad_file_is_listed_with_its_reason(aligned):
    out, summary = aligned
    lines = (out / FAILURES_FILE).read_text().strip().splitlines()
    listed = {Path(line.split("\t")[0]).name: line.split("\t")[1] for line in lines}
    assert set(listed) == set(BAD)
    for name, why in BAD.items():
        assert why in listed[name], (name, listed[name])
    assert len(summary.no_face) == 1 and len(summary.unreadable) == 4
    # hidden files are neither aligned nor reported; an empty class folder is fine
    assert not (out / GOOD / ".hidden.png").exists()
    bb = list(out.glob("bounding_boxes_*.txt"))
    assert len(bb) == 1 and len(bb[0].read_text().splitlines()) == summary.images


def test_rerun_skips_finished_files_and_redoes_interrupted_ones(messy_folder, aligned):
    out, _ = aligned
    victim = out / GOOD / "gray.png"
    victim.with_suffix(".json").unlink()  # as if the run stopped between the crop and its sidecar
    again = align_dataset(messy_folder, out, workers=1)
    assert again.skipped == again.aligned_images - 1
    assert read_sidecar(victim) is not None
    assert not list(out.rglob("*.tmp"))


def test_cli_exit_codes(tmp_path, messy_folder, capsys):
    assert align_main([str(tmp_path / "missing"), str(tmp_path / "o1")]) == 1
    assert "does not exist" in capsys.readouterr().err
    only_bad = tmp_path / "bad"
    (only_bad / "Someone").mkdir(parents=True)
    (only_bad / "Someone" / "x.jpg").write_text("nope")
    assert align_main([str(only_bad), str(tmp_path / "o2")]) == 1
    assert "nothing could be aligned" in capsys.readouterr().err


def test_script_with_two_workers(tmp_path):
    src = tmp_path / "in" / "Eileen"
    src.mkdir(parents=True)
    face = astronaut()
    for i in range(4):
        _jpeg(src / f"e{i}.jpg", np.roll(face, i * 5, axis=1))
    p = subprocess.run([sys.executable, str(REPO / "align" / "align_dataset.py"), str(tmp_path / "in"),
                        str(tmp_path / "out"), "--workers", "2", "--image_size", "182", "--margin", "44"],
                       capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr
    assert "Images: 4   aligned: 4 (4 faces)" in p.stdout
    for i in range(4):
        assert Image.open(tmp_path / "out" / "Eileen" / f"e{i}.png").size == (182, 182)
