"""The README's Python examples run as written, each on its own in a fresh interpreter, in a folder
of face_recognition's sample photos, and print what their ``# ->`` comments say."""
import re
import shutil
import subprocess
import sys

import pytest

from conftest import REPO
from faces import astronaut


def _blocks():
    return re.findall(r"```python\n(.*?)```", (REPO / "README.md").read_text(), re.S)


@pytest.fixture
def sample_folder(tmp_path):
    from facerec.demo import render_clip
    from facerec.samples import find

    src = find()
    if src is None:
        pytest.skip("face_recognition sample photos not fetched (run: python -m facerec.samples)")
    for name in ("obama.jpg", "obama2.jpg", "obama3.jpg", "biden.jpg"):
        shutil.copy(src / name, tmp_path / name)
    for person, photos in (("Barack_Obama", ["obama.jpg", "obama2.jpg"]), ("Joe_Biden", ["biden.jpg"])):
        (tmp_path / "people" / person).mkdir(parents=True)
        for p in photos:
            shutil.copy(src / p, tmp_path / "people" / person / p)
    from facerec import load_image

    render_clip([load_image(src / "obama3.jpg"), astronaut()], tmp_path / "clip.mp4", seconds_each=1.0)
    return tmp_path


def _promised(code: str) -> list[str]:
    """The lines the block's ``# -> ...`` comments say it prints."""
    return [m.strip() for m in re.findall(r"#\s*->\s*(.*)$", code, re.M)]


def test_readme_python_examples_run_alone_and_print_what_they_say(sample_folder):
    blocks = _blocks()
    assert len(blocks) >= 5, "the README's Python section lost its examples"
    for code in blocks:
        run = subprocess.run([sys.executable, "-c", code], cwd=sample_folder, capture_output=True, text=True,
                             timeout=600)
        assert run.returncode == 0, f"{code}\n{run.stderr}"
        lines = [line.strip() for line in run.stdout.splitlines()]
        where = 0
        for want in _promised(code):  # in order, each once
            assert want in lines[where:], f"README promises {want!r}; the block printed:\n{run.stdout}"
            where = lines.index(want, where) + 1
    video = blocks[-2]  # the track() loop prints every frame's tracks: Obama, then the astronaut unnamed
    names = {line.split()[1] for line in subprocess.run([sys.executable, "-c", video], cwd=sample_folder,
                                                        capture_output=True, text=True).stdout.splitlines()}
    assert "Barack_Obama" in names and "Joe_Biden" not in names
