"""Explicit downloads of the real FaceNet models and LFW (never called by the default path).

Resumable: the bytes go to ``<name>.part`` beside the target and a rerun continues with an HTTP
Range request. A finished file is checked against its SHA-256 where one is known (LFW's two files);
where none is (FaceNet's models), its SHA-256 is printed with a note that it was not verified.
Archives are unpacked into a fresh temporary folder and only entries that do not exist yet are moved
into place: nothing already in models/ or datasets/ is changed, except the download's own entry
with ``force``.
"""
from __future__ import annotations

import os
import re
import shutil
import sys
import tarfile
import tempfile
import urllib.error
import urllib.request
import zipfile
import zlib
from dataclasses import dataclass, replace
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
    # FaceNet's published models (davidsandberg/facenet README), Inception-ResNet-v1. No checksum is
    # published for them: download() prints what it fetched so a user can pin it with --sha256.
    "facenet-20180402": [Source(_drive("1EXPBSXwTaqrSC0OhUdXNmKSh9qJUQ55-"), "20180402-114759.zip",
                                "models", "20180402-114759")],
    "facenet-20170512": [Source(_drive("0B5MzpY9kBtDVZ2RpVDYwWmxoSUk"), "20170512-110547.zip",
                                "models", "20170512-110547")],
    # The figshare copies scikit-learn's LFW fetcher uses, with the checksums it records.
    "lfw": [Source("https://ndownloader.figshare.com/files/5976018", "lfw.tgz", "datasets", "lfw",
                   "055f7d9c632d7370e6fb4afc7468d40f970c34a80d4c6f50ffec63f5a8d536c0"),
            Source("https://ndownloader.figshare.com/files/5976006", "pairs.txt", "datasets", "lfw_pairs.txt",
                   "ea42330c62c92989f9d7c03237ed5d591365e89b3e649747777b70e692dc1592")],
}

_ARCHIVE_ENDINGS = (".zip", ".tgz", ".tar.gz", ".tar")


def _progress(total, initial, desc):
    from tqdm import tqdm

    return tqdm(total=total, initial=initial, unit="B", unit_scale=True, unit_divisor=1024, desc=desc,
                disable=not sys.stderr.isatty(), leave=False)


def _fetch_part(url: str, part: Path, sha256: str | None = None, timeout: float = 60.0) -> str:
    """Download url into part (resuming what is there); returns its SHA-256, checked if sha256 is given."""
    part.parent.mkdir(parents=True, exist_ok=True)
    name = part.name[:-len(".part")] if part.name.endswith(".part") else part.name
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
            _stream_into(resp, part, resumed, _progress(total, have, name), url)
            got = part.stat().st_size
            if total is not None and got < total:
                raise FacerecError(f"download of {url} stopped at {got} of {total} bytes; "
                                   f"run the same command again to resume")
    digest = file_digest(part)
    if sha256 and digest != sha256.lower():
        part.unlink()
        raise FacerecError(f"{name}: checksum mismatch (got {digest}, expected {sha256.lower()}); the file was "
                           f"deleted. Run the command again, or if --url serves other bytes on purpose, pin "
                           f"them with --sha256")
    return digest


def _stream_into(resp, part: Path, append: bool, bar, url: str) -> None:
    """Copy the response into part.  A dropped connection and a full disk both keep what came, for
    the rerun to resume from, but say different things: only the first is the network's fault."""
    with bar:
        try:
            f = open(part, "ab" if append else "wb")
        except OSError as exc:
            raise FacerecError(f"cannot write {part}: {exc.strerror or exc}") from None
        with f:
            while True:
                try:
                    chunk = resp.read(1 << 16)
                except (OSError, urllib.error.URLError) as exc:
                    raise FacerecError(f"download of {url} interrupted after {_size(part)} bytes ({exc}); "
                                       f"run the same command again to resume") from exc
                if not chunk:
                    return
                try:
                    f.write(chunk)
                    f.flush()
                except OSError as exc:
                    raise FacerecError(f"cannot write {part}: {exc.strerror or exc}; the {_size(part)} bytes "
                                       f"fetched are kept there: run the same command again to resume once "
                                       f"there is room") from None
                bar.update(len(chunk))


def _size(path: Path) -> int:
    return path.stat().st_size if path.exists() else 0


def fetch(url: str, target: Path, sha256: str | None = None, timeout: float = 60.0) -> Path:
    """Download url to target, resuming a previous partial download; verify sha256 if given."""
    target = Path(target)
    part = target.with_name(target.name + ".part")
    _fetch_part(url, part, sha256, timeout)
    os.replace(part, target)
    return target


class _Collision(FacerecError):
    """An archive entry's name is already taken in the destination (nothing was changed)."""


class _BadArchive(FacerecError):
    """The fetched file is not the archive expected (damaged, not an archive, or other contents)."""


def _safe_members(names, dest: Path):
    root = dest.resolve()
    for name in names:
        p = (dest / name).resolve()
        if p != root and root not in p.parents:
            raise _BadArchive(f"archive entry '{name}' would be written outside {dest}; refusing to unpack")


def _extract(archive: Path, into: Path, label: str) -> None:
    try:
        if zipfile.is_zipfile(archive):
            with zipfile.ZipFile(archive) as z:
                _safe_members(z.namelist(), into)
                z.extractall(into)
        elif tarfile.is_tarfile(archive):
            if not hasattr(tarfile, "data_filter"):  # without it a tar's links could point anywhere
                raise FacerecError(f"{label}: unpacking a tar safely needs Python 3.10.12, 3.11.4 or newer")
            with tarfile.open(archive) as t:
                _safe_members(t.getnames(), into)
                t.extractall(into, filter="data")
        else:
            raise _BadArchive(f"{label}: not a zip or tar archive")
    except getattr(tarfile, "FilterError", ()) as exc:  # a link or device the "data" filter refuses
        raise _BadArchive(f"{label}: refusing to unpack ({exc})") from exc
    except (zipfile.BadZipFile, tarfile.TarError, EOFError, zlib.error) as exc:
        raise _BadArchive(f"{label}: archive is damaged ({exc})") from exc


def unpack(archive: Path, dest: Path, expect: str | None = None, force: bool = False, label: str | None = None,
           log=print) -> list[Path]:
    """Unpack a .zip or .tar(.gz) into dest without touching anything already there; returns what it placed.

    The archive goes into a fresh temporary folder in dest first, so a damaged or interrupted unpack
    leaves nothing behind. An archive entry whose name already exists in dest is refused, naming the
    path(s); with force, only ``expect`` (the entry the download is for) is replaced and the other
    existing entries are kept as they are.
    """
    archive, dest = Path(archive), Path(dest)
    label = label or archive.name
    dest.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".unpack-", dir=dest))
    try:
        _extract(archive, tmp, label)
        entries = sorted(tmp.iterdir())
        names = [e.name for e in entries]
        if expect is not None and expect not in names:
            raise _BadArchive(f"{label} did not contain {expect}/ (it holds: {', '.join(names) or 'nothing'})")
        clash = [dest / n for n in names if os.path.lexists(dest / n)]
        if clash and not force:
            listed = ", ".join(str(p) for p in clash)
            one = len(clash) == 1
            raise _Collision(f"{listed} already exist{'s' if one else ''} and {label} holds entries of the same "
                             f"name; nothing was changed. Move {'it' if one else 'them'} aside, or pass --force to "
                             f"install {dest / (expect or names[0])} (replacing only that; the others are kept)")
        placed = []
        for entry in entries:
            final = dest / entry.name
            if os.path.lexists(final):
                if entry.name != expect:
                    log(f"kept {final} as it is ({label} also holds a {entry.name}; --force replaces only "
                        f"{dest / expect if expect else 'the download'})")
                    continue
                _replace(entry, final, tmp)
                log(f"replaced {final} (--force)")
            else:
                os.rename(entry, final)
            placed.append(final)
        return placed
    except OSError as exc:
        raise FacerecError(f"{label}: could not unpack into {dest} ({exc})") from exc
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _replace(new: Path, final: Path, tmp: Path) -> None:
    # Move the old entry aside first, so a failure puts it back instead of leaving half of each.
    aside = Path(tempfile.mkdtemp(prefix=".replaced-", dir=tmp)) / final.name
    os.rename(final, aside)
    try:
        os.rename(new, final)
    except BaseException:
        os.rename(aside, final)
        raise
    # The old entry is now inside tmp, which unpack() deletes; rmtree unlinks a symlink without following it.


def _checked_sha256(sha256: str | None) -> str | None:
    if sha256 is None:
        return None
    s = sha256.strip().lower()
    if not re.fullmatch(r"[0-9a-f]{64}", s):
        raise FacerecError(f"--sha256 '{sha256}' is not a SHA-256 (64 hexadecimal digits)")
    return s


def download(name: str, root: str | Path = ".", url: str | None = None, sha256: str | None = None,
             keep_archive: bool = False, force: bool = False, log=print) -> list[Path]:
    """Fetch and unpack one of SOURCES into root/models or root/datasets; returns what it made.

    url/sha256 override the first file's address and checksum (a mirror, or a test server); a url
    alone keeps the known checksum, so a mirror is held to the same bytes. Nothing already in
    models/ or datasets/ is changed, except with force the download's own entry (``unpacks_to``).
    """
    if name not in SOURCES:
        raise FacerecError(f"unknown download '{name}': choose from {', '.join(SOURCES)}")
    sha256 = _checked_sha256(sha256)
    made = []
    try:
        for i, src in enumerate(SOURCES[name]):
            if i == 0 and (url or sha256):
                src = replace(src, url=url or src.url, sha256=sha256 or src.sha256)
            elif i > 0 and url:
                continue  # an overridden main URL says nothing about where the extra files live
            folder = Path(root) / src.folder
            final = folder / src.unpacks_to
            if os.path.lexists(final) and not force:
                log(f"{final} already present, skipping (--force downloads it again and replaces it)")
                made.append(final)
                continue
            is_archive = src.filename.endswith(_ARCHIVE_ENDINGS)
            part = folder / f"{src.filename if is_archive else src.unpacks_to}.part"
            log(f"Downloading {src.url} -> {folder / (src.filename if is_archive else src.unpacks_to)}")
            digest = _fetch_part(src.url, part, src.sha256)
            if src.sha256:
                log(f"{src.filename}: SHA-256 verified")
            else:
                log(f"note: {src.filename} has no published checksum; not verified. Its SHA-256 is {digest}; "
                    f"pass --sha256 {digest} next time to pin it.")
            if not is_archive:
                os.replace(part, final)  # final is absent, or force asked to replace it
                made.append(final)
                continue
            log(f"Unpacking {src.filename} into {folder}")
            try:
                unpack(part, folder, expect=src.unpacks_to, force=force, label=src.filename, log=log)
            except _Collision as exc:
                raise _Collision(f"{exc} (the fetched file is kept as {part} for the rerun)") from exc
            except _BadArchive as exc:
                part.unlink(missing_ok=True)  # not what was meant (an HTML error page, say): fetch afresh next time
                raise FacerecError(f"{exc}; the downloaded file was deleted") from exc
            archive = folder / src.filename
            if keep_archive and not os.path.lexists(archive):
                os.replace(part, archive)
            else:
                if keep_archive:
                    log(f"{archive} already exists; the downloaded archive was not kept")
                part.unlink()
            made.append(final)
    except OSError as exc:  # a folder that cannot be written, a full disk: one line, not a traceback
        raise FacerecError(f"download of {name} failed: {exc}") from exc
    return made
