"""--report: per-class precision and recall, and a confusion-matrix picture."""
from __future__ import annotations

from pathlib import Path

import numpy as np


def write_report(folder, rows, class_names) -> Path:
    """rows: (true name, predicted name or None). Writes report.txt and confusion.png; returns folder."""
    from sklearn.metrics import classification_report, confusion_matrix

    from .classifier import UNKNOWN

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    known = set(class_names)
    truth = [t if t in known else UNKNOWN for t, _ in rows]
    pred = [p if p is not None else UNKNOWN for _, p in rows]
    labels = [n for n in class_names if n in set(truth) | set(pred)]
    if UNKNOWN in set(truth) | set(pred):
        labels.append(UNKNOWN)
    text = classification_report(truth, pred, labels=labels, zero_division=0, digits=3)
    (folder / "report.txt").write_text(text)
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
    fig.tight_layout()
    fig.savefig(folder / "confusion.png", dpi=110)
    plt.close(fig)
    return folder
