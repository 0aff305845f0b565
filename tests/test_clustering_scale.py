"""Clustering many faces: links from the HNSW index agree with comparing every pair."""
import numpy as np
import pytest

pytest.importorskip("faiss")


def test_index_links_cluster_like_every_pair(monkeypatch):
    import facerec.collections.clustering as C

    rng = np.random.default_rng(0)
    centres = rng.normal(size=(300, 128))
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    x = np.repeat(centres, 10, axis=0) + 0.015 * rng.normal(size=(3000, 128))
    x = (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)
    truth = np.repeat(np.arange(300), 10)
    every_pair = C.cluster_embeddings(x, 0.34)
    monkeypatch.setattr(C, "INDEX_FROM", 1000)  # 3,000 faces now go through the index
    calls = []
    real = C._links_by_index
    monkeypatch.setattr(C, "_links_by_index", lambda *a, **k: calls.append(1) or real(*a, **k))
    by_index = C.cluster_embeddings(x, 0.34)
    assert calls
    assert C.pairwise_precision_recall(by_index, truth) == (1.0, 1.0)
    assert C.pairwise_precision_recall(by_index, every_pair) == (1.0, 1.0)


def test_thousands_of_near_duplicates_are_one_cluster_and_a_person_of_many_photos_stays_whole():
    """Each face keeps its nearest links only (issue 23, finding 8: every pair of 9,000 near-
    duplicates took 4 GB); a person with far more photos than that is still one cluster."""
    import numpy as np

    from facerec.collections.clustering import NEIGHBOURS, cluster_embeddings

    rng = np.random.default_rng(0)
    people = rng.normal(size=(3, 128))
    counts = [3000, 4 * NEIGHBOURS, 5]
    x = np.concatenate([p + 0.01 * rng.normal(size=(n, 128)) for p, n in zip(people, counts)])
    x = (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)
    labels = cluster_embeddings(x, 0.45)
    ends = np.cumsum(counts)
    groups = [set(labels[a:b].tolist()) for a, b in zip(np.r_[0, ends[:-1]], ends)]
    assert [len(g) for g in groups] == [1, 1, 1] and len(set.union(*groups)) == 3
