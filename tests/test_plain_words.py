"""What the commands say about what they read (issue 25's small things): counts in words, links that
lead nowhere and folders inside a person's folder reported, one bounding_boxes file per output, and
the scripts run by a Python without facerec saying what to do."""
import subprocess
import sys

import pytest

from conftest import REPO
from faces import sample


def test_counts_read_as_words():
    from facerec.wording import counted

    assert [counted(1, "photo"), counted(0, "face"), counted(2, "person"), counted(1, "person")] == \
        ["1 photo", "0 faces", "2 people", "1 person"]


@pytest.fixture(scope="module")
def people(tmp_path_factory):
    from facerec.images import atomic_save_image

    root = tmp_path_factory.mktemp("people")
    for person, photo in (("Obama", "obama.jpg"), ("Biden", "biden.jpg")):
        (root / "people" / person).mkdir(parents=True)
        atomic_save_image(root / "people" / person / photo, sample(photo))
    (root / "people" / "Obama" / "holidays").mkdir()
    atomic_save_image(root / "people" / "Obama" / "holidays" / "obama2.jpg", sample("obama2.jpg"))
    return root


def test_enrol_and_identify_say_what_they_passed_over(people, tmp_path, capsys, default_embedder):
    import numpy as np

    from facerec.cli import main
    from facerec.images import atomic_save_image

    gallery = tmp_path / "g.npz"
    assert main(["enrol", str(gallery), str(people / "people")]) == 0
    out = capsys.readouterr().out
    assert "holidays: a folder inside Obama's folder; its photos are not read" in out
    assert "Enrolled 2 people" in out
    photos = tmp_path / "photos"
    photos.mkdir()
    atomic_save_image(photos / "wall.png", np.full((120, 160, 3), 90, np.uint8))
    (photos / "gone.jpg").symlink_to(tmp_path / "nowhere.jpg")
    assert main(["identify", str(gallery), str(photos)]) == 0
    out = capsys.readouterr().out
    assert "gone.jpg: a link that leads nowhere; skipped" in out
    assert "1 photo, 0 faces; 1 without a face" in out and ": ;" not in out


def test_align_reports_a_folder_inside_a_persons_and_a_rerun_keeps_one_boxes_file(people, tmp_path, default_embedder):
    from facerec.batch.align_dataset import align_dataset

    out = tmp_path / "aligned"
    first = align_dataset(people / "people", out, workers=1, progress=False)
    assert any("holidays" in path and "a folder inside Obama's folder" in why for path, why in first.unreadable)
    align_dataset(people / "people", out, workers=1, progress=False)
    boxes = list(out.glob("bounding_boxes_*.txt"))
    assert len(boxes) == 1 and len(boxes[0].read_text().splitlines()) == 2


def test_a_script_run_by_a_python_without_facerec_says_what_to_do(tmp_path):
    clean = tmp_path / "bare"  # a Python that has never seen this project
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(clean)], check=True)
    for script in ("align/align_dataset.py", "classify/classifier.py", "realtime/real_time_face_recognition.py"):
        p = subprocess.run([str(clean / "bin" / "python"), str(REPO / script), "--help"], capture_output=True,
                           text=True, cwd=tmp_path)
        assert p.returncode == 1 and p.stderr.count("\n") == 1 and "make install" in p.stderr, p.stderr


def test_another_library_s_message_is_cut_at_a_sentence_or_a_whole_word():
    from facerec.wording import brief

    assert brief("Parquet magic bytes not found. Either the file is corrupted or this is not a parquet file.") \
        == "Parquet magic bytes not found."
    cut = brief("word " * 40, limit=30)
    assert cut == "word word word word word word..." and len(cut) <= 33
    assert brief("one line\nand a trace") == "one line" and brief("") == ""


def test_a_batch_where_nothing_could_be_read_fails_and_a_flat_folder_says_what_it_needs(tmp_path, capsys):
    """identify goes on past a broken photo (exit 0), but one where no photo could be read exits 1;
    enrolling a folder whose photos are not in per-person sub-folders says so."""
    from facerec.cli import main
    from facerec.identity.gallery import Gallery
    from facerec.embedding import load_embedder

    gallery = tmp_path / "g.npz"
    Gallery.for_embedder(load_embedder("default")).save(gallery)
    (tmp_path / "broken.jpg").write_bytes(b"not a photo")
    assert main(["identify", str(gallery), str(tmp_path / "broken.jpg")]) == 1
    (tmp_path / "flat").mkdir()
    (tmp_path / "flat" / "me.jpg").write_bytes(b"\xff\xd8 a photo")
    capsys.readouterr()
    assert main(["enrol", str(tmp_path / "new.npz"), str(tmp_path / "flat")]) == 1
    assert "1 photo but no sub-folders" in capsys.readouterr().err
