"""An approximate-nearest-neighbour index over a large gallery's embeddings, kept beside its file.

From THRESHOLD enrolled faces on, Gallery.identify asks this index for a few candidate faces and
then measures the exact distance to each, so the name and distance it reports are exact for the
neighbour found and the open-set (Unknown) rule is applied unchanged; only a true nearest face the
graph misses can make a difference (bench/gallery_index.py: recall@1 against the exact scan).

The index is a hierarchical navigable small-world graph (HNSW) over inner products of the unit
embeddings, from FAISS (``faiss-cpu``, the default) or usearch, chosen by bench/gallery_index.py.
Its keys are the order faces were added in; ``rows`` maps each key to the face's current row in
the gallery (-1 once the face is forgotten: the key is then filtered out of searches and the graph
is rebuilt when they make up half of it).  Faces added to the gallery are added to the graph on
the next search or save, so a gallery grows without a rebuild.

The file (``family.npz`` -> ``family.npz.index``) is a NumPy archive like the gallery's own (no
pickle, a SHA-256 over its arrays) and carries a digest of the gallery rows it covers: an index
that does not match the gallery, cannot be read, or was made by a library that is not installed
is never used; the gallery rebuilds it.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from ..errors import FacerecError
from ..wording import brief

FORMAT = "facerec-gallery-index"
FORMAT_VERSION = 1

# Below this many faces the exact scan (one matrix product) is used.  bench/gallery_index.py, one
# face timed by turns on 2 shared cores, p50 of scan against index over 3-4 runs: 0.19-0.31 ms
# against 0.37-0.53 at 20,000 faces; 0.36-0.70 against 0.45-0.59 at 30,000 (the scan ahead in 3 of
# 4); 0.53-0.62 against 0.49-0.56 at 40,000 (the index ahead in 2 of 2); 0.70-1.16 against
# 0.54-0.72 at 50,000 (the index ahead in all 4).
THRESHOLD = 40_000
# Candidates taken from the graph for each face, then ranked by their exact distance.
CANDIDATES = 10
# When forgotten faces make up this share of the graph, it is rebuilt from the gallery.
REBUILD_DEAD_SHARE = 0.5
LIBRARIES = ("faiss", "usearch")
# Chosen by bench/gallery_index.py --compare-at 100000,1000000: both HNSW, M 32, efConstruction 80,
# float32, inner product; 1,000,000 faces on 2 shared cores, one run.  FAISS: built in 284 s,
# 756 MB; one face p50 3.33 / p99 4.61 ms with recall@1 0.9964 at efSearch 512 (1.66 / 2.37 ms,
# 0.9854 at 256).  usearch: built in 732 s, 853 MB; 3.56 / 4.85 ms, 0.9913 at 256; 6.80 / 10.87 ms,
# 0.9971 at 512.  For the same time per face FAISS finds the nearest face more often, and it
# builds 2.6 times as fast in less memory.  (An earlier run with the cores busier: 634 s against
# 791 s; p99 4.51 ms at recall 0.9942 against 8.49 ms at 0.9891.)
DEFAULT_LIBRARY = "faiss"
PARAMS = {
    "faiss": {"M": 32, "ef_construction": 80},
    "usearch": {"M": 32, "ef_construction": 80, "dtype": "f32"},
}
# How many graph nodes a search keeps in view (HNSW's efSearch), by the faces in the graph: at
# 100,000 faces 128 finds the exact scan's nearest face for 0.9964-0.9971 of faces (96: 0.9913), at
# 1,000,000 512 for 0.9934-0.9964 over three runs (384: 0.9891).  Names agreed with the exact scan
# for every face at every setting measured.
EF_SEARCH = ((100_000, 128), (None, 512))


def ef_search(faces: int) -> int:
    """The efSearch for a graph of this many faces (EF_SEARCH)."""
    for upto, ef in EF_SEARCH:
        if upto is None or faces <= upto:
            return ef
    return EF_SEARCH[-1][1]


class IndexUnusable(Exception):
    """The index file cannot be used for this gallery (why is the message); rebuild it."""


def index_path(gallery_path) -> Path:
    """Where a gallery file's index lives: beside it, its name plus '.index'."""
    gallery_path = Path(gallery_path)
    return gallery_path.with_name(gallery_path.name + ".index")


def is_index_file(path) -> bool:
    """Whether a file is a gallery index this module wrote (read without verifying it)."""
    from ..npz_file import read_arrays

    try:
        return read_arrays(path, "gallery index", [], verify=False)[0].get("format") == FORMAT
    except FacerecError:
        return False


def available(library: str | None = None) -> str | None:
    """The library to use (the one asked for, else the default, else any installed), or None."""
    for name in ([library] if library else [DEFAULT_LIBRARY, *LIBRARIES]):
        try:
            __import__("faiss" if name == "faiss" else "usearch.index")
            return name
        except ImportError:
            continue
    return None


def rows_digest(embeddings: np.ndarray, count: int) -> str:
    """SHA-256 of the first count rows of a gallery's embeddings (their shape and bytes)."""
    e = np.ascontiguousarray(embeddings[:count], np.float32)
    h = hashlib.sha256(f"{e.shape}|{e.dtype.str}|".encode())
    h.update(memoryview(e).cast("B"))
    return h.hexdigest()


def _params_ok(params: dict) -> bool:
    def count(v, most):
        return isinstance(v, int) and not isinstance(v, bool) and 2 <= v <= most

    return count(params.get("M"), 512) and count(params.get("ef_construction"), 1 << 16) \
        and params.get("dtype", "f32") in ("f32", "f16", "bf16", "i8")


# --- the libraries -------------------------------------------------------------------------------

class _Faiss:
    """faiss.IndexHNSWFlat, inner product; forgotten keys are filtered by a bitmap selector."""

    name = "faiss"

    def __init__(self, dim, params, blob=None):
        import faiss

        self.faiss, self.params = faiss, params
        if blob is None:
            self.ix = faiss.IndexHNSWFlat(dim, int(params["M"]), faiss.METRIC_INNER_PRODUCT)
            self.ix.hnsw.efConstruction = int(params["ef_construction"])
        else:
            try:
                ix = faiss.deserialize_index(np.ascontiguousarray(blob, np.uint8))
            except (RuntimeError, ValueError, TypeError) as exc:
                raise IndexUnusable(f"FAISS cannot read it ({brief(exc)})") from None
            if not isinstance(ix, faiss.IndexHNSWFlat) or ix.d != dim \
                    or ix.metric_type != faiss.METRIC_INNER_PRODUCT:
                raise IndexUnusable("it holds another kind of FAISS index")
            self.ix = ix
        self.dead = None  # bitmap of forgotten keys, or None while there are none

    @property
    def count(self) -> int:
        return int(self.ix.ntotal)

    def add(self, keys, vectors):
        if len(keys) and keys[0] != self.count:
            raise FacerecError("FAISS index keys must be added in order")
        self.ix.add(np.ascontiguousarray(vectors, np.float32))

    def remove(self, keys, dead_mask):
        """FAISS's HNSW cannot delete: forgotten keys stay in the graph (still routing searches)
        and are left out of results."""
        self.dead = np.packbits(dead_mask, bitorder="little") if dead_mask.any() else None

    def search(self, X, k, ef):
        p = self.faiss.SearchParametersHNSW()
        p.efSearch = max(int(ef), k)
        if self.dead is not None:  # keep every key not marked dead (the selectors held until searched)
            marked = self.faiss.IDSelectorBitmap(self.count, self.faiss.swig_ptr(self.dead))
            keep = self.faiss.IDSelectorNot(marked)
            p.sel = keep
        _, keys = self.ix.search(np.ascontiguousarray(X, np.float32), k, params=p)
        return keys

    def to_bytes(self) -> np.ndarray:
        return self.faiss.serialize_index(self.ix)


class _Usearch:
    """usearch.index.Index, inner product.  Forgotten keys stay in the graph and are left out of
    results here (removing them from usearch's graph cost recall: 0.986 in tests/test_gallery_index.py),
    so more candidates are asked for in proportion."""

    name = "usearch"

    def __init__(self, dim, params, blob=None):
        from usearch.index import Index

        self.params = params
        if blob is None:
            self.ix = Index(ndim=dim, metric="ip", dtype=params.get("dtype", "f32"),
                            connectivity=int(params["M"]), expansion_add=int(params["ef_construction"]))
        else:
            try:
                ix = Index.restore(np.ascontiguousarray(blob, np.uint8).tobytes())
            except (RuntimeError, ValueError, TypeError, OSError) as exc:
                raise IndexUnusable(f"usearch cannot read it ({brief(exc)})") from None
            if ix is None or ix.ndim != dim or ix.metric_kind.name != "IP":
                raise IndexUnusable("it holds another kind of usearch index")
            self.ix = ix
        self.dead_share = 0.0

    @property
    def count(self) -> int:
        return int(self.ix.size)

    def add(self, keys, vectors):
        self.ix.add(np.asarray(keys, np.uint64), np.ascontiguousarray(vectors, np.float32))

    def remove(self, keys, dead_mask):
        self.dead_share = float(dead_mask.mean()) if len(dead_mask) else 0.0

    def search(self, X, k, ef):
        if self.ix.expansion_search != ef:
            self.ix.expansion_search = int(ef)
        # GalleryIndex.search drops forgotten keys; ask for enough that k live ones remain.
        fetch = min(self.count, int(np.ceil(k / (1 - min(self.dead_share, 0.9)) * (1.5 if self.dead_share else 1))))
        m = self.ix.search(np.ascontiguousarray(X, np.float32), fetch)
        keys = np.asarray(m.keys, np.int64).reshape(len(X), -1)
        # One face gives a Matches (its length the count), several a BatchMatches with counts.
        counts = np.asarray(m.counts if hasattr(m, "counts") else [len(m.keys)]).reshape(-1)
        keys[np.arange(keys.shape[1])[None] >= counts[:, None]] = -1
        return keys

    def to_bytes(self) -> np.ndarray:
        return np.frombuffer(self.ix.save(), np.uint8)


_BACKENDS = {"faiss": _Faiss, "usearch": _Usearch}


# --- the index -----------------------------------------------------------------------------------

class GalleryIndex:
    """An HNSW graph over a gallery's rows [0, covered); search() gives candidate rows."""

    def __init__(self, dim: int, library: str | None = None, params: dict | None = None, _blob=None,
                 ef: int | None = None):
        name = available(library)
        if name is None:
            raise FacerecError(f"no index library: pip install {library or 'faiss-cpu'}")
        self.library, self.dim = name, int(dim)
        self.params = {**PARAMS[name], **(params or {})}
        self._lib = _BACKENDS[name](self.dim, self.params, _blob)
        self.rows = np.zeros(0, np.int64)  # key -> current gallery row, -1 when forgotten
        self.covered = 0                   # gallery rows [0, covered) are in the graph
        self.from_file = None              # rows the file it was read from covered
        self.ef = ef                       # efSearch; None: ef_search(faces in the graph)

    @classmethod
    def build(cls, embeddings: np.ndarray, library: str | None = None, params: dict | None = None,
              ef: int | None = None):
        index = cls(embeddings.shape[1], library, params, ef=ef)
        index.add(embeddings)
        return index

    @property
    def dead(self) -> int:
        return int(len(self.rows) - self.covered)

    def needs_rebuild(self) -> bool:
        return len(self.rows) > 0 and self.dead >= REBUILD_DEAD_SHARE * len(self.rows)

    def add(self, vectors: np.ndarray) -> None:
        """Add the gallery rows that follow the covered ones."""
        vectors = np.asarray(vectors, np.float32).reshape(-1, self.dim)
        if not len(vectors):
            return
        keys = np.arange(len(self.rows), len(self.rows) + len(vectors), dtype=np.int64)
        self._lib.add(keys, vectors)
        self.rows = np.concatenate([self.rows, np.arange(self.covered, self.covered + len(vectors))])
        self.covered += len(vectors)
        if self.dead:  # the forgotten keys' mask grows with the graph
            self._lib.remove(np.zeros(0, np.int64), self.rows < 0)

    def forget(self, keep: np.ndarray) -> None:
        """The gallery kept rows where keep (over its rows before) is set and dropped the rest."""
        keep = np.asarray(keep, bool)[:self.covered]
        if keep.all():
            return
        live = self.rows >= 0
        new_row = np.cumsum(keep) - 1
        gone = live.copy()
        gone[live] = ~keep[self.rows[live]]
        self.rows = np.where(live & ~gone, new_row[np.maximum(self.rows, 0)], -1)
        self.covered = int(keep.sum())
        self._lib.remove(np.flatnonzero(gone), self.rows < 0)

    def search(self, X: np.ndarray, k: int = CANDIDATES) -> np.ndarray:
        """(len(X), k) gallery rows of the nearest faces the graph finds, -1 where it has fewer."""
        X = np.asarray(X, np.float32).reshape(-1, self.dim)
        if not len(self.rows):
            return np.full((len(X), k), -1, np.int64)
        ef = self.ef or ef_search(len(self.rows))
        keys = np.asarray(self._lib.search(X, min(k, len(self.rows)), ef), np.int64)
        ok = (keys >= 0) & (keys < len(self.rows))
        rows = np.where(ok, self.rows[np.where(ok, keys, 0)], -1)
        if rows.shape[1] > k or self.dead:  # forgotten faces last, then the nearest k
            rows = np.take_along_axis(rows, np.argsort(rows < 0, axis=1, kind="stable"), axis=1)[:, :k]
        return rows

    # --- the file ---------------------------------------------------------------------------

    def save(self, path, embeddings: np.ndarray) -> None:
        """Write beside the gallery (atomically, no pickle), with a digest of the rows it covers."""
        import json

        from ..files import atomic_write
        from ..npz_file import digest

        path = Path(path)
        blob = np.ascontiguousarray(self._lib.to_bytes(), np.uint8)
        meta = {"format": FORMAT, "version": FORMAT_VERSION, "library": self.library, "params": self.params,
                "dim": self.dim, "covered": self.covered, "gallery_rows": rows_digest(embeddings, self.covered)}
        arrays = {"index": blob, "rows": np.ascontiguousarray(self.rows, np.int64)}
        meta["digest"] = digest(meta, arrays)
        # What npz_file.write_arrays makes, written straight to the file: no copies in memory.
        atomic_write(path, lambda f: np.savez(f, meta=np.frombuffer(json.dumps(meta).encode(), np.uint8),
                                              **arrays))

    @classmethod
    def load(cls, path, embeddings: np.ndarray, library: str | None = None) -> "GalleryIndex":
        """The index beside a gallery, if it is whole and covers the gallery's first rows as they
        are now (faces added after it was written are added here); else IndexUnusable."""
        from ..npz_file import read_arrays

        path = Path(path)
        if not path.is_file():
            raise IndexUnusable("there is none")
        try:
            meta, arrays = read_arrays(path, "gallery index", ["index", "rows"])
        except FacerecError as exc:
            raise IndexUnusable(str(exc)) from None
        if meta.get("format") != FORMAT or meta.get("version") != FORMAT_VERSION:
            raise IndexUnusable("it is not a gallery index this facerec writes")
        name, params, covered, rows = meta.get("library"), meta.get("params"), meta.get("covered"), arrays["rows"]
        if name not in LIBRARIES or (library and name != library) or not isinstance(params, dict) \
                or set(params) != set(PARAMS[name]) or not _params_ok(params):
            raise IndexUnusable(f"it was made with another kind of index ({name})")
        if available(name) != name:
            raise IndexUnusable(f"it was made with {name}, which is not installed")
        if meta.get("dim") != embeddings.shape[1] or not isinstance(covered, int) \
                or not 0 <= covered <= len(embeddings):
            raise IndexUnusable("it does not match the gallery (faces were forgotten or changed since)")
        if rows.dtype != np.int64 or rows.ndim != 1 or int((rows >= 0).sum()) != covered \
                or np.any(rows < -1) or not np.array_equal(np.sort(rows[rows >= 0]), np.arange(covered)):
            raise IndexUnusable("its rows are damaged")
        if meta.get("gallery_rows") != rows_digest(embeddings, covered):
            raise IndexUnusable("it does not match the gallery (faces were forgotten or changed since)")
        index = cls(embeddings.shape[1], name, params, _blob=arrays.pop("index"))
        if index._lib.count != len(rows):
            raise IndexUnusable("its graph does not hold the faces it lists")
        index.rows, index.covered, index.from_file = rows, covered, covered
        if covered < len(rows):
            index._lib.remove(np.flatnonzero(rows < 0), rows < 0)
        index.add(embeddings[covered:])
        return index
