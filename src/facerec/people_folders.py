"""Folders of people on disk: FaceNet's class-per-folder layout, its train/test split, crop sidecars."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .errors import FacerecError
from .images import is_image_name
from .wording import counted

SIDECAR_SUFFIX = ".json"


@dataclass
class ImageClass:
    """One person: a name (the folder) and the image paths in it."""

    name: str
    image_paths: list = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.image_paths)


def get_dataset(path) -> list[ImageClass]:
    """FaceNet's layout: one sub-folder per person holding images, sorted by name."""
    root = Path(path)
    if not root.is_dir():
        raise FacerecError(f"{root}: no such folder")
    classes = []
    for d in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        images = sorted(str(f) for f in d.iterdir() if f.is_file() and is_image_name(f))
        classes.append(ImageClass(d.name, images))
    return classes


def passed_over(path) -> list[str]:
    """What reading a folder of people leaves out, as notes: folders inside a person's folder (one
    folder per person: their photos are not read) and links that lead nowhere."""
    notes = []
    for d in sorted(p for p in Path(path).iterdir() if p.is_dir() and not p.name.startswith(".")):
        for f in sorted(d.iterdir()):
            if f.name.startswith("."):
                continue
            if f.is_dir():
                notes.append(f"{f}: a folder inside {d.name}'s folder; its photos are not read (one folder per person)")
            elif f.is_symlink() and not f.exists():
                notes.append(f"{f}: a link that leads nowhere; skipped")
    return notes


def split_dataset(dataset, min_nrof_images_per_class: int, nrof_train_images_per_class: int, seed: int = 666):
    """FaceNet's split: per class with enough photos, a seeded shuffle, the first N to train.

    Returns (train, test), each a list of (name, paths)."""
    rng = np.random.RandomState(seed)
    train, test = [], []
    for cls in dataset:
        paths = list(cls.image_paths)
        if len(paths) < min_nrof_images_per_class:
            continue
        rng.shuffle(paths)
        train.append((cls.name, paths[:nrof_train_images_per_class]))
        test.append((cls.name, paths[nrof_train_images_per_class:]))
    return train, test


@dataclass
class Split:
    """FaceNet's --use_split_dataset settings."""

    min_images: int = 20
    train_images: int = 10
    seed: int = 666


def _check_folder(root: Path) -> None:
    if root.is_file():
        raise FacerecError(f"{root}: is a file; give the folder that holds it (one sub-folder of photos per person)")
    if not root.is_dir():
        raise FacerecError(f"{root}: data folder does not exist")


def read_people(folder, split: Split | None = None, part: str = "train") -> list[tuple[str, list[str]]]:
    """(name, photo paths) per sub-folder of folder; with split, only FaceNet's train or test part.

    >>> read_people("people/")            # doctest: +SKIP
    [('Alice', ['people/Alice/1.jpg', ...]), ...]
    """
    root = Path(folder)
    _check_folder(root)
    dataset = get_dataset(root)
    if split is None:
        if not any(len(c) for c in dataset):
            top = [f for f in root.iterdir() if f.is_file() and is_image_name(f)]
            raise FacerecError(f"{root}: " + (f"{counted(len(top), 'photo')} but no sub-folders: put each person's "
                                              f"photos in a sub-folder named after them" if top else
                                              "no photos found (expected one sub-folder of photos per person)"))
        return [(c.name, list(c.image_paths)) for c in dataset]
    train, test = split_dataset(dataset, split.min_images, split.train_images, split.seed)
    chosen = train if part == "train" else test
    if not chosen:
        raise FacerecError(f"{root}: no person has {split.min_images} or more photos "
                           f"(--min_nrof_images_per_class)")
    return chosen


def read_photos_to_classify(folder, split: Split | None = None,
                            known=None) -> tuple[list[tuple[str | None, list[str]]], bool, list[str]]:
    """(classes, unlabelled, notes): a folder of people as (name, paths), or photos nobody labelled
    as [(None, paths)] with unlabelled True (then every face of every photo is named).

    A photo file is unlabelled.  A folder whose sub-folders are named after none of the ``known``
    people (a collection sorted by year, say) is read as unlabelled photos, sub-folders and all,
    rather than scored against folder names that are not people; notes say so."""
    from .collections.finding import find_photos

    if split is not None:
        return read_people(folder, split, part="test"), False, []
    root = Path(folder)
    if root.is_file():
        return [(None, [str(root)])], True, []
    _check_folder(root)
    dataset = [c for c in get_dataset(root) if len(c)]
    top = sorted(str(f) for f in root.iterdir() if f.is_file() and is_image_name(f))
    if dataset and (known is None or any(c.name in set(known) for c in dataset)):
        notes = [f"{root}: {len(top)} photo(s) at the top level are in no person's folder; not read"] if top else []
        return [(c.name, list(c.image_paths)) for c in dataset], False, notes
    if dataset:
        photos, _ = find_photos([root], recursive=True)
        return [(None, photos)], True, [f"{root}: no sub-folder is named after a known person; read as a "
                                        f"collection of {len(photos)} photos (sub-folders included)"]
    if top:
        return [(None, top)], True, []
    raise FacerecError(f"{root}: no photos found (expected one sub-folder of photos per person)")


def sidecar_path(crop_path) -> Path:
    """The landmark sidecar that belongs to a crop written by align_dataset."""
    return Path(crop_path).with_suffix(SIDECAR_SUFFIX)


def read_sidecar(crop_path) -> dict | None:
    """The sidecar of a crop (box and landmarks in crop pixels), or None when it has none."""
    p = sidecar_path(crop_path)
    try:
        data = json.loads(p.read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or "landmarks" not in data:
        return None
    return data
