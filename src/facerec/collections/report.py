"""--report: per-class precision and recall, and a confusion-matrix picture."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..files import atomic_write_bytes
from ..wording import counted

# What a --report folder receives (each checked against the inputs before any work).
REPORT_FILES = ("summary.txt", "distances.png", "report.txt", "confusion.png")


# What each report file begins with (its first 4 kB), so a rerun replaces only its own files.
_OURS = {"summary.txt": lambda head: head.startswith(b"name "), "report.txt": lambda head: b"precision" in head,
         "distances.png": lambda head: b"atplotlib" in head, "confusion.png": lambda head: b"atplotlib" in head}


def refuse_replacing_report_files(folder) -> None:
    """Refuse a --report that is a file, or a folder holding, under a report file's name, a file
    this did not write."""
    from ..errors import FacerecError
    from ..files import refuse_replacing_another_kind

    if Path(folder).exists() and not Path(folder).is_dir():
        raise FacerecError(f"--report {folder}: is a file; name a folder for the report")
    for name in REPORT_FILES:
        refuse_replacing_another_kind(Path(folder) / name, _OURS[name], "a facerec report file", "--report")


def write_report(folder, rows, class_names) -> Path:
    """rows: (true name, predicted name or None). Writes report.txt and confusion.png; returns folder."""
    from sklearn.metrics import classification_report, confusion_matrix

    from ..identity.protocol import UNKNOWN

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    known = set(class_names)
    truth = [t if t in known else UNKNOWN for t, _ in rows]
    pred = [p if p is not None else UNKNOWN for _, p in rows]
    labels = [n for n in class_names if n in set(truth) | set(pred)]
    if UNKNOWN in set(truth) | set(pred):
        labels.append(UNKNOWN)
    text = classification_report(truth, pred, labels=labels, zero_division=0, digits=3)
    atomic_write_bytes(folder / "report.txt", text.encode("utf-8", "backslashreplace"), fsync=False)
    cm = confusion_matrix(truth, pred, labels=labels)

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = len(labels)
    fig, ax = plt.subplots(figsize=(max(6, 0.35 * n + 3), max(5, 0.35 * n + 2)))
    ax.imshow(cm, cmap="Blues")
    ax.set_xticks(range(n), labels, rotation=90, fontsize=7)
    ax.set_yticks(range(n), labels, fontsize=7)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    for i in range(n):
        for j in range(n):
            if cm[i, j]:
                ax.text(j, i, str(cm[i, j]), ha="center", va="center", fontsize=6,
                        color="white" if cm[i, j] > cm.max() / 2 else "black")
    ax.set_title(f"Confusion matrix ({int(np.trace(cm))}/{int(cm.sum())} correct)")
    _save(fig, folder / "confusion.png")
    return folder


def _save(fig, path) -> None:
    import io

    import matplotlib.pyplot as plt

    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    plt.close(fig)
    atomic_write_bytes(path, buf.getvalue(), fsync=False)


def write_collection_report(folder, rows, recognizer_file) -> Path:
    """For a collection nobody labelled: faces per name (summary.txt) and how close each face came
    to its nearest enrolled face, named and Unknown, beside the acceptance distance (distances.png)."""
    from ..identity.protocol import UNKNOWN

    folder = Path(folder)
    faces = [r for r in rows if r["face"] is not None]
    counts: dict = {}
    for r in faces:
        counts.setdefault(r["name"], set()).add(r["path"])
    lines = [f"{'name':<32}{'faces':>7}{'photos':>8}"]
    for name in sorted(counts, key=lambda n: (n == UNKNOWN, n)):
        lines.append(f"{name:<32}{sum(r['name'] == name for r in faces):7d}{len(counts[name]):8d}")
    no_face = sum(r["note"] == "no face found" for r in rows)
    unreadable = [r for r in rows if r["face"] is None and r["note"] != "no face found"]
    lines.append(f"\n{counted(len({r['path'] for r in rows}), 'photo')}, {counted(len(faces), 'face')}, "
                 f"{counted(no_face, 'photo')} without a face, {len(unreadable)} unreadable")
    lines += [f"  {r['path']}: {r['note']}" for r in unreadable]
    atomic_write_bytes(folder / "summary.txt", ("\n".join(lines) + "\n").encode("utf-8", "backslashreplace"), fsync=False)

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    named = [r["distance"] for r in faces if r["name"] != UNKNOWN]
    unknown = [r["distance"] for r in faces if r["name"] == UNKNOWN and np.isfinite(r["distance"])]
    bins = np.linspace(0, max([0.8] + named + unknown), 41)
    ax.hist([named, unknown], bins=bins, stacked=True, color=["#2a9d3f", "#c0392b"], label=["named", UNKNOWN])
    limit = recognizer_file.acceptance_distance()
    if np.isfinite(limit):
        ax.axvline(limit, color="black", linestyle="--", label=f"acceptance distance {limit:.3f}")
    ax.set_xlabel("distance to the nearest enrolled face")
    ax.set_ylabel("faces")
    ax.legend()
    ax.set_title(f"{len(named)} faces named, {len(unknown)} Unknown")
    _save(fig, folder / "distances.png")
    return folder
