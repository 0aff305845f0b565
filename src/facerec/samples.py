"""Sample face photos from a registry package: the test images of face_recognition 1.3.0.

`make install` runs ``python -m facerec.samples`` once: pip fetches face_recognition's source
distribution from the package registry (no other network) and its test photos (Obama, Biden)
are unpacked into .venv/share/facerec-samples. Tests and the demo read them from there and
skip what needs them when they are absent. Nothing else in facerec downloads.
"""
from __future__ import annotations

import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

SDIST = "face_recognition==1.3.0"
PHOTOS = ("obama.jpg", "obama2.jpg", "obama3.jpg", "biden.jpg", "obama_partial_face.jpg")


def default_dir() -> Path:
    """.venv/share/facerec-samples of the running interpreter's environment."""
    return Path(sys.prefix) / "share" / "facerec-samples"


def find() -> Path | None:
    d = default_dir()
    return d if all((d / p).exists() for p in PHOTOS) else None


def fetch(dest: Path | None = None) -> Path:
    dest = Path(dest) if dest else default_dir()
    if all((dest / p).exists() for p in PHOTOS):
        return dest
    dest.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary", ":all:",
                        SDIST, "-d", tmp], check=True)
        archive = next(Path(tmp).glob("face_recognition-*.tar.gz"))
        with tarfile.open(archive) as t:
            for m in t.getmembers():
                name = Path(m.name).name
                if "/tests/test_images/" in m.name and name in PHOTOS:
                    (dest / name).write_bytes(t.extractfile(m).read())
    return dest


if __name__ == "__main__":
    print(fetch())
