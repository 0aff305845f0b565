"""Explicit downloads of the real FaceNet models and LFW (never called by the default path).

Resumable: the bytes go to ``<name>.part`` beside the target and a rerun continues with an HTTP
Range request; a finished file is checked against its SHA-256 where one is known, then unpacked
through a temporary folder so an interrupted unpack leaves nothing half-made.
"""
from __future__ import annotations

import os
import shutil
import sys
import tarfile
import tempfile
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path

from .errors import FacerecError
from .files import file_digest


@dataclass(frozen=True)
class Source:
    url: str
    filename: str
    folder: str            # "models" or "datasets"
    unpacks_to: str        # the folder the archive creates (or the file name when not an archive)
    sha256: str | None = None


def _drive(file_id: str) -> str:
    # Google Drive's direct-download form; confirm=t skips the "can't scan for viruses" page.
    return f"https://drive.usercontent.google.com/download?id={file_id}&export=download&confirm=t"


SOURCES = {
    # FaceNet's published models (davidsandberg/facenet README), Inception-ResNet-v1.
    "facenet-20180402": [Source(_drive("1EXPBSXwTaqrSC0OhUdXNmKSh9qJUQ55-"), "20180402-114759.zip",
                                "models", "20180402-114759")],
    "facenet-20170512": [Source(_drive("0B5MzpY9kBtDVZ2RpVDYwWmxoSUk"), "20170512-110547.zip",
                                "models", "20170512-110547")],
    # The figshare copies scikit-learn's LFW fetcher uses; the archive checksum is the one it records.
    "lfw": [Source("https://ndownloader.figshare.com/files/5976018", "lfw.tgz", "datasets", "lfw",
                   "055f7d9c632d7370e6fb4afc7468d40f970c34a80d4c6f50ffec63f5a8d536c0"),
            Source("https://ndownloader.figshare.com/files/5976006", "pairs.txt", "datasets", "lfw_pairs.txt")],
}


def _progress(total, initial, desc):
    from tqdm import tqdm

    return tqdm(total=total, initial=initial, unit="B", unit_scale=True, unit_divisor=1024, desc=desc,
                disable=not sys.stderr.isatty(), leave=False)


def fetch(url: str, target: Path, sha256: str | None = None, timeout: float = 60.0) -> Path:
    """Download url to target, resuming a previous partial download; verify sha256 if given."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    part = target.with_name(target.name + ".part")
    have = part.stat().st_size if part.exists() else 0
    req = urllib.request.Request(url, headers={"User-Agent": "facerec"})
    if have:
        req.add_header("Range", f"bytes={have}-")
    try:
        resp = urllib.request.urlopen(req, timeout=timeout)
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and have:  # nothing left to fetch: the part file is already whole
            resp = None
        else:
            raise FacerecError(f"download of {url} failed: HTTP {exc.code} {exc.reason}") from exc
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise FacerecError(f"download of {url} failed: {reason}") from exc

    if resp is not None:
        with resp:
            resumed = have and resp.status == 206
            if not resumed:
                have = 0  # the server ignored the Range request: start over
            length = resp.headers.get("Content-Length")
            total = have + int(length) if length else None
            try:
                with open(part, "ab" if resumed else "wb") as f, _progress(total, have, target.name) as bar:
                    while True:
                        chunk = resp.read(1 << 16)
                        if not chunk:
                            break
                        f.write(chunk)
                        bar.update(len(chunk))
            except (OSError, urllib.error.URLError) as exc:
                got = part.stat().st_size if part.exists() else 0
                raise FacerecError(f"download of {url} interrupted after {got} bytes ({exc}); "
                                   f"run the same command again to resume") from exc
            got = part.stat().st_size
            if total is not None and got < total:
                raise FacerecError(f"download of {url} stopped at {got} of {total} bytes; "
                                   f"run the same command again to resume")
    if sha256:
        digest = file_digest(part)
        if digest != sha256:
            part.unlink()
            raise FacerecError(f"{target.name}: checksum mismatch (got {digest[:12]}…, expected "
                               f"{sha256[:12]}…); the broken file was deleted, run the command again")
    os.replace(part, target)
    return target


def _safe_members(names, dest: Path):
    root = dest.resolve()
    for name in names:
        p = (dest / name).resolve()
        if p != root and root not in p.parents:
            raise FacerecError(f"archive entry '{name}' would be written outside {dest}; refusing to unpack")


def unpack(archive: Path, dest: Path) -> None:
    """Unpack a .zip or .tar(.gz) into dest through a temporary folder, then move entries in place."""
    dest.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".unpack-", dir=dest))
    try:
        if zipfile.is_zipfile(archive):
            with zipfile.ZipFile(archive) as z:
                _safe_members(z.namelist(), tmp)
                z.extractall(tmp)
        elif tarfile.is_tarfile(archive):
            with tarfile.open(archive) as t:
                _safe_members(t.getnames(), tmp)
                t.extractall(tmp, filter="data")
        else:
            raise FacerecError(f"{archive}: not a zip or tar archive")
        for entry in tmp.iterdir():
            final = dest / entry.name
            if final.exists():
                shutil.rmtree(final) if final.is_dir() else final.unlink()
            os.replace(entry, final)
    except (zipfile.BadZipFile, tarfile.TarError, EOFError) as exc:
        raise FacerecError(f"{archive}: archive is damaged ({exc}); delete it and download again") from exc
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def download(name: str, root: str | Path = ".", url: str | None = None, sha256: str | None = None,
             keep_archive: bool = False, log=print) -> list[Path]:
    """Fetch and unpack one of SOURCES into root/models or root/datasets; returns what it made.

    url/sha256 override the first file's address and checksum (a mirror, or a test server).
    """
    if name not in SOURCES:
        raise FacerecError(f"unknown download '{name}': choose from {', '.join(SOURCES)}")
    made = []
    for i, src in enumerate(SOURCES[name]):
        if i == 0 and url:
            src = Source(url, src.filename, src.folder, src.unpacks_to, sha256 or None)
        elif i > 0 and url:
            continue  # an overridden main URL says nothing about where the extra files live
        folder = Path(root) / src.folder
        final = folder / src.unpacks_to
        if final.exists():
            log(f"{final} already present, skipping")
            made.append(final)
            continue
        is_archive = src.filename.endswith((".zip", ".tgz", ".tar.gz", ".tar"))
        target = folder / (src.filename if is_archive else src.unpacks_to)
        log(f"Downloading {src.url} -> {target}")
        fetch(src.url, target, src.sha256)
        if is_archive:
            log(f"Unpacking {target.name} into {folder}")
            unpack(target, folder)
            if not keep_archive:
                target.unlink()
            if not final.exists():
                raise FacerecError(f"{src.filename} did not contain {src.unpacks_to}/")
        made.append(final)
    return made
