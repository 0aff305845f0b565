"""The README's Python examples run as written, on face_recognition's sample photos."""
import contextlib
import io
import re
import shutil

import pytest

from conftest import REPO
from faces import astronaut


def _blocks():
    return re.findall(r"```python\n(.*?)```", (REPO / "README.md").read_text(), re.S)


@pytest.fixture
def sample_folder(tmp_path, monkeypatch):
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
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_readme_python_examples(sample_folder):
    blocks = _blocks()
    assert len(blocks) >= 4, "the README's Python section lost its examples"
    ns, printed = {}, []
    for code in blocks:
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(compile(code, "README.md", "exec"), ns)
        printed.append(out.getvalue())
    # What the comments in the examples say they print.
    assert len(ns["faces"]) >= 1 and ns["known"].shape == (1, 128)
    assert "[True]" in printed[0]
    assert ns["result"].same is False and ns["result"].distance > ns["result"].threshold
    assert printed[1].split()[0] == "Barack_Obama"
    names = {line.split()[1] for line in printed[2].splitlines()}
    assert "Barack_Obama" in names and "Joe_Biden" not in names
    assert "(150, 150) 128" in printed[3]
