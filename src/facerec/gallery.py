"""A gallery of enrolled people that grows without retraining: nearest enrolled face, open-set rule.

Each person is a few embeddings (one per enrolment photo).  A face is named after its nearest
enrolled face when that face is within the acceptance distance the model's measured impostor
distances give for this gallery's size and the false-accept target (facerec.openset); otherwise it
is Unknown.  Adding or forgetting a person touches only that person's rows.  The file is a NumPy
archive read with allow_pickle=False, written atomically, and keyed to its model.

From gallery_index.THRESHOLD faces on, the nearest face is found through an approximate-nearest-
neighbour index (facerec.gallery_index) kept beside the file (``family.npz.index``): a few
candidates from the index, then their exact distances, then the same rule.  The index follows the
gallery (added faces are added to it, forgotten ones left out) and is rebuilt when it is missing,
damaged or made for other faces.
"""
from __future__ import annotations

import sys
import threading
from pathlib import Path

import numpy as np

from . import gallery_index
from .classifier import UNKNOWN
from .errors import FacerecError

FORMAT = "facerec-gallery"
FORMAT_VERSION = 1


class Gallery:
    """Enrolled people's embeddings; identify() names faces or says Unknown.

    >>> g = Gallery.load("family.npz")                          # doctest: +SKIP
    >>> g.identify(face_encodings(load_image("door.jpg")))       # doctest: +SKIP
    (['Alice'], array([0.999]), array([0.28]))
    """

    # identify() searches an index from this many enrolled faces on (None: never); the index's
    # library (None: gallery_index's choice).  Set on an instance to change one gallery.
    index_threshold: int | None = gallery_index.THRESHOLD
    index_library: str | None = None

    def __init__(self, embedder_info: dict, dim: int, false_accept: float = 0.01):
        self.embedder_info = dict(embedder_info)
        self.embeddings = np.zeros((0, dim), np.float32)
        self.labels: list[str] = []    # the person of each row
        self.sources: list[str] = []   # the photo of each row
        if not 0 < false_accept < 1:
            raise FacerecError(f"false-accept rate {false_accept} must be between 0 and 1")
        self.false_accept = false_accept
        self._stats = None
        self._chances = None
        self._index = None           # gallery_index.GalleryIndex over the first rows, once needed
        self._file = None            # the file this gallery was read from or last written to
        self._changed = False        # faces added or forgotten since then
        self._index_on_disk = False  # the index file beside self._file matches self._index
        self._index_lock = threading.Lock()

    @classmethod
    def for_embedder(cls, embedder, false_accept: float = 0.01) -> "Gallery":
        return cls({"name": embedder.name, "spec": embedder.spec, "key": embedder.key, "dim": embedder.dim},
                   embedder.dim, false_accept)

    # --- the people ---------------------------------------------------------------------------

    @property
    def class_names(self) -> list[str]:
        return sorted(set(self.labels))

    def people(self) -> list[tuple[str, int]]:
        """(name, enrolled photos) per person, by name."""
        counts: dict = {}
        for name in self.labels:
            counts[name] = counts.get(name, 0) + 1
        return sorted(counts.items())

    def enrol(self, name: str, embeddings: np.ndarray, sources) -> None:
        """Set a person's enrolled faces (replacing any they had)."""
        self.forget([name], missing_ok=True)
        self.add(name, embeddings, sources)

    def add(self, name: str, embeddings: np.ndarray, sources) -> None:
        """Add faces to a person (created if new), keeping the faces they had."""
        check_name(name)
        e = np.asarray(embeddings, np.float32).reshape(-1, self.embeddings.shape[1])
        self.embeddings = np.concatenate([self.embeddings, e])
        self.labels += [name] * len(e)
        self.sources += [str(s) for s in sources]
        self._chances = None
        self._changed = True  # the index takes the new rows when next used
        self._index_on_disk = False

    def add_many(self, labels, embeddings: np.ndarray, sources) -> None:
        """Add many people's faces in one step (a row each): one copy of the gallery, not one per person."""
        for name in set(labels):
            check_name(name)
        e = np.asarray(embeddings, np.float32).reshape(-1, self.embeddings.shape[1])
        if not len(labels) == len(e) == len(sources):
            raise FacerecError("add_many: labels, embeddings and sources differ in length")
        self.embeddings = np.concatenate([self.embeddings, e])
        self.labels += list(labels)
        self.sources += [str(s) for s in sources]
        self._chances = None
        self._changed = True
        self._index_on_disk = False

    def forget(self, names, missing_ok: bool = False) -> list[str]:
        """Remove people; returns the names removed."""
        names = set(names)
        unknown = names - set(self.labels)
        if unknown and not missing_ok:
            raise FacerecError(f"not in the gallery: {', '.join(sorted(unknown))}")
        keep = np.array([n not in names for n in self.labels], bool)
        if keep.all():
            return []
        if self._index is None and self._index_wanted():
            self._ready_index(build=False)  # the file's index still matches: follow it, not rebuild
        self.embeddings = self.embeddings[keep] if len(keep) else self.embeddings
        self.labels = [n for n, k in zip(self.labels, keep) if k]
        self.sources = [s for s, k in zip(self.sources, keep) if k]
        self._chances = None
        self._changed = True
        self._index_on_disk = False
        if self._index is not None:
            self._index.forget(keep)
        return sorted(names - unknown)

    # --- the open-set rule ----------------------------------------------------------------------

    @property
    def stats(self):
        if self._stats is None:
            from .openset import shipped

            self._stats = shipped(self.embedder_info.get("name", ""))
            if self._stats is None:
                raise FacerecError(f"no distance statistics for model '{self.embedder_info.get('name')}': "
                                   f"measure them with facerec calibrate")
        return self._stats

    def chances(self) -> float:
        """How many independent chances a stranger has against this gallery (openset.chances)."""
        from .openset import chances

        if self._chances is None:  # counting 10,000 people's names would cost more than the search
            self._chances = chances(len(set(self.labels)), len(self.labels))
        return self._chances

    def acceptance_distance(self) -> float:
        """The distance under which a face is named, for this gallery's size and target."""
        return self.stats.acceptance_distance(self.chances(), self.false_accept)

    def identify(self, X) -> tuple[list, np.ndarray, np.ndarray]:
        """(names, confidences, distances): the nearest enrolled person or Unknown; confidence is
        1 - the chance a stranger comes this close to some enrolled face; distance to the nearest."""
        X = np.asarray(X, np.float32).reshape(-1, self.embeddings.shape[1])
        if not len(X):
            return [], np.zeros(0), np.zeros(0)
        if not len(self.labels):
            return [UNKNOWN] * len(X), np.zeros(len(X)), np.full(len(X), np.inf)
        nearest, sim = self._nearest(X)
        dist = np.sqrt(np.maximum(2 - 2 * sim, 0))
        limit, m = self.acceptance_distance(), self.chances()
        names = [self.labels[j] if dist[i] <= limit else UNKNOWN for i, j in enumerate(nearest)]
        conf = np.array([1 - self.stats.strangers_accepted(v, m) for v in dist])
        return names, conf, dist

    def _nearest(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Row of the nearest enrolled face to each of X, and its dot product with it."""
        index = self._ready_index() if self._index_wanted() else None
        rows = np.arange(len(X))
        if index is None:
            # Unit vectors: the nearest face has the largest dot product; only that one needs a sqrt.
            sim = X @ self.embeddings.T
            nearest = sim.argmax(axis=1)
            return nearest, sim[rows, nearest]
        # A few candidates from the index, ranked by their exact dot products.
        cand = index.search(X)
        found = cand >= 0
        sims = np.einsum("nd,nkd->nk", X, self.embeddings[np.where(found, cand, 0)])
        sims[~found] = -np.inf
        best = sims.argmax(axis=1)
        nearest, sim = cand[rows, best], sims[rows, best]
        lost = ~found.any(axis=1)
        if lost.any():  # nothing found (only when nearly every face was forgotten): scan
            s = X[lost] @ self.embeddings.T
            nearest[lost] = s.argmax(axis=1)
            sim[lost] = s[np.arange(len(s)), nearest[lost]]
        return nearest, sim

    # --- the index --------------------------------------------------------------------------

    def _index_wanted(self) -> bool:
        return self.index_threshold is not None and len(self.labels) >= self.index_threshold

    def _ready_index(self, build: bool = True):
        """The index, covering every row: the one in memory, else the file's, else a new one
        (build=False: none rather than a new one).  None when no index library is installed."""
        with self._index_lock:
            index = self._index
            if index is not None and (index.covered > len(self.embeddings) or index.needs_rebuild()):
                index = self._index = None  # rows changed behind its back, or mostly forgotten
            if index is None:
                library = gallery_index.available(self.index_library)
                if library is None:
                    _note_once("no-library", f"facerec: a gallery of {len(self.labels):,} faces is searched "
                                             f"face by face; install faiss-cpu (pip install 'facerec[scale]') "
                                             f"to index it")
                    return None
                if self._file is not None:
                    path = gallery_index.index_path(self._file)
                    try:
                        index = gallery_index.GalleryIndex.load(path, self.embeddings, library)
                        self._index_on_disk = index.from_file == index.covered  # nothing added on reading
                    except gallery_index.IndexUnusable as why:
                        if path.exists() and build:
                            print(f"facerec: {path}: not used ({why}); rebuilding it", file=sys.stderr, flush=True)
                if index is None and not build:
                    return None
                if index is None:
                    if len(self.embeddings) >= 100_000:
                        print(f"facerec: indexing {len(self.embeddings):,} faces for search (once; kept "
                              f"beside the gallery file)", file=sys.stderr, flush=True)
                    index = gallery_index.GalleryIndex.build(self.embeddings, library)
                    self._index_on_disk = False
                    if self._file is not None and not self._changed:
                        self._write_index(index)  # the file is unchanged: the index can sit beside it
            elif index.covered < len(self.embeddings):
                index.add(self.embeddings[index.covered:])
            self._index = index
            return index

    def _write_index(self, index) -> None:
        path = gallery_index.index_path(self._file)
        try:
            index.save(path, self.embeddings)
            self._index_on_disk = True
        except OSError as exc:  # only costs a rebuild next time
            print(f"facerec: warning: could not write {path} ({exc}); the index is rebuilt when next needed",
                  file=sys.stderr, flush=True)

    def _save_index(self, path: Path) -> None:
        """After the gallery is written to path: the index beside it, or no stale one there."""
        if self._index_wanted():
            index = self._ready_index()  # from the file it was read from, when that still fits
            same = self._file is not None and Path(self._file) == path and self._index_on_disk
            self._file, self._changed = path, False
            if index is not None and not same:
                self._write_index(index)
            return
        self._file, self._changed, self._index_on_disk = path, False, False
        stale = gallery_index.index_path(path)
        if stale.is_file() and gallery_index.is_index_file(stale):
            try:
                stale.unlink()
            except OSError:
                pass

    # --- the model it belongs to -------------------------------------------------------------

    @property
    def model_spec(self) -> str:
        return self.embedder_info.get("spec") or "default"

    def check_model(self, embedder, source="the gallery") -> None:
        """Refuse an embedder other than the one the gallery's faces were embedded with."""
        if self.embedder_info.get("key") != embedder.key:
            raise FacerecError(f"{source} holds faces embedded with model '{self.model_spec}' "
                               f"({self.embedder_info.get('name')}); use that model, or enrol again")

    # --- files --------------------------------------------------------------------------------

    def save(self, path) -> None:
        """Write atomically as a NumPy archive (no pickle)."""
        from .files import atomic_write_bytes
        from .npz_file import write_arrays

        meta = {"format": FORMAT, "version": FORMAT_VERSION, "embedder": self.embedder_info,
                "false_accept": self.false_accept, "labels": self.labels, "sources": self.sources}
        atomic_write_bytes(path, write_arrays({"meta": meta, "embeddings": self.embeddings}))
        self._save_index(Path(path))

    @classmethod
    def load(cls, path) -> "Gallery":
        """A gallery from a file; every field is checked before use, anything else is refused."""
        from .npz_file import check, finite_number, is_float, read_arrays, unit_rows

        path = Path(path)
        meta, arrays = read_arrays(path, "gallery", ["embeddings"])
        if meta.get("format") != FORMAT:
            raise FacerecError(f"{path}: not a facerec gallery file")
        if not isinstance(meta.get("version"), int) or meta["version"] > FORMAT_VERSION:
            raise FacerecError(f"{path}: made by a newer facerec (format {meta.get('version')}); upgrade facerec")

        def ok(condition, what):
            check(condition, path, "gallery", what)

        emb, labels, sources = arrays["embeddings"], meta.get("labels"), meta.get("sources")
        info = meta.get("embedder")
        ok(isinstance(info, dict) and isinstance(info.get("dim"), int) and 0 < info["dim"] <= 4096
           and isinstance(info.get("name", ""), str), "model fields")
        ok(finite_number(meta.get("false_accept", 0.01), 0, 1) and 0 < meta.get("false_accept", 0.01) < 1,
           "false-accept rate")
        ok(is_float(emb) and emb.ndim == 2 and emb.shape[1] == info["dim"] and np.isfinite(emb).all()
           and unit_rows(emb),
           "embeddings")
        ok(isinstance(labels, list) and len(labels) == len(emb) and all(_is_name(n) for n in labels), "names")
        ok(isinstance(sources, list) and len(sources) == len(emb) and all(isinstance(p, str) for p in sources),
           "photo paths")
        g = cls(info, info["dim"], float(meta.get("false_accept", 0.01)))
        g.embeddings, g.labels, g.sources = emb.astype(np.float32), labels, sources
        g._file = path  # its index, if any, is read when first needed
        return g


_noted: set[str] = set()


def _note_once(key: str, text: str) -> None:
    if key not in _noted:
        _noted.add(key)
        print(text, file=sys.stderr, flush=True)


def _is_name(name) -> bool:
    try:
        check_name(name)
        return True
    except (FacerecError, TypeError):
        return False


def check_name(name: str) -> None:
    """A person's name is a plain label: no path separators, no control characters."""
    if not name or name in (".", "..") or any(c in name for c in "/\\") or any(ord(c) < 32 for c in name) \
            or name == UNKNOWN:
        raise FacerecError(f"'{name}' cannot be a person's name (empty, a path, '{UNKNOWN}' or control characters)")


def is_gallery_file(path) -> bool:
    """Whether a recognition file is a gallery (else it is taken for a classifier)."""
    from .npz_file import read_arrays

    try:
        return read_arrays(path, "gallery", [], verify=False)[0].get("format") == FORMAT
    except FacerecError:  # anything unreadable is left to the classifier's loader to explain
        return False


def enrol_people(gallery: Gallery, embedder, people, progress: bool = True) -> list[str]:
    """Add or update each (name, photo paths); a photo with several faces gives the face closest to
    the person's other photos (or, with nothing to compare, the central one).  Returns notes."""
    from .encoder import FaceEncoder

    encoder = FaceEncoder(embedder)
    notes = []
    for name, paths in people:
        check_name(name)
        files = encoder.encode(list(paths), progress=progress)
        single = [ff.embeddings[0] for ff in files if not ff.error and len(ff) == 1]
        known = gallery.embeddings[[n == name for n in gallery.labels]] if gallery.labels else []
        ref = np.mean(np.concatenate([np.asarray(single).reshape(-1, embedder.dim),
                                      np.asarray(known).reshape(-1, embedder.dim)]), axis=0) \
            if len(single) or len(known) else None
        chosen, sources = [], []
        for ff in files:
            if ff.error or not len(ff):
                notes.append(f"{ff.path}: {ff.error or 'no face found'}; skipped")
                continue
            if len(ff) == 1:
                j = 0
            elif ref is not None:
                j = int(np.argmin(np.linalg.norm(ff.embeddings - ref, axis=1)))
                notes.append(f"{ff.path}: {len(ff)} faces; enrolled the one at "
                             f"{', '.join(str(int(v)) for v in ff.boxes[j])} (closest to {name}'s other photos)")
            else:
                j = ff.subject()
                notes.append(f"{ff.path}: {len(ff)} faces; enrolled the central one at "
                             f"{', '.join(str(int(v)) for v in ff.boxes[j])}")
            chosen.append(ff.embeddings[j])
            sources.append(ff.path)
        if not chosen:
            notes.append(f"{name}: no usable face; not enrolled")
            continue
        gallery.enrol(name, np.stack(chosen), sources)
    return notes


def enrol_clusters(gallery: Gallery, embedder, rows, names: dict, progress: bool = True,
                   faces: dict | None = None) -> list[str]:
    """Enrol clusters of a clusters file (facerec cluster) as people: names maps a cluster
    number to a name.  A cluster's faces are added to what the person already has.  faces
    (path -> FileFaces, from a faces file) saves embedding the photos again.  Returns notes."""
    from .encoder import FaceEncoder

    for name in names.values():
        check_name(name)
    present = {int(r["cluster"]) for r in rows if r.get("cluster") not in (None, "")}
    missing = sorted(set(names) - present)
    if missing:
        raise FacerecError(f"no cluster {', '.join(map(str, missing))} in the clusters file "
                           f"(it has {len(present)}: 1 to {max(present, default=0)})")
    wanted = [(int(r["cluster"]), r["path"], r["face"]) for r in rows
              if r.get("cluster") not in (None, "") and int(r["cluster"]) in names and r["face"] is not None]
    paths = sorted({p for _, p, _ in wanted})
    if faces is None:
        faces = {ff.path: ff for ff in FaceEncoder(embedder).encode(paths, progress=progress)}
    notes, added = [], {}
    for number, path, face in wanted:
        ff = faces.get(path)
        if ff is None:
            notes.append(f"{path}: not in the faces file; skipped")
            continue
        if ff.error or face >= len(ff):
            notes.append(f"{path}: {ff.error or f'face {face} not found (the photo changed since clustering?)'}; skipped")
            continue
        added.setdefault(names[number], []).append((ff.embeddings[face], f"{path}#{face}"))
    have = set(zip(gallery.labels, gallery.sources))
    labels, vectors, sources = [], [], []
    for name, items in added.items():
        new = [(e, s) for e, s in items if (name, s) not in have]  # naming a cluster twice adds nothing twice
        labels += [name] * len(new)
        vectors += [e for e, _ in new]
        sources += [s for _, s in new]
        notes.append(f"{name}: {len(new)} faces added from clusters "
                     f"{', '.join(str(n) for n, v in sorted(names.items()) if v == name)}")
    if labels:
        gallery.add_many(labels, np.stack(vectors), sources)
    return notes


def enrol_named_faces(gallery: Gallery, files, named) -> list[str]:
    """Enrol faces already embedded (FileFaces from a faces file) by a list of (path, face, name):
    face None means the photo's face (its only one, or by far its largest).  Each face is added to what its person has; one
    person's faces and a hundred thousand people's go in one step.  Returns notes."""
    by_path = {ff.path: ff for ff in files}
    have = set(zip(gallery.labels, gallery.sources))
    labels, vectors, sources, notes = [], [], [], []
    for path, face, name in named:
        check_name(name)
        ff = by_path.get(path)
        if ff is None or ff.error or not len(ff):
            notes.append(f"{path}: {'not in the faces file' if ff is None else ff.error or 'no face found'}; skipped")
            continue
        k = face
        if k is None:  # the photo's face: its only one, or one at least twice the area of any other
            area = (ff.boxes[:, 2] - ff.boxes[:, 0]) * (ff.boxes[:, 3] - ff.boxes[:, 1])
            order = np.argsort(-area)
            if len(ff) > 1 and area[order[0]] < 2 * area[order[1]]:
                notes.append(f"{path}: holds {len(ff)} faces of similar size; say which in the names file's "
                             f"face column; skipped")
                continue
            k = int(order[0])
        if not 0 <= k < len(ff):
            notes.append(f"{path}: has no face {k}; skipped")
            continue
        source = f"{path}#{k}"
        if (name, source) in have:
            continue
        have.add((name, source))
        labels.append(name)
        vectors.append(ff.embeddings[k])
        sources.append(source)
    if labels:
        gallery.add_many(labels, np.stack(vectors), sources)
    notes.append(f"{len(labels)} faces of {len(set(labels))} people added")
    return notes
