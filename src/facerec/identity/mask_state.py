"""A face the mask check is unsure of: answered over both states, masked and bare.

The mask check gives a chance, and one cut (MASKED) sent every face one way.  A bare face it half
believes masked (1.7% of lfw-dev's bare detections are called masked: a beard, a shadow, a tight
crop) was then compared only with the masked renderings, far from everyone, and called Unknown
"right" at 0.999 though it was an enrolled person: sure, and wrong.  Between UNSURE's bounds the
state is weighed with everything else: each hypothesis "person k, masked" or "person k, bare" has
the weight P(state) x prior x likelihood ratio of that state's distances (AnswerOdds.log_weights);
a stranger's is the stranger prior in either state.  That last part is an approximation: each
state's ratios are against its own strangers' distances, taken as equally likely.  The state whose
distances explain the face carries the answer, and its distance is the one reported.  The floor is
the stricter of the two states' (the masked one): a stranger has two chances here, one per state,
and a mean of the two floors let 1.2-1.5% of simulated strangers through against a 1% target.
"""
from __future__ import annotations

import numpy as np

from ..detection.mask_check import MASKED
from ..errors import FacerecError
from .protocol import UNKNOWN, Identities

UNSURE = (0.2, 0.8)  # mask chances between which a face is weighed both ways


def mask_chances(masked, n: int) -> np.ndarray:
    """identify()'s masked argument as n chances: booleans (seen masked or not) are 1 and 0;
    None is none masked."""
    try:
        chance = np.zeros(n) if masked is None else np.asarray(masked, np.float64).reshape(-1)
    except (TypeError, ValueError):
        raise FacerecError("identify: masked is one flag or chance (0 to 1) per face") from None
    if len(chance) != n:
        raise FacerecError(f"identify: {len(chance)} masked flags for {n} faces")
    if not ((chance >= 0) & (chance <= 1)).all():
        raise FacerecError("identify: a face's chance of being masked is between 0 and 1")
    return chance


def seen_masked(masked, n: int) -> np.ndarray:
    """identify()'s masked argument (booleans or chances) as n booleans: the mask check's cut."""
    return mask_chances(masked, n) >= MASKED


def unsure(chance: np.ndarray) -> np.ndarray:
    """Which faces the mask check is unsure of (weighed both ways)."""
    return (chance > UNSURE[0]) & (chance < UNSURE[1])


def answered_either_way(gallery, X: np.ndarray, chance: np.ndarray) -> Identities:
    """Identities of faces X (N, D) with mask chances (N,) inside UNSURE, from a gallery and its
    masked side (the same people, in the same order)."""
    masked = gallery.masked_side()
    names = gallery.class_names
    bare_codes, bare_w, stranger, bare_d = gallery.log_weights(X)
    mask_codes, mask_w, _, mask_d = masked.log_weights(X)
    codes = np.concatenate([bare_codes, mask_codes], axis=1)
    weights = np.concatenate([bare_w + np.log1p(-chance)[:, None], mask_w + np.log(chance)[:, None]], axis=1)
    dists = np.concatenate([bare_d, mask_d], axis=1)
    floor = max(gallery.probability_floor(), masked.probability_floor())
    out_names, probs, distance = [], [], []
    for i in range(len(X)):
        person, p_person, p_stranger, at = _likeliest(codes[i], weights[i], stranger)
        named = person >= 0 and p_person >= floor
        out_names.append(names[person] if named else UNKNOWN)
        probs.append(p_person if named else p_stranger)
        # the distance of the state that carries the answer: the named person's likelier one, or,
        # for Unknown, the nearest face of the likelier state
        side = at if named else (bare_d.shape[1] if chance[i] >= MASKED else 0)
        distance.append(dists[i, side])
    return Identities(out_names, np.array(probs), np.array(distance))


def _likeliest(codes: np.ndarray, weights: np.ndarray, stranger: float) -> tuple[int, float, float, int]:
    """One face's likeliest person (code, -1 for none), the chance it is them, the chance it is a
    stranger (a person's two states added), and the column of that person's heavier state."""
    ok = (codes >= 0) & np.isfinite(weights)
    if not ok.any():
        return -1, 0.0, 1.0, 0
    people, at = np.unique(codes[ok], return_inverse=True)
    per_person = np.full(len(people), -np.inf)
    np.logaddexp.at(per_person, at, weights[ok])
    total = np.logaddexp(stranger, np.logaddexp.reduce(per_person))
    best = int(np.argmax(per_person))
    columns = np.flatnonzero(ok)[at == best]
    heavier = int(columns[np.argmax(weights[columns])])
    return int(people[best]), float(np.exp(per_person[best] - total)), float(np.exp(stranger - total)), heavier
