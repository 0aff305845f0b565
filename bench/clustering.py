"""Grouping unnamed faces by person: facerec's clustering against a naive DBSCAN baseline.

Faces: every photo of lfw-dev (86 people) plus one photo each of 300 lfw-singles people, faces that
belong to no one.  Pairwise precision (of the pairs put in one cluster, the share that are one
person) and recall (of the pairs of one person, the share put in one cluster).  Caveat: the model's
impostor statistics that set the link distance were measured on these folders (in-sample).
Usage: python bench/clustering.py
"""
from __future__ import annotations

import time

import numpy as np

from open_set import SHARED, embeddings


def main(argv=None):
    if not (SHARED / "lfw-dev").is_dir():
        print(f"skipped: {SHARED} not available")
        return None
    from sklearn.cluster import DBSCAN

    from facerec import load_embedder
    from facerec.collections.clustering import PAIR_RATE, cluster_embeddings, link_distance, pairwise_precision_recall
    from facerec.identity.openset import shipped

    emb = load_embedder("default")
    X, names, _ = embeddings(emb, SHARED / "lfw-dev")
    S, s_names, _ = embeddings(emb, SHARED / "lfw-singles")
    pick = np.random.default_rng(0).choice(len(S), 300, replace=False)
    X, names = np.concatenate([X, S[pick]]), np.concatenate([names, s_names[pick]])
    stats = shipped(emb.name)
    print(f"\n{len(X)} faces of {len(np.unique(names))} people (300 of them one photo each)")
    print(f"{'method':<44}{'precision':>10}{'recall':>8}{'clusters':>10}{'seconds':>9}")
    rows = []

    def report(label, fn):
        t = time.perf_counter()
        clusters = fn()
        took = time.perf_counter() - t
        p, r = pairwise_precision_recall(clusters, names)
        rows.append({"method": label, "precision": p, "recall": r})
        print(f"{label:<44}{p:10.3f}{r:8.3f}{len(set(clusters) - {-1}):10d}{took:9.2f}")

    for rate in (1e-4, PAIR_RATE, 3e-4):
        limit = link_distance(stats, rate)
        report(f"facerec (pair rate {rate:g}: {limit:.4f})" + (" default" if rate == PAIR_RATE else ""),
               lambda: cluster_embeddings(X, limit))
    for eps in (0.30, 0.32, 0.34):
        report(f"naive: DBSCAN eps {eps}, min_samples 2",
               lambda: DBSCAN(eps=eps, min_samples=2).fit_predict(X))
    return rows


if __name__ == "__main__":
    main()
