"""The gallery index at scale: FAISS against usearch on 100,000 and 1,000,000 faces, and where the
index overtakes the exact scan.

Gallery: real lfw-dev faces (2 photos of each of 86 people) plus synthetic people (3 photos each)
drawn to match the model's measured distances: identity centres from a Gaussian with the mean and
covariance of real faces of different people (lfw-dev people's means and lfw-unknown), photos
around them from the covariance of one person's photos (lfw-dev), each photo's spread scaled by a
log-normal factor; the three scales are fitted so that same-person and different-person distances
follow the shipped statistics (src/facerec/identity/calibration/dlib-resnet-v1.json; the fit is printed).
Queries: lfw-dev photos not enrolled (the same people), lfw-unknown (strangers), new photos of
synthetic enrolled people and synthetic strangers.  Without ../shared/data everything is synthetic
(isotropic shapes, same fitted distances).

For each library and size: build time, memory (RSS growth over the build), the index file's size
and load time, p50/p99 latency of Gallery.identify for one face (index, exact distances of its
candidates, Unknown rule), recall@1 (the exact scan's nearest face found) and names agreeing with
the exact scan.  Before that, the crossover: identify's latency by scan and by index at small sizes.
Usage: python bench/gallery_index.py [--sizes 100000,1000000] [--libraries faiss,usearch]
       [--compare-at 100000,1000000]   (both libraries at 1,000,000 too: about 30 minutes on 2 cores)
"""
from __future__ import annotations

import argparse
import gc
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
SHARED = Path(os.environ.get("FACEREC_SHARED_DATA", HERE.parent.parent / "shared" / "data"))
DIM = 128


class Emb:
    name, spec, key, dim = "dlib-resnet-v1", "default", "bench", DIM


def rss_mb() -> float:
    """Resident memory, after handing freed heap memory back (so growth is what is held)."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS"):
            return int(line.split()[1]) / 1024
    return float("nan")


# --- faces ---------------------------------------------------------------------------------------

def real_faces():
    """lfw-dev (first 4 photos of each person, sorted) and lfw-unknown embeddings, or None."""
    if not (SHARED / "lfw-dev").is_dir() or not (SHARED / "lfw-unknown").is_dir():
        return None
    from facerec import load_embedder
    from facerec.people_folders import read_people
    from facerec.identity.training import embed_people

    emb = load_embedder("default")
    t = time.perf_counter()
    dev = embed_people(emb, [(n, sorted(p)[:4]) for n, p in read_people(SHARED / "lfw-dev")], mirror=False,
                       progress=False)
    unknown = embed_people(emb, read_people(SHARED / "lfw-unknown"), mirror=False, progress=False)
    print(f"Real faces: {len(dev.embeddings)} lfw-dev photos of {len(dev.names)} people, {len(unknown.embeddings)} "
          f"lfw-unknown strangers ({time.perf_counter() - t:.0f} s; cached after the first run)")
    return dev.embeddings, dev.labels, unknown.embeddings


class Faces:
    """Synthetic people whose distances follow the model's measured ones."""

    def __init__(self, real, rng):
        from facerec.identity.openset import GRID, shipped

        self.stats = shipped(Emb.name)
        if real is not None:
            dev, y, unknown = real
            groups = [dev[y == k] for k in np.unique(y)]
            within = np.concatenate([(g - g.mean(0)) * np.sqrt(len(g) / (len(g) - 1)) for g in groups if len(g) > 1])
            between = np.concatenate([np.stack([g.mean(0) for g in groups]), unknown])
            self.mean = between.mean(0)
            cb, cw = np.cov(between - self.mean, rowvar=False), within.T @ within / len(within)
        else:
            self.mean = np.eye(DIM)[0]
            cb = cw = np.eye(DIM) / DIM
        self.lb = np.linalg.cholesky(cb + 1e-6 * np.eye(DIM)).T.astype(np.float32)
        self.lw = np.linalg.cholesky(cw + 1e-6 * np.eye(DIM)).T.astype(np.float32)
        self.mean = self.mean.astype(np.float32)
        q = lambda cdf, p: float(np.interp(p, cdf, GRID))  # noqa: E731
        want_gen = q(self.stats.genuine_cdf, .5)
        want_imp = q(self.stats.impostor_cdf, .5)
        want_spread = q(self.stats.genuine_cdf, .95) - q(self.stats.genuine_cdf, .05)
        self.a, self.b, self.sig = 1.0, 1.0, 0.25
        fit = np.random.default_rng(0)
        for _ in range(12):  # fixed-point steps on the three scales
            g, i = self.pairs(fit, 6000)
            self.b *= want_gen / np.median(g)
            self.a *= want_imp / np.median(i)
            self.sig *= (want_spread / (np.quantile(g, .95) - np.quantile(g, .05))) ** 1.5
        g, i = self.pairs(fit, 30000)
        print(f"Synthetic people fitted to the shipped statistics (centre scale {self.a:.3f}, photo scale "
              f"{self.b:.3f}, log-normal spread {self.sig:.3f}); distance quantiles, shipped / synthetic:")
        print("  quantile        " + "  ".join(f"{p:>11}" for p in ("1%", "5%", "50%", "95%", "99%")))
        for label, cdf, d in (("same person", self.stats.genuine_cdf, g), ("different", self.stats.impostor_cdf, i)):
            print(f"  {label:14s}  " + "  ".join(f"{q(cdf, p):.3f}/{np.quantile(d, p):.3f}"
                                                for p in (.01, .05, .5, .95, .99)))

    def people(self, rng, n, photos):
        """(n, photos, DIM) unit faces of n new people."""
        out = np.empty((n, photos, DIM), np.float32)
        for s in range(0, n, 50_000):
            m = min(50_000, n - s)
            c = self.mean + self.a * rng.standard_normal((m, DIM), np.float32) @ self.lb
            scale = self.b * np.exp(self.sig * rng.standard_normal((m, photos, 1)) - self.sig ** 2)
            x = c[:, None] + (scale * (rng.standard_normal((m, photos, DIM), np.float32) @ self.lw)).astype(np.float32)
            out[s:s + m] = x / np.linalg.norm(x, axis=2, keepdims=True)
        return out

    def pairs(self, rng, n):
        x = self.people(rng, n, 2)
        return np.linalg.norm(x[:, 0] - x[:, 1], axis=1), np.linalg.norm(x[:-1, 0] - x[1:, 1], axis=1)


def make_gallery(faces: Faces, real, size: int, rng, queries: int = 1000):
    """A Gallery of size faces and its queries: (gallery, queries, kinds of query)."""
    from facerec.identity.gallery import Gallery

    g = Gallery.for_embedder(Emb)
    parts, labels, q, kinds = [], [], [], []
    if real is not None:
        dev, y, unknown = real
        for k in np.unique(y):
            photos = dev[y == k]
            parts.append(photos[:2])
            labels += [f"lfw_{k:03d}"] * len(photos[:2])
            q.append(photos[2:])
            kinds += ["real known"] * len(photos[2:])
        q.append(unknown)
        kinds += ["real stranger"] * len(unknown)
    n_real = sum(len(p) for p in parts)
    people = -(-(size - n_real) // 3)
    synthetic = faces.people(rng, people, 4)
    parts.append(synthetic[:, :3].reshape(-1, DIM)[:size - n_real])
    labels += [f"synthetic_{i:07d}" for i in range(people) for _ in range(3)][:size - n_real]
    known = rng.choice(min(people, (size - n_real) // 3), queries * 6 // 10, replace=False)
    q += [synthetic[known, 3], faces.people(rng, queries - len(known), 1)[:, 0]]
    kinds += ["synthetic known"] * len(known) + ["synthetic stranger"] * (queries - len(known))
    g.add_many(labels, np.concatenate(parts), ["bench"] * len(labels))
    return g, np.concatenate(q).astype(np.float32), np.asarray(kinds)


def exact_nearest(g, Q):
    return np.concatenate([(Q[s:s + 256] @ g.embeddings.T).argmax(1) for s in range(0, len(Q), 256)])


def latencies(g, Q, n=None):
    """Seconds of Gallery.identify for each face alone."""
    times = []
    g.identify(Q[:1])
    for q in Q[:n]:
        t = time.perf_counter()
        g.identify(q[None])
        times.append(time.perf_counter() - t)
    return np.asarray(times)


# --- the measurements ----------------------------------------------------------------------------

def crossover(faces, real, library, sizes, rng):
    """identify()'s latency for one face by exact scan and by index at small gallery sizes, the two
    timed by turns on the same faces so that other work on the machine weighs on both alike."""
    from facerec.identity.gallery_index import GalleryIndex

    print(f"\nExact scan or index ({library}): identify() one face, 300 faces timed by turns")
    print(f"  {'faces':>9}  {'scan p50':>8}  {'p99 ms':>6}  {'index p50':>9}  {'p99 ms':>6}  {'build s':>7}")
    found = None
    for size in sizes:
        g, Q, _ = make_gallery(faces, real, size, rng, queries=300)
        t = time.perf_counter()
        g.index_keeper.index = GalleryIndex.build(g.embeddings, library)
        build = time.perf_counter() - t
        scan, ix = [], []
        for q in Q[:300]:
            for threshold, times in ((None, scan), (0, ix)):
                g.index_threshold = threshold
                t = time.perf_counter()
                g.identify(q[None])
                times.append(time.perf_counter() - t)
        scan, ix = np.asarray(scan[1:]) * 1000, np.asarray(ix[1:]) * 1000
        print(f"  {size:9,d}  {np.median(scan):8.3f}  {np.percentile(scan, 99):6.2f}  {np.median(ix):9.3f}  "
              f"{np.percentile(ix, 99):6.2f}  {build:7.1f}", flush=True)
        if found is None and np.median(ix) < np.median(scan):
            found = size
    return found


def measure(g, Q, kinds, truth, exact_names, library, efs):
    """Rows of the table for one library and gallery."""
    from facerec.identity import gallery_index
    from facerec.identity.gallery_index import GalleryIndex

    g.index_keeper.index = None
    gc.collect()
    before, t = rss_mb(), time.perf_counter()
    index = GalleryIndex.build(g.embeddings, library)
    build_s = time.perf_counter() - t
    gc.collect()
    memory = rss_mb() - before
    with tempfile.TemporaryDirectory(dir=os.environ.get("TMPDIR")) as tmp:
        path = Path(tmp) / "bench.npz.index"
        index.save(path, g.embeddings)
        file_mb = path.stat().st_size / 1e6
        t = time.perf_counter()
        GalleryIndex.load(path, g.embeddings, library)
        load_s = time.perf_counter() - t
    g.index_keeper.index, g.index_threshold = index, 0
    rows = []
    for ef in efs:
        index.ef = ef
        nearest, _ = g._nearest(Q)
        hit = nearest == truth
        names = g.identify(Q)[0]
        lat = latencies(g, Q) * 1000
        rows.append({"library": library, "size": len(g.embeddings), "ef": ef or gallery_index.ef_search(len(g.embeddings)),
                     "build_s": build_s, "memory_mb": memory, "file_mb": file_mb, "load_s": load_s,
                     "p50_ms": float(np.median(lat)), "p99_ms": float(np.percentile(lat, 99)),
                     "recall": float(hit.mean()), "names": float(np.mean(np.asarray(names) == exact_names)),
                     "by_kind": {k: float(hit[kinds == k].mean()) for k in dict.fromkeys(kinds)}})
        print_row(rows[-1])
    g.index_keeper.index = None
    del index
    gc.collect()
    return rows


HEADER = (f"  {'library':8s} {'faces':>9}  {'ef':>4}  {'build s':>7}  {'memory MB':>9}  {'file MB':>7}  {'load s':>6}  "
          f"{'p50 ms':>6}  {'p99 ms':>6}  {'recall@1':>8}  {'names':>6}")


def print_row(r):
    print(f"  {r['library']:8s} {r['size']:9,d}  {r['ef']:4d}  {r['build_s']:7.1f}  {r['memory_mb']:9.0f}  "
          f"{r['file_mb']:7.0f}  {r['load_s']:6.2f}  {r['p50_ms']:6.2f}  {r['p99_ms']:6.2f}  {r['recall']:8.4f}  "
          f"{r['names']:6.4f}   " + ", ".join(f"{k} {v:.3f}" for k, v in r["by_kind"].items()), flush=True)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="100000,1000000")
    ap.add_argument("--libraries", default="faiss,usearch")
    ap.add_argument("--compare-at", default="100000",
                    help="sizes at which every library is measured; at the others only the first (the 1,000,000 "
                    "face build takes 6-13 minutes per library on 2 cores)")
    ap.add_argument("--crossover", default="10000,20000,30000,40000,50000",
                    help="sizes for scan against index ('' skips)")
    ap.add_argument("--queries", type=int, default=1000, help="synthetic queries per size (60%% known people)")
    args = ap.parse_args(argv)
    from facerec.identity import gallery_index

    libraries = [lib for lib in args.libraries.split(",") if gallery_index.available(lib) == lib]
    if not libraries:
        sys.exit("neither faiss-cpu nor usearch is installed: pip install 'facerec[scale]'")
    rng = np.random.default_rng(1)
    print(f"{os.cpu_count()} CPUs; {', '.join(libraries)}; HNSW parameters {gallery_index.PARAMS}")
    real = real_faces()
    if real is None:
        print(f"No {SHARED}/lfw-dev: synthetic faces only")
    faces = Faces(real, rng)
    results = []
    if args.crossover:
        at = crossover(faces, real, libraries[0], [int(s) for s in args.crossover.split(",")], rng)
        print(f"  the index is faster from {at:,} faces on" if at else "  the scan was faster at every size")
    for size in [int(s) for s in args.sizes.split(",") if s]:
        g, Q, kinds = make_gallery(faces, real, size, rng, args.queries)
        counts = ", ".join(f"{np.sum(kinds == k)} {k}" for k in dict.fromkeys(kinds))
        truth = exact_nearest(g, Q)
        g.index_threshold = None
        exact_names = np.asarray(g.identify(Q)[0])
        scan = latencies(g, Q, 200) * 1000
        print(f"\n{size:,} faces, {len(set(g.labels)):,} people; {len(Q)} queries ({counts}); acceptance distance "
              f"{g.acceptance_distance():.4f}; exact scan p50 {np.median(scan):.2f} ms, p99 "
              f"{np.percentile(scan, 99):.2f} ms")
        print(HEADER + "   recall@1 by query")
        default_ef = gallery_index.ef_search(size)
        efs = sorted({default_ef // 2, default_ef * 3 // 4, default_ef})
        compare = {int(c) for c in args.compare_at.split(",") if c}
        for library in libraries if size in compare else libraries[:1]:
            results += measure(g, Q, kinds, truth, exact_names, library, efs)
        del g
        gc.collect()
    print("\nrecall@1: the exact scan's nearest face is the one found; names: identify() names the face as the "
          "exact scan does (Unknown included); memory: RSS growth over the build (the gallery's own "
          "embeddings not counted)")
    return results


if __name__ == "__main__":
    main()
