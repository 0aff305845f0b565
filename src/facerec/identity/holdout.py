"""Choosing a classifier's Unknown rule by holding whole people out as strangers.

Each fold trains on all people but a few, then scores held-out photos of the known people (must
be named right and pass) and all photos of the held-out people (must be stopped).  The rule (a
probability floor and a distance to the nearest training face) that maximises the mean of the
two rates wins.
"""
from __future__ import annotations

import numpy as np

from .svm import svm_names


def no_rule(why: str) -> dict:
    """The calibration of a classifier that names every face its closest name."""
    return {"method": f"none ({why}); every face gets its closest name", "reason": why}


def nearest_distance(x: np.ndarray, gallery: np.ndarray) -> np.ndarray:
    """Distance from each row of x to its nearest row of gallery (inf for an empty gallery)."""
    if len(gallery) == 0:
        return np.full(len(x), np.inf)
    d2 = (x ** 2).sum(1)[:, None] + (gallery ** 2).sum(1)[None] - 2 * x @ gallery.T
    return np.sqrt(np.maximum(d2.min(axis=1), 0))


def _folds(y, groups, rng, max_folds: int, repeats: int):
    """(train, known held out, strangers) boolean masks.  Several shuffles of who is held out: one
    shuffle leaves the chosen rule at the mercy of which few people happened to play the strangers."""
    classes = np.unique(y)
    n_folds = min(max_folds, len(classes))
    for _ in range(repeats):
        order = rng.permutation(classes)
        for f in range(n_folds):
            strangers = order[f::n_folds]
            if len(classes) - len(strangers) < 2:
                continue
            is_stranger = np.isin(y, strangers)
            # Hold out about a quarter of each known person's photos (whole photos, by group).
            val = np.zeros(len(y), bool)
            for c in classes:
                g = np.unique(groups[y == c])
                if c in strangers or len(g) < 2:
                    continue
                pick = rng.choice(g, size=max(1, len(g) // 4), replace=False)
                val |= np.isin(groups, pick) & (y == c)
            train = ~is_stranger & ~val
            if len(np.unique(y[train])) >= 2:
                yield train, val, is_stranger


def _best_rule(kp, ko, kd, sp, sd) -> tuple:
    """(score, threshold, max distance, known rate, rejection rate) over a grid of both."""
    best = None
    p_grid = np.unique(np.concatenate([[0.0], np.quantile(np.concatenate([kp, sp]), np.linspace(0, 1, 101))]))
    d_grid = np.unique(np.concatenate([[np.inf], np.quantile(np.concatenate([kd, sd]), np.linspace(0, 1, 101))]))
    for t in p_grid:
        for d in d_grid:
            known_rate = np.mean(ko & (kp >= t) & (kd <= d))
            reject_rate = np.mean((sp < t) | (sd > d))
            score = (known_rate + reject_rate) / 2
            if best is None or score > best[0] + 1e-9:
                best = (score, float(t), float(d), float(known_rate), float(reject_rate))
    return best


def hold_people_out(X, y, groups, make_svm, seed: int, max_folds: int = 10,
                    repeats: int = 3) -> tuple[float, float, dict]:
    """(probability floor, max distance, calibration) chosen on X (N, D), y (N,) class indices,
    groups (N,) photo ids; make_svm() gives an unfitted SVM."""
    if len(np.unique(y)) < 3:
        return 0.0, float("inf"), no_rule("fewer than three people: no one can be held out as a stranger")
    rng = np.random.default_rng(seed)
    known_p, known_ok, known_d, strange_p, strange_d = [], [], [], [], []
    for train, val, strangers in _folds(y, groups, rng, max_folds, repeats):
        svm = make_svm().fit(X[train], y[train])
        if val.any():
            pred, prob = svm_names(svm, X[val])
            known_p.append(prob)
            known_ok.append(pred == y[val])
            known_d.append(nearest_distance(X[val], X[train]))
        strange_p.append(svm_names(svm, X[strangers])[1])
        strange_d.append(nearest_distance(X[strangers], X[train]))
    if not known_p or not strange_p:
        return 0.0, float("inf"), no_rule("not enough photos per person to hold any out")
    kp, sp = np.concatenate(known_p), np.concatenate(strange_p)
    _, threshold, max_distance, known_rate, reject_rate = _best_rule(
        kp, np.concatenate(known_ok), np.concatenate(known_d), sp, np.concatenate(strange_d))
    calibration = {"method": "people held out as strangers", "folds": min(max_folds, len(np.unique(y))),
                   "repeats": repeats, "known_photos": int(len(kp)), "stranger_photos": int(len(sp)),
                   "known_accuracy": known_rate, "stranger_rejection": reject_rate}
    return threshold, max_distance, calibration
