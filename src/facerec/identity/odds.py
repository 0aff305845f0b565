"""The chance that an answer is right, whether the answer is a name or Unknown.

A face's distances to each enrolled person's nearest photo are weighed by Bayes' rule over the
hypotheses "this face is person k" and "a stranger".  A person's evidence is the likelihood ratio
of their nearest distance: how much likelier that distance is between two photos of one person
than between two people (the model's measured genuine and impostor distances, openset.DistanceStats).
The nearest of a person's n photos is the minimum of n draws, so the ratio carries how rarely all
n photos are that far from a genuine face: with more photos a far nearest photo is weaker evidence.
A person's photos are alike, so n counts as sqrt(n) independent draws (openset.chances's rule).

The prior is ``stranger_share`` (half the faces shown are strangers, unless said otherwise), split
evenly over the enrolled people for the rest: a bigger gallery gives each person a smaller prior,
which is how the chance of a stranger resembling someone grows with the gallery.
bench/probability.py measures how well the result is calibrated.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

STRANGER_SHARE = 0.5   # the prior share of strangers among the faces shown
DRAWS = 0.75          # a stranger's draws against a person's n photos: n ** DRAWS (see strangers_named)
MIN_FLOOR = 0.5        # the default floor is never lower: a name must be likelier right than not
SMOOTHING = 0.005      # the kernel width (distance) the measured histograms are smoothed with


def log_density_ratio(stats) -> np.ndarray:
    """log(genuine density / impostor density) at each openset.GRID distance: smoothed, held
    constant beyond the measured range, and never rising with distance."""
    from .openset import GRID

    step = GRID[1] - GRID[0]
    kernel = np.exp(-0.5 * (np.arange(-40, 41) * step / SMOOTHING) ** 2)
    kernel /= kernel.sum()
    density = [np.convolve(np.diff(np.r_[0.0, cdf]), kernel, "same") + 1e-7
               for cdf in (stats.genuine_cdf, stats.impostor_cdf)]
    ratio = np.log(density[0]) - np.log(density[1])
    # Where one side has no pairs at all the ratio is only the smoothing's: hold the last measured value.
    lo, hi = int(np.argmax(stats.impostor_cdf > 0)), int(np.argmax(stats.genuine_cdf >= 1)) or len(GRID) - 1
    ratio[:lo], ratio[hi:] = ratio[lo], ratio[hi]
    # Never rising: the mean of the running minimum from the left and the running maximum from the
    # right, both non-increasing (numpy only: a gallery loads without scikit-learn).
    return (np.minimum.accumulate(ratio) + np.maximum.accumulate(ratio[::-1])[::-1]) / 2


class AnswerOdds:
    """P(each candidate person) and P(a stranger) for faces, from one model's distance statistics.

    >>> odds = AnswerOdds(shipped("dlib-resnet-v1"))                        # doctest: +SKIP
    >>> odds.chances(np.array([[0.31, 0.52]]), np.array([[3, 3]]), people=12)  # doctest: +SKIP
    (array([[0.9996, 0.0000]]), array([0.0004]))
    """

    def __init__(self, stats, stranger_share: float = STRANGER_SHARE):
        from .openset import GRID

        self.stats, self.stranger_share = stats, stranger_share
        self._grid, self._ratio = GRID, log_density_ratio(stats)

    def person_evidence(self, distances, photos) -> np.ndarray:
        """log likelihood ratio (same person vs a stranger) of a person's nearest photo at distance,
        for a person with this many enrolled photos; -inf where the distance is inf (no candidate)."""
        d = np.asarray(distances, np.float64)
        finite = np.isfinite(d)
        x = np.where(finite, d, 2.0)
        survives = [np.log(np.maximum(1 - np.interp(x, self._grid, cdf), 1e-9))
                    for cdf in (self.stats.genuine_cdf, self.stats.impostor_cdf)]
        draws = np.sqrt(np.maximum(np.asarray(photos, np.float64), 1.0))
        out = np.interp(x, self._grid, self._ratio) + (draws - 1) * (survives[0] - survives[1])
        return np.where(finite, out, -np.inf)

    def chances(self, distances, photos, people: int) -> tuple[np.ndarray, np.ndarray]:
        """For faces' candidates (N, K): distances to each candidate person's nearest photo (inf
        for none) and their photo counts, in a gallery of ``people``: P(the face is each candidate)
        (N, K) and P(a stranger) (N,).  People beyond the K nearest are taken to add nothing."""
        weights, stranger = self.log_weights(distances, photos, people)
        total = np.logaddexp(stranger, np.logaddexp.reduce(weights, axis=1))
        return np.exp(weights - total[:, None]), np.exp(stranger - total)

    def log_weights(self, distances, photos, people: int) -> tuple[np.ndarray, float]:
        """chances() before normalising: log(prior x likelihood ratio) of each candidate (N, K),
        and the stranger's, log(prior) (the ratio of a stranger's distances to themselves is 1)."""
        prior = np.log((1 - self.stranger_share) / max(1, people))
        return prior + self.person_evidence(distances, photos), float(np.log(self.stranger_share))

    def strangers_named(self, floor: float, photos) -> float:
        """Expected share of stranger faces that some person of a gallery (photos: each person's
        photo count) would be named at this probability floor.  A stranger's nearest photo of a
        person with n photos is taken as the nearest of n ** DRAWS impostor distances: more than
        the evidence's sqrt(n), as a stranger meets each photo more nearly afresh than a second
        photo of the person does (bench/probability.py, 12 people x 1-5 photos: with sqrt(n) 1.14%
        of strangers were named against a 1% target, with n ** 0.75 0.84%)."""
        counts, people = np.unique(np.asarray(photos), return_counts=True)
        kept = 0.0  # log of the chance no one names the stranger
        for n, many in zip(counts, people):
            lone = self.chances(self._grid[:, None], np.full((len(self._grid), 1), n), len(photos))[0][:, 0]
            nearest_cdf = 1 - (1 - self.stats.impostor_cdf) ** n ** DRAWS
            named = float(np.diff(np.r_[0.0, nearest_cdf])[lone >= floor].sum())
            kept += many * np.log(max(1 - named, 1e-12))
        return 1 - float(np.exp(kept))

    def floor_for(self, photos, false_accept: float) -> float:
        """The lowest probability floor at which a gallery (photos: each person's photo count)
        names at most false_accept of stranger faces, and never under an even chance: a name
        less likely right than Unknown is not given."""
        lo, hi = MIN_FLOOR, 1.0
        for _ in range(40):  # bisection: strangers_named only falls as the floor rises
            mid = (lo + hi) / 2
            lo, hi = (lo, mid) if self.strangers_named(mid, photos) <= false_accept else (mid, hi)
        return hi


@lru_cache(maxsize=None)
def shipped_odds(model_name: str) -> "AnswerOdds | None":
    """AnswerOdds from the statistics facerec ships for a model (None without them), built once:
    verify and filming ask for them per pair and per track."""
    from .openset import shipped

    stats = shipped(model_name)
    return None if stats is None else AnswerOdds(stats)


def soft_faces(model_name: str, sharpness) -> np.ndarray:
    """Which faces are weighed as soft (N,): too blurred to enrol (detection.quality.soft_flags),
    for a model facerec has soft-face statistics for; for any other model, none.  Asked per frame
    and per photo: the statistics are read once (shipped_odds)."""
    from ..detection.quality import soft_flags

    flags = soft_flags(sharpness)
    return flags if shipped_odds(f"{model_name}-soft") is not None else np.zeros_like(flags)


def people_similarity(sims: np.ndarray, codes: np.ndarray, people: int) -> np.ndarray:
    """Dot products (N, F) with enrolled faces of person codes (F,), each of 0..people-1 present:
    the largest per person (N, people), i.e. each person's nearest photo."""
    order = np.argsort(codes, kind="stable")
    starts = np.searchsorted(codes[order], np.arange(people))
    return np.maximum.reduceat(sims[:, order], starts, axis=1)


def nearest_people(sims: np.ndarray, codes: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The k nearest people of each face from candidate faces: sims (N, C) their dot products
    (-inf: no candidate), codes (N, C) their people.  Returns people (N, k) (-1: none) and
    distances (N, k) (inf: none), nearest first."""
    order = np.argsort(-sims, axis=1)
    s, c = np.take_along_axis(sims, order, 1), np.take_along_axis(codes, order, 1)
    earlier = np.tri(c.shape[1], c.shape[1], -1, bool)[None]  # [i, j]: j comes before i
    first = ~((c[:, :, None] == c[:, None, :]) & earlier).any(axis=2) & np.isfinite(s)
    rank = np.cumsum(first, axis=1) - 1
    rows, cols = np.nonzero(first & (rank < k))
    people, dist = np.full((len(s), k), -1), np.full((len(s), k), np.inf)
    people[rows, rank[rows, cols]] = c[rows, cols]
    dist[rows, rank[rows, cols]] = np.sqrt(np.maximum(2 - 2 * s[rows, cols], 0))
    return people, dist
