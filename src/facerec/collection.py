"""A photo collection as rows: the photos of files and folder trees, one row per face, results files.

Nothing is guessed from the folder layout: a collection is photos, wherever they sit.  A row is
a dict with ``path``, ``face`` (index in the photo), ``box`` and whatever names it (``name``,
``probability``, ``distance`` from a gallery or classifier; ``cluster`` from clustering); a photo
with no face, or one that cannot be read, gets one row with an empty ``face`` and a ``note``.
"""
from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from .errors import FacerecError
from .images import is_image_name

IDENTIFY_COLUMNS = ["path", "face", "box", "name", "probability", "distance", "note"]
CLUSTER_COLUMNS = ["path", "face", "box", "cluster", "note"]


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
            if not recursive:
                subs = [d for d in root.iterdir() if d.is_dir() and not d.name.startswith(".")]
                if subs:
                    notes.append(f"{root}: {len(subs)} sub-folder(s) not read (add --recursive to read them)")
        else:
            raise FacerecError(f"{root}: no such file or folder")
    return photos, notes


def _box(box) -> list[float]:
    return [round(float(v), 1) for v in box]


def identify_rows(results) -> list[dict]:
    """Rows from Recognizer.recognize_files results."""
    rows = []
    for res in results:
        if res.error or not res.faces:
            rows.append({"path": res.path, "face": None, "box": None, "name": None, "probability": None,
                         "distance": None, "note": res.error or "no face found"})
            continue
        for i, f in enumerate(res.faces):
            rows.append({"path": res.path, "face": i, "box": _box(f.box), "name": f.name,
                         "probability": round(f.probability, 4), "distance": round(f.distance, 4), "note": ""})
    return rows


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return " ".join(f"{v:g}" for v in value)
    return str(value)


def write_rows(path, rows, columns) -> None:
    """Write rows as CSV (.csv) or JSON lines (.jsonl), atomically."""
    from .files import atomic_write_bytes

    suffix = Path(path).suffix.lower()
    if suffix == ".csv":
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(columns)
        for r in rows:
            w.writerow([_cell(r.get(c)) for c in columns])
        text = buf.getvalue()
    elif suffix == ".jsonl":
        text = "".join(json.dumps({c: r.get(c) for c in columns}) + "\n" for r in rows)
    else:
        raise FacerecError(f"{path}: results are written as .csv or .jsonl")
    # surrogateescape: a file name that is not UTF-8 goes out as its own bytes, so it reads back.
    atomic_write_bytes(path, text.encode("utf-8", "surrogateescape"), fsync=False)


def check_output_name(path) -> None:
    """Refuse an --output name this module cannot write, before any work is done."""
    if path is not None and Path(path).suffix.lower() not in (".csv", ".jsonl"):
        raise FacerecError(f"{path}: results are written as .csv or .jsonl")


def read_rows(path) -> list[dict]:
    """Rows from a results or clusters file written by write_rows (face as int or None)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8", errors="surrogateescape")
    except OSError as exc:
        raise FacerecError(f"{path}: cannot read ({exc.strerror or exc})") from exc
    try:
        if p.suffix.lower() == ".jsonl":
            rows = [json.loads(line) for line in text.splitlines() if line.strip()]
        else:
            rows = list(csv.DictReader(io.StringIO(text)))
        for r in rows:
            face = r.get("face")
            r["face"] = None if face in (None, "") else int(face)
            if "path" not in r:
                raise ValueError("no path column")
    except (ValueError, TypeError, AttributeError) as exc:
        raise FacerecError(f"{path}: not a facerec results file ({exc})") from exc
    return rows


def identify_collection(recognizer, photos, cache: bool = True, batch_size: int = 64,
                        progress: bool = True) -> list[dict]:
    """Every face of every photo named by a Recognizer: rows with name, probability, distance."""
    return identify_rows(recognizer.recognize_files(photos, cache=cache, batch_size=batch_size,
                                                    progress=progress))


def cluster_collection(embedder, photos, gallery=None, pair_rate: float | None = None, cache: bool = True,
                       batch_size: int = 64, progress: bool = True) -> list[dict]:
    """Faces grouped by person: rows with ``cluster`` (1, 2, ... largest first; None for a face
    that matches no one).  With a gallery, the faces it names are left out (their rows say who)."""
    from .encoder import FaceEncoder

    encoder = FaceEncoder(embedder, cache=cache, batch_size=batch_size)
    return cluster_files(encoder.encode(photos, progress=progress), embedder.name, gallery, pair_rate)


def cluster_files(files, model_name: str, gallery=None, pair_rate: float | None = None) -> list[dict]:
    """cluster_collection's work on faces already embedded (FileFaces: from photos or a faces file)."""
    import numpy as np

    from .clustering import PAIR_RATE, cluster_embeddings, link_distance
    from .openset import shipped

    stats = shipped(model_name)
    if stats is None:
        raise FacerecError(f"no distance statistics for model '{model_name}': measure them with facerec calibrate")
    rows, vectors = [], []
    for ff in files:
        if ff.error or not len(ff):
            rows.append({"path": ff.path, "face": None, "box": None, "cluster": None,
                         "note": ff.error or "no face found"})
            continue
        names = gallery.identify(ff.embeddings)[0] if gallery is not None else [None] * len(ff)
        for i in range(len(ff)):
            named = names[i] not in (None, "Unknown")
            rows.append({"path": ff.path, "face": i, "box": _box(ff.boxes[i]), "cluster": None,
                         "note": f"named {names[i]} by the gallery" if named else ""})
            if not named:
                vectors.append((len(rows) - 1, ff.embeddings[i]))
    if vectors:
        limit = link_distance(stats, PAIR_RATE if pair_rate is None else pair_rate)
        labels = cluster_embeddings(np.stack([v for _, v in vectors]), limit)
        for (row, _), label in zip(vectors, labels):
            rows[row]["cluster"] = int(label) + 1 if label >= 0 else None
    return rows


UNMATCHED = "Unmatched"  # the folder and page heading of faces that match no one


def group_of(row, column: str) -> str | None:
    """The folder a face row sorts into: its name, "cluster-N", Unmatched; None for no face."""
    if row.get("face") is None:
        return None
    if column == "name":
        return row.get("name") or None
    value = row.get("cluster")
    if value in (None, ""):
        return None if row.get("note", "").startswith("named ") else UNMATCHED
    return f"cluster-{int(value):03d}"


def page_groups(rows, column: str) -> list:
    """(heading, faces, is_unknown) for html_page.write_page: people or clusters, the rest last."""
    from .classifier import UNKNOWN

    groups: dict = {}
    for r in rows:
        g = group_of(r, column)
        if g is None:
            continue
        tip = f"{Path(r['path']).name}, face {r['face']}"
        if r.get("distance") is not None:
            tip += f", distance {float(r['distance']):.3f}"
        groups.setdefault(g, []).append((r["path"], r["box"], tip))
    rest = {UNKNOWN, UNMATCHED}
    order = sorted((g for g in groups if g not in rest), key=lambda g: (-len(groups[g]), g))
    order += [g for g in (UNKNOWN, UNMATCHED) if g in groups]
    heading = lambda g: f"Cluster {int(g.split('-')[1])}" if g.startswith("cluster-") else g
    return [(heading(g), groups[g], g in rest) for g in order]
