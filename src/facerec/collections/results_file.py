"""The results file of a photo collection: one row per face, as CSV or JSON lines.

A row is a dict with ``path``, ``face`` (index in the photo), ``box`` and whatever names it
(``name``, ``probability``, ``distance`` from a gallery or classifier; ``masked``, whether
the face wore a mask, and ``soft``, whether it was too blurred to enrol; ``cluster`` from
clustering); a photo with no face, or one that cannot be read, gets one row with an empty
``face`` and a ``note``.
"""
from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from ..errors import FacerecError

IDENTIFY_COLUMNS = ["path", "face", "box", "name", "probability", "distance", "masked", "soft", "note"]
CLUSTER_COLUMNS = ["path", "face", "box", "cluster", "note"]


def box_cell(box) -> list[float]:
    return [round(float(v), 1) for v in box]


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return " ".join(f"{v:g}" for v in value)
    return str(value)


def write_rows(path, rows, columns) -> None:
    """Write rows as CSV (.csv) or JSON lines (.jsonl), atomically."""
    from ..files import atomic_write_bytes

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


def refuse_replacing_other_files(path) -> None:
    """Refuse an --output where a file is that no earlier run wrote (the user's own CSV would be lost)."""
    from ..files import refuse_replacing_another_kind

    if path is not None:
        refuse_replacing_another_kind(path, looks_like_results, "a facerec results file", "--output")


def looks_like_results(head: bytes) -> bool:
    """Whether a file's first bytes are write_rows' (every results and clusters file starts path, face)."""
    return head.startswith((b"path,face,", b'{"path": '))


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
