"""Faces nobody has named, grouped by person: Chinese whispers on a graph of close faces.

Two faces are linked when they are closer than the distance at which a pair of *different*
people's faces is found only ``pair_rate`` of the time (the model's impostor statistics,
facerec.identity.openset), so the rule means the same for any calibrated model.  Links are weighted
1 - d / limit, so a barely-linked pair pulls less than a near-duplicate; each face then takes,
round after round, the label its links weigh most for (Chinese whispers, as dlib's
face clustering).  A face left alone matches no one and gets no cluster.

Chosen by measurement (bench/clustering.py, lfw-dev + 300 lfw-singles): pairwise precision
0.986 and recall 0.972 at the default pair rate, where DBSCAN, the naive baseline, reaches
0.94/0.93 at its best eps and falls apart a little above it (0.59 precision at 0.34);
average-linkage agglomerative clustering reached 0.965/0.937 and needs the whole distance matrix.  The graph is built in blocks and kept sparse.
"""
from __future__ import annotations

import numpy as np

from ..errors import FacerecError

PAIR_RATE = 2e-4  # share of different-people pairs that would be linked


def link_distance(stats, pair_rate: float = PAIR_RATE) -> float:
    """The distance under which two faces are linked, from a model's DistanceStats."""
    from ..identity.openset import GRID

    if not 0 < pair_rate < 1:
        raise FacerecError(f"pair rate {pair_rate} must be between 0 and 1")
    ok = np.flatnonzero(stats.impostor_cdf <= pair_rate)
    return float(GRID[ok[-1]]) if len(ok) else 0.0


# From this many faces the links come from an HNSW index (the gallery's, gallery_index) instead of
# comparing every pair: 1,000,000 faces would be 10^12 distances.
INDEX_FROM = 20_000
NEIGHBOURS = 32  # links kept per face through the index: Chinese whispers needs only the closest


def _links(x: np.ndarray, limit: float, block: int = 1024):
    """(rows, cols, distances) of the ordered pairs of faces closer than limit: each face's
    NEIGHBOURS nearest of them, by comparing every pair (from an index from INDEX_FROM faces on).
    Every pair would be N^2 links where faces are alike (19,999 near-duplicates: about 22 GB)."""
    if len(x) >= INDEX_FROM:
        return _links_by_index(x, limit)
    rows, cols, dists = [], [], []
    for s in range(0, len(x), block):
        d = np.sqrt(np.maximum(2 - 2 * x[s:s + block] @ x.T, 0))  # unit vectors
        near = np.argpartition(d, NEIGHBOURS, axis=1)[:, :NEIGHBOURS + 1] if d.shape[1] > NEIGHBOURS + 1 \
            else np.broadcast_to(np.arange(d.shape[1]), d.shape)
        dn = np.take_along_axis(d, near, axis=1)
        i, k = np.nonzero((dn < limit) & (near != np.arange(s, s + len(d))[:, None]))  # + itself
        rows.append(i + s); cols.append(near[i, k]); dists.append(dn[i, k])
    if not rows:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
    return np.concatenate(rows), np.concatenate(cols), np.concatenate(dists)


def _links_by_index(x: np.ndarray, limit: float, block: int = 8192):
    from ..identity.gallery_index import GalleryIndex

    index = GalleryIndex.build(x)
    rows, cols, dists = [], [], []
    for s in range(0, len(x), block):
        q = x[s:s + block]
        near = index.search(q, NEIGHBOURS + 1)  # + itself
        ok = near >= 0
        d = np.sqrt(np.maximum(2 - 2 * np.einsum("nd,nkd->nk", q, x[np.maximum(near, 0)]), 0))
        i, k = np.nonzero(ok & (d < limit) & (near != np.arange(s, s + len(q))[:, None]))
        rows.append(i + s); cols.append(near[i, k]); dists.append(d[i, k])
    return np.concatenate(rows), np.concatenate(cols), np.concatenate(dists)


def cluster_embeddings(embeddings, limit: float, seed: int = 0, rounds: int = 30) -> np.ndarray:
    """A cluster number per face (0, 1, ... by size, largest first), -1 for a face that
    matches no one.  embeddings: unit vectors (N, D); limit: the link distance."""
    x = np.asarray(embeddings, np.float32)
    if x.ndim != 2:
        raise FacerecError(f"embeddings must be a (faces, dimensions) array, got shape {x.shape}")
    n = len(x)
    if n == 0:
        return np.zeros(0, np.int64)
    r, c, d = _links(x, limit)
    order = np.argsort(r, kind="stable")
    r, c, w = r[order], c[order], (1 - d / limit)[order]
    starts = np.searchsorted(r, np.arange(n + 1))
    label = np.arange(n)
    rng = np.random.default_rng(seed)
    for _ in range(rounds):
        changed = 0
        for i in rng.permutation(n):
            a, b = starts[i], starts[i + 1]
            if a == b:
                continue
            best = int(np.bincount(label[c[a:b]], weights=w[a:b]).argmax())
            if best != label[i]:
                label[i], changed = best, changed + 1
        if not changed:
            break
    groups, inverse, counts = np.unique(label, return_inverse=True, return_counts=True)
    number = np.full(len(groups), -1, np.int64)
    shared = [k for k in np.argsort(-counts, kind="stable") if counts[k] > 1]  # largest first
    number[shared] = np.arange(len(shared))
    out = number[inverse]
    return out


def pairwise_precision_recall(clusters, truth) -> tuple[float, float]:
    """Precision: of the pairs put in one cluster, the share that are one person; recall: of the
    pairs of one person, the share put in one cluster (-1 is no cluster)."""
    clusters, truth = np.asarray(clusters), np.asarray(truth)
    iu = np.triu_indices(len(truth), 1)
    same = (truth[:, None] == truth[None])[iu]
    together = ((clusters[:, None] == clusters[None]) & (clusters[:, None] >= 0))[iu]
    tp = int((same & together).sum())
    return tp / max(int(together.sum()), 1), tp / max(int(same.sum()), 1)
