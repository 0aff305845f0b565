"""A face the mask check is unsure of: answered over both states, masked and bare.

The mask check gives a chance, and one cut (MASKED) sent every face one way.  A bare face it half
believes masked (1.7% of lfw-dev's bare detections are called masked: a beard, a shadow, a tight
crop) was then compared only with the masked renderings, far from everyone, and called Unknown
"right" at 0.9999 though it was an enrolled person: sure, and wrong.  Between UNSURE's bounds the
state is one more unknown, weighed by Bayes' rule with everything else: each hypothesis "person k,
masked" or "person k, bare" has the weight P(state) x prior x likelihood ratio of that state's
distances (odds.AnswerOdds.log_weights), a stranger's is the stranger prior in either state.  The
state whose distances explain the face better carries the answer; a face neither explains is Unknown,
as sure as the two states together allow.  The floor is the two states' floors, weighed by the chance.
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
    chance = np.zeros(n) if masked is None else np.asarray(masked, np.float64).reshape(-1)
    if len(chance) != n:
        raise FacerecError(f"identify: {len(chance)} masked flags for {n} faces")
    return chance


def unsure(chance: np.ndarray) -> np.ndarray:
    """Which faces the mask check is unsure of (weighed both ways)."""
    return (chance > UNSURE[0]) & (chance < UNSURE[1])


def answered_either_way(gallery, X: np.ndarray, chance: np.ndarray) -> Identities:
    """Identities of faces X (N, D) with mask chances (N,), from a gallery and its masked side."""
    masked = gallery.masked_side()
    names = gallery.person_names()
    bare_codes, bare_w, stranger, bare_d = gallery.log_weights(X)
    mask_codes, mask_w, _, mask_d = masked.log_weights(X)
    codes = np.concatenate([bare_codes, mask_codes], axis=1)
    weights = np.concatenate([bare_w + np.log1p(-chance)[:, None], mask_w + np.log(chance)[:, None]], axis=1)
    floor = chance * masked.probability_floor() + (1 - chance) * gallery.probability_floor()
    out_names, probs = [], []
    for i in range(len(X)):
        person, p_person, p_stranger = _likeliest(codes[i], weights[i], stranger)
        named = person >= 0 and p_person >= floor[i]
        out_names.append(names[person] if named else UNKNOWN)
        probs.append(p_person if named else p_stranger)
    distance = np.where(chance >= MASKED, mask_d, bare_d)
    return Identities(out_names, np.array(probs), distance)


def _likeliest(codes: np.ndarray, weights: np.ndarray, stranger: float) -> tuple[int, float, float]:
    """One face's likeliest person (code, -1 for none), the chance it is them, and the chance it is a
    stranger, from its candidates' log weights in both states (a person's two states added)."""
    ok = (codes >= 0) & np.isfinite(weights)
    if not ok.any():
        return -1, 0.0, 1.0
    people, at = np.unique(codes[ok], return_inverse=True)
    per_person = np.full(len(people), -np.inf)
    np.logaddexp.at(per_person, at, weights[ok])
    total = np.logaddexp(stranger, np.logaddexp.reduce(per_person))
    best = int(np.argmax(per_person))
    return int(people[best]), float(np.exp(per_person[best] - total)), float(np.exp(stranger - total))
