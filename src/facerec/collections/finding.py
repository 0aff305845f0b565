"""Finding the photos of a collection: files as given, folders' image files, each photo once.

Nothing is guessed from the folder layout: a collection is photos, wherever they sit."""
from __future__ import annotations

from pathlib import Path

from ..errors import FacerecError
from ..images import is_image_name


def find_photos(paths, recursive: bool = False, exclude=()) -> tuple[list[str], list[str]]:
    """(photo paths, notes): files as given, folders' image files (their whole trees with
    recursive), each photo once, in order; folders under ``exclude`` (where results are sorted
    into) are skipped so a rerun does not read its own links.  Notes say what was passed over."""
    excluded = [Path(e).resolve() for e in exclude]
    photos, notes, seen = [], [], set()

    def add(p: Path):
        key = p.resolve()
        if key not in seen and not any(key == e or e in key.parents for e in excluded):
            seen.add(key)
            photos.append(str(p))

    for given in paths:
        root = Path(given)
        if root.is_file():
            add(root)
        elif root.is_dir():
            if root.resolve() in excluded:
                continue
            walk = root.rglob("*") if recursive else root.iterdir()
            files = sorted(p for p in walk if p.is_file() and is_image_name(p)
                           and not any(part.startswith(".") for part in p.relative_to(root).parts))
            for p in files:
                add(p)
            walk = root.rglob("*") if recursive else root.iterdir()
            notes += [f"{p}: a link that leads nowhere; skipped" for p in walk
                      if p.is_symlink() and not p.exists() and is_image_name(p)]
            if not recursive:
                subs = [d for d in root.iterdir() if d.is_dir() and not d.name.startswith(".")]
                if subs:
                    notes.append(f"{root}: {len(subs)} sub-folder(s) not read (add --recursive to read them)")
        else:
            raise FacerecError(f"{root}: no such file or folder")
    return photos, notes
