"""Photos sorted into one folder per person: links to the originals (or copies), never moves.

A photo of two people goes into both folders.  Nothing in the target is overwritten: a name
already taken by another photo gets the source's short digest added; an entry that already
points at (or, as a copy, holds the bytes of) the same photo is left as it is, so a rerun on a
grown collection only adds what is new.
"""
from __future__ import annotations

import hashlib
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import FacerecError


@dataclass
class Sorted:
    """What sort_into did: entries made, entries already there, and per folder the photo count."""

    made: int = 0
    kept: int = 0
    folders: dict = field(default_factory=dict)


def _safe_folder(name: str) -> str:
    name = str(name).strip()
    if not name or name in (".", "..") or "/" in name or "\\" in name or "\0" in name:
        raise FacerecError(f"{name!r} cannot be a folder name")
    return name


def _same(dest: Path, source: Path, copy: bool) -> bool:
    if dest.is_symlink():
        return Path(os.readlink(dest)) == source
    if copy and dest.is_file() and dest.stat().st_size == source.stat().st_size:
        from ..files import file_digest

        return file_digest(dest) == file_digest(source)
    return False


def _place(source: Path, dest: Path, copy: bool) -> None:
    """Make dest a link to (or a copy of) source, appearing all at once."""
    from ..files import remove_leftovers

    remove_leftovers(dest)  # a killed run's, named as this one's is
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.tmp")
    try:
        if copy:
            shutil.copy2(source, tmp)
        else:
            os.symlink(source, tmp)
        # link() refuses to replace an existing entry, unlike rename(): a photo that appeared
        # at this name meanwhile is never overwritten.
        os.link(tmp, dest, follow_symlinks=False)
    finally:
        try:
            os.unlink(tmp)
        except OSError:
            pass


def sort_into(folder, placements, copy: bool = False) -> Sorted:
    """Link (or copy) each photo into folder/<group>/ for each (group, photo path) placement."""
    root = Path(folder)
    done = Sorted()
    seen = set()
    for group, photo in placements:
        source = Path(photo).resolve()
        key = (group, source)
        if key in seen:  # two faces of one person in a photo: one entry
            continue
        seen.add(key)
        target = root / _safe_folder(group)
        if target.is_symlink():  # its links would land wherever it points, outside the sort folder
            raise FacerecError(f"{target}: is a link to another folder; sort into a folder whose person "
                               f"folders are its own")
        tag = hashlib.sha256(os.fsencode(source)).hexdigest()[:8]  # any bytes a file name holds
        try:
            target.mkdir(parents=True, exist_ok=True)
            for dest in (target / source.name, target / f"{source.stem}-{tag}{source.suffix}"):
                if not (dest.exists() or dest.is_symlink()):
                    _place(source, dest, copy)
                    done.made += 1
                elif _same(dest, source, copy):
                    done.kept += 1
                else:
                    continue  # the name belongs to another photo
                break
            else:
                raise FacerecError(f"{target}: {source.name} and its alternative name are taken by other files")
        except FileExistsError as exc:
            raise FacerecError(f"{exc.filename2 or exc.filename}: appeared while sorting; not overwritten") from exc
        except OSError as exc:
            raise FacerecError(f"cannot sort photos into {target}: {exc.strerror or exc}; those sorted before "
                               f"are in place, the photos themselves untouched") from exc
        done.folders[group] = done.folders.get(group, 0) + 1
    return done
