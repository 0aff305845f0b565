"""LFW-style verification: pairs files, 10-fold accuracy, VAL@FAR, AUC, EER, ROC (FaceNet's protocol)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .errors import FacerecError
from .files import atomic_write

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")


def looks_like_pairs(head: bytes) -> bool:
    """Whether a file's first bytes are a pairs file's (its header: the fold count and pairs per fold)."""
    # Only the first line: the head may end inside a name's multi-byte character.
    first = head.split(b"\n", 1)[0].decode("utf-8-sig", "replace").split()
    return 1 <= len(first) <= 2 and all(part.isdigit() for part in first)


def read_pairs(path) -> list[list[str]]:
    """LFW's pairs.txt: a header line, then 'name n1 n2' (same) or 'name1 n1 name2 n2' (different)."""
    path = Path(path)
    if not path.is_file():
        raise FacerecError(f"{path}: pairs file not found")
    pairs = []
    for k, line in enumerate(path.read_text().splitlines()[1:], start=2):
        parts = line.split()
        if not parts:
            continue
        if len(parts) not in (3, 4):
            raise FacerecError(f"{path}:{k}: expected 'name n1 n2' or 'name1 n1 name2 n2', got '{line}'")
        pairs.append(parts)
    if not pairs:
        raise FacerecError(f"{path}: no pairs in it")
    return pairs


def _find(root: Path, name: str, number: str) -> Path | None:
    stem = f"{name}_{int(number):04d}"
    for suffix in IMAGE_SUFFIXES:
        p = root / name / (stem + suffix)
        if p.exists():
            return p
    return None


def pair_paths(root, pairs) -> tuple[list, list, list]:
    """(path pairs, same flags, missing pair lines) for the pairs whose two images both exist."""
    root = Path(root)
    out, same, missing = [], [], []
    for p in pairs:
        if len(p) == 3:
            a, b, issame = _find(root, p[0], p[1]), _find(root, p[0], p[2]), True
        else:
            a, b, issame = _find(root, p[0], p[1]), _find(root, p[2], p[3]), False
        if a is None or b is None:
            missing.append(" ".join(p))
            continue
        out.append((a, b))
        same.append(issame)
    return out, np.asarray(same, bool), missing


def distance(e1: np.ndarray, e2: np.ndarray, metric: int = 0) -> np.ndarray:
    """metric 0: squared Euclidean (FaceNet's); 1: angular distance arccos(cosine)/pi."""
    if metric == 0:
        return np.sum(np.square(e1 - e2), axis=1)
    if metric == 1:
        cos = np.sum(e1 * e2, axis=1) / (np.linalg.norm(e1, axis=1) * np.linalg.norm(e2, axis=1))
        return np.arccos(np.clip(cos, -1.0, 1.0)) / np.pi
    raise FacerecError(f"unknown distance metric {metric}: 0 (Euclidean) or 1 (cosine)")


def _acc(threshold, dist, same):
    pred = dist < threshold
    tp = np.sum(pred & same); fp = np.sum(pred & ~same)
    tn = np.sum(~pred & ~same); fn = np.sum(~pred & same)
    tpr = tp / max(tp + fn, 1); fpr = fp / max(fp + tn, 1)
    return tpr, fpr, (tp + tn) / len(dist)


def _folds(n, n_folds):
    from sklearn.model_selection import KFold

    return list(KFold(n_splits=n_folds, shuffle=False).split(np.arange(n)))


def evaluate(emb1, emb2, same, n_folds=10, metric=0, subtract_mean=False, far_target=1e-3) -> dict:
    """FaceNet's 10-fold protocol: accuracy with the threshold chosen on the training folds,
    VAL at FAR=far_target, ROC, AUC and EER."""
    from scipy.interpolate import interp1d
    from scipy.optimize import brentq
    from sklearn.metrics import auc

    thresholds = np.arange(0, 4, 0.01) if metric == 0 else np.arange(0, 1, 0.0025)
    folds = _folds(len(same), n_folds)
    tprs = np.zeros((n_folds, len(thresholds)))
    fprs = np.zeros((n_folds, len(thresholds)))
    accuracy, val, far = np.zeros(n_folds), np.zeros(n_folds), np.zeros(n_folds)
    # A FAR of far_target needs 1/far_target different-person pairs in the training folds to be
    # seen at all: with fewer, the threshold is set by one or two pairs (or falls to 0), and VAL
    # says little whatever it reads.
    fewest_different = min(int(np.sum(~same[train])) for train, _ in folds)
    for f, (train, test) in enumerate(folds):
        if subtract_mean:
            mean = np.mean(np.concatenate([emb1[train], emb2[train]]), axis=0)
        else:
            mean = 0.0
        dist = distance(emb1 - mean, emb2 - mean, metric)
        train_acc = np.array([_acc(t, dist[train], same[train])[2] for t in thresholds])
        best = thresholds[np.argmax(train_acc)]
        for i, t in enumerate(thresholds):
            tprs[f, i], fprs[f, i], _ = _acc(t, dist[test], same[test])
        accuracy[f] = _acc(best, dist[test], same[test])[2]
        # VAL@FAR: the threshold giving the target FAR on the training folds, applied to the test fold.
        far_train = np.array([_far_val(t, dist[train], same[train])[1] for t in thresholds])
        if np.max(far_train) >= far_target:
            uniq, idx = np.unique(far_train, return_index=True)
            t_far = float(interp1d(uniq, thresholds[idx], kind="slinear")(far_target)) if len(uniq) > 1 else 0.0
        else:
            t_far = 0.0
        val[f], far[f] = _far_val(t_far, dist[test], same[test])
    tpr, fpr = tprs.mean(0), fprs.mean(0)
    area = auc(fpr, tpr)
    try:
        eer = brentq(lambda x: 1.0 - x - interp1d(fpr, tpr)(x), 0.0, 1.0)
    except ValueError:
        eer = float("nan")
    return {"accuracy": float(accuracy.mean()), "accuracy_std": float(accuracy.std()),
            "val": float(val.mean()), "val_std": float(val.std()), "far": float(far.mean()),
            "far_target": far_target, "val_measurable": fewest_different * far_target >= 1,
            "different_pairs_needed": round(1 / far_target),
            "different_pairs_per_training": fewest_different,
            "auc": float(area), "eer": float(eer), "tpr": tpr, "fpr": fpr, "pairs": int(len(same))}


def _far_val(threshold, dist, same):
    pred = dist < threshold
    ta = np.sum(pred & same); fa = np.sum(pred & ~same)
    return ta / max(np.sum(same), 1), fa / max(np.sum(~same), 1)


FIGURE_FORMATS = ("png", "pdf", "svg", "jpg", "jpeg")


def figure_format(path) -> str:
    """The picture format path's name asks for, checked before any work is done."""
    kind = Path(path).suffix.lower().lstrip(".")
    if kind not in FIGURE_FORMATS:
        raise FacerecError(f"{path}: a figure is written as {', '.join('.' + f for f in FIGURE_FORMATS)}")
    return kind


def looks_like_figure(head: bytes) -> bool:
    """Whether a file's first bytes are matplotlib's (PNG and SVG name it, plot_roc's JPEGs in a
    comment; its PDFs open with its own binary comment line): a rerun may replace its figure, not a
    document of the user's."""
    return b"atplotlib" in head or (head.startswith(b"%PDF-") and b"\n%\xac\xdc \xab\xba\n" in head[:32])


def plot_roc(result: dict, path, title: str) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 5))
    ax.plot(result["fpr"], result["tpr"], lw=2, label=f"AUC {result['auc']:.4f}")
    ax.set_xscale("log")
    ax.set_xlim(1e-4, 1)
    ax.set_ylim(0, 1.01)
    ax.set_xlabel("false accept rate")
    ax.set_ylabel("true accept rate")
    ax.set_title(title, fontsize=9)
    ax.legend(loc="lower right")
    fig.tight_layout()
    try:  # whole or not at all: a full disk keeps an older curve of that name as it was
        kind = figure_format(path)
        # A JPEG carries no maker's name unless given one; with it, a rerun knows the file is its own.
        marked = {"pil_kwargs": {"comment": b"Matplotlib figure by facerec"}} if kind in ("jpg", "jpeg") else {}
        atomic_write(path, lambda f: fig.savefig(f, format=kind, dpi=110, **marked), fsync=False)
    finally:
        plt.close(fig)
    return Path(path)


def _check_fold(lfw_dir, fold: int, group: list, per_fold: int) -> None:
    """Refuse a fold whose people cannot give per_fold distinct same-person and different-person
    pairs (drawing them would never end)."""
    sizes = [len(nums) for _, nums in group]
    same = sum(n * (n - 1) // 2 for n in sizes)
    different = (sum(sizes) ** 2 - sum(n * n for n in sizes)) // 2
    if min(same, different) < per_fold:
        raise FacerecError(f"{lfw_dir}: fold {fold + 1}'s people give {same} same-person and {different} "
                           f"different-person pairs, fewer than --per_fold {per_fold}: give more photos or "
                           f"ask for fewer pairs or folds")


def make_pairs(lfw_dir, n_folds: int = 10, per_fold: int = 100, seed: int = 0) -> str:
    """A pairs file in LFW's pairs.txt format from a folder of people.

    As in LFW's View 2, people are split into n_folds disjoint groups; each fold draws per_fold
    same-person pairs and per_fold different-person pairs from its own people only.
    """
    from .people_folders import get_dataset

    import re

    rng = np.random.default_rng(seed)
    people = []
    for c in get_dataset(lfw_dir):
        # LFW names its photos Person_Name_NNNN; the pairs file can only point at such names.
        nums = sorted(int(m.group(1)) for p in c.image_paths
                      if (m := re.fullmatch(re.escape(c.name) + r"_(\d+)", Path(p).stem)))
        if nums:
            people.append((c.name, nums))
    if not people:
        raise FacerecError(f"{lfw_dir}: no photo is named as LFW names them (Person_Name/Person_Name_0001.jpg)")
    if len(people) < 2 * n_folds:
        raise FacerecError(f"{lfw_dir}: {len(people)} people are too few for {n_folds} folds")
    order = rng.permutation(len(people))
    lines = [f"{n_folds}\t{per_fold}"]
    for f in range(n_folds):
        group = [people[i] for i in order[f::n_folds]]
        _check_fold(lfw_dir, f, group, per_fold)
        multi = [g for g in group if len(g[1]) >= 2]
        seen = set()
        same = []
        while len(same) < per_fold:
            name, nums = multi[rng.integers(len(multi))]
            a, b = sorted(rng.choice(nums, 2, replace=False))
            if (name, a, b) not in seen:
                seen.add((name, a, b))
                same.append(f"{name}\t{a}\t{b}")
        diff = []
        while len(diff) < per_fold:
            i, j = rng.choice(len(group), 2, replace=False)
            (n1, s1), (n2, s2) = group[i], group[j]
            a, b = int(rng.choice(s1)), int(rng.choice(s2))
            key = (n1, a, n2, b)
            if key not in seen:
                seen.add(key)
                diff.append(f"{n1}\t{a}\t{n2}\t{b}")
        lines += same + diff
    return "\n".join(lines) + "\n"


def validate_pairs(lfw_dir, pairs_file, model="default", *, n_folds: int | None = None, metric: int = 0,
                   subtract_mean: bool = False, use_flipped_images: bool = False, batch_size: int = 100,
                   image_size: int | None = None, distance_threshold: float | None = None,
                   progress: bool = True) -> dict:
    """FaceNet's validate_on_lfw on a folder (raw photos, or crops from align_dataset.py) and a
    pairs file: evaluate()'s figures, plus the accuracy at one fixed Euclidean distance (by
    default the model's same-person distance, what verify() uses) under "fixed_accuracy".
    n_folds: by default the folds the pairs file was written for (its header), 10 for LFW's: a
    pairs file's folds keep each person in one, and other folds can hold one kind of pair only."""
    from .embedding import load_embedder
    from .pipeline import FacePipeline

    pairs = read_pairs(pairs_file)
    n_folds = n_folds or _written_folds(pairs_file) or 10
    if not Path(lfw_dir).is_dir():
        raise FacerecError(f"{lfw_dir}: LFW folder does not exist")
    paths, same, missing = pair_paths(lfw_dir, pairs)
    if not paths:
        raise FacerecError(f"none of the pairs in {pairs_file} has both images under {lfw_dir}")
    _check_folds(len(paths), n_folds, pairs_file)  # before the slow part; again below for faces not found
    _check_kinds(same, pairs_file)
    emb = load_embedder(model, image_size=image_size)
    files = sorted({str(p) for pair in paths for p in pair})
    encoded = FacePipeline(emb, batch_size=batch_size).files(files, mirrored=use_flipped_images, progress=progress)
    faces = dict(zip(files, encoded))
    e1, e2, keep = [], [], []
    for k, (a, b) in enumerate(paths):
        fa, fb = faces[str(a)], faces[str(b)]
        ja, jb = fa.subject(), fb.subject()
        if ja is None or jb is None:
            continue
        va, vb = [fa.embeddings[ja]], [fb.embeddings[jb]]
        if use_flipped_images:
            va.append(fa.flipped[ja]); vb.append(fb.flipped[jb])
        e1.append(np.concatenate(va)); e2.append(np.concatenate(vb)); keep.append(k)
    if not keep:
        raise FacerecError(f"no pair under {lfw_dir} has a face found in both images")
    _check_folds(len(keep), n_folds, pairs_file, " with a face in both images")
    _check_kinds(same[keep], pairs_file, " with a face in both images")
    e1, e2, same = np.asarray(e1), np.asarray(e2), same[keep]
    r = evaluate(e1, e2, same, n_folds=n_folds, metric=metric, subtract_mean=subtract_mean)
    t = emb.same_person_distance if distance_threshold is None else distance_threshold
    if t is not None and not use_flipped_images:
        r["fixed_threshold"] = float(t)
        r["fixed_accuracy"] = float(np.mean((np.linalg.norm(e1 - e2, axis=1) <= t) == same))
    r.update(missing=missing, no_face=len(paths) - len(keep), total_pairs=len(pairs), model_name=emb.name)
    return r


def _written_folds(pairs_file) -> int | None:
    """The folds a pairs file was written for: its header's first number (LFW's: 10 300)."""
    try:
        folds = int(Path(pairs_file).read_text().split(None, 1)[0])
    except (OSError, ValueError, IndexError):
        return None
    return folds if folds >= 2 else None


def _check_kinds(same: np.ndarray, pairs_file, which: str = "") -> None:
    if same.all() or not same.any():
        kind = "same" if same.all() else "different"
        raise FacerecError(f"{pairs_file}: the pairs{which} are all {kind}-person pairs; accuracy needs both kinds")


def _check_folds(pairs: int, n_folds: int, pairs_file, which: str = "") -> None:
    if 2 <= n_folds <= pairs:
        return
    written = _written_folds(pairs_file)
    hint = f"; {pairs_file} was written for {written}" if written and written != n_folds else ""
    raise FacerecError(f"{pairs} pairs{which} cannot be split into {n_folds} folds (--lfw_nrof_folds){hint}")


def score_classification(rows, class_names) -> dict:
    """rows: (true name, predicted name or None) per face; a true name outside class_names is a
    stranger.  Accuracy on known people and the share of strangers left unnamed."""
    from .identity.protocol import is_named

    known = set(class_names)
    k = [(t, p) for t, p in rows if t in known]
    s = [(t, p) for t, p in rows if t not in known]
    return {"known_faces": len(k), "accuracy": float(np.mean([t == p for t, p in k])) if k else float("nan"),
            "stranger_faces": len(s),
            "stranger_rejection": float(np.mean([not is_named(p) for _, p in s])) if s else float("nan")}
