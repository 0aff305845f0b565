"""The facerec command: one line on stderr and a non-zero exit for bad input, never a traceback."""
import subprocess
import sys

import pytest


def _run(*args):
    return subprocess.run([sys.executable, "-m", "facerec", *args], capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("args, message", [
    (["model", "/no/such/model.pb"], "no such model file"),
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
