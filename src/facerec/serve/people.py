"""The gallery behind the service: read by cameras and requests at once, changed by enrolment.

Readers never lock: identify() uses whichever Gallery object is current, and a change never
touches that object.  Enrolling or forgetting copies the gallery, changes the copy, writes it
to its file (Gallery.save: a temporary file and a rename) and only then makes it current, so
the file and what the service answers always agree, and a crash at any moment leaves either
the old file or the new one.  Changes are serialised, so two enrolments at once both land.
"""
from __future__ import annotations

import threading
from pathlib import Path

import numpy as np

from ..errors import FacerecError
from ..gallery import Gallery, check_name, is_gallery_file

MAX_NAME_LENGTH = 100


def valid_name(name: str) -> str:
    """The name as given, if it can be a person's name (gallery.check_name, and not too long)."""
    if not isinstance(name, str) or len(name) > MAX_NAME_LENGTH or name != name.strip():
        raise FacerecError(f"'{str(name)[:MAX_NAME_LENGTH]}' cannot be a person's name (over {MAX_NAME_LENGTH} "
                           f"characters, or spaces at either end)")
    check_name(name)
    return name


def _copy(gallery: Gallery) -> Gallery:
    """A new Gallery with the same faces, sharing nothing that a change could touch (built the
    way Gallery.load builds one)."""
    g = Gallery(gallery.embedder_info, gallery.embeddings.shape[1], gallery.false_accept)
    g.embeddings = gallery.embeddings.copy()
    g.labels, g.sources = list(gallery.labels), list(gallery.sources)
    return g


class LiveGallery:
    """A gallery file that the service names faces with and enrols people into.

    Stands in for the classifier of a Recognizer (identify, check_model, model_spec), so the
    real-time tracker names camera faces with whatever the gallery holds at that moment.
    """

    def __init__(self, path, embedder=None):
        self.path = Path(path)
        if self.path.is_dir():
            raise FacerecError(f"{self.path}: is a folder; give the gallery file (.npz)")
        if self.path.exists():
            if not is_gallery_file(self.path):
                raise FacerecError(f"{self.path}: not a gallery (facerec enrol makes one; a classifier from "
                                   f"classifier.py TRAIN cannot be enrolled into)")
            self.current = Gallery.load(self.path)
            self.created = False
            self._stamp = self._file_stamp()
        else:
            if embedder is None:
                from ..embedding import load_embedder

                embedder = load_embedder("default")
            self.current = Gallery.for_embedder(embedder)
            self.created = True  # the file is written at the first enrolment
            self._stamp = None
        self._write = threading.Lock()

    # --- what a Recognizer asks of its classifier ------------------------------------------------

    def identify(self, X):
        return self.current.identify(X)

    def check_model(self, embedder, source="the gallery") -> None:
        self.current.check_model(embedder, source)

    @property
    def model_spec(self) -> str:
        return self.current.model_spec

    # --- reading -----------------------------------------------------------------------------

    def people(self) -> list[dict]:
        return [{"name": n, "photos": c} for n, c in self.current.people()]

    def summary(self) -> dict:
        g = self.current
        return {"people": len(g.people()), "faces": len(g.labels), "model": g.embedder_info.get("name"),
                "file": str(self.path), "saved": self.path.exists()}

    def acceptance_distance(self) -> float | None:
        try:
            return float(self.current.acceptance_distance())
        except FacerecError:
            return None

    # --- changing ----------------------------------------------------------------------------

    def _file_stamp(self):
        try:
            st = self.path.stat()
        except OSError:
            return None
        return st.st_mtime_ns, st.st_size, st.st_ino

    def _change(self, fn):
        with self._write:
            base = self.current
            if self._file_stamp() != self._stamp and self.path.exists():
                # Someone else (facerec enrol, say) changed the file since: build on theirs, not over it.
                base = Gallery.load(self.path)
                if base.embedder_info.get("key") != self.current.embedder_info.get("key"):
                    raise FacerecError(f"{self.path} was replaced by a gallery for another model; restart the "
                                       f"service to use it")
            new = _copy(base)
            result = fn(new)
            new.save(self.path)  # atomic; if it fails, nothing changed here either
            self.current, self._stamp = new, self._file_stamp()
            return result

    def add(self, name: str, embeddings: np.ndarray, sources, replace: bool = False) -> dict:
        """Add faces to a person (created if new), or with replace set their faces (enrol)."""
        valid_name(name)

        def change(g):
            (g.enrol if replace else g.add)(name, embeddings, sources)
            return dict(g.people()).get(name, 0)

        return {"name": name, "photos": self._change(change), "replaced": replace}

    def forget(self, name: str) -> None:
        """Remove a person; KeyError when the gallery has no one of that name."""
        valid_name(name)

        def change(g):
            if name not in set(g.labels):
                raise KeyError(name)
            g.forget([name])

        self._change(change)


def choose_faces(name: str, photos, known: np.ndarray) -> tuple[list, list, list]:
    """Which face of each uploaded photo is the person's, as facerec enrol chooses
    (gallery.enrol_people): a photo's only face; in a photo of several, the one closest to the
    person's other faces (single-face photos and those already enrolled), else the central one.

    photos: (label, image shape, boxes (k, 4), embeddings (k, D)) per photo; known: the person's
    enrolled embeddings.  Returns (embeddings, sources, notes)."""
    from ..subject import subject_face

    dim = known.shape[1]
    single = [e[0] for _, _, _, e in photos if len(e) == 1]
    pool = np.concatenate([np.asarray(single, np.float32).reshape(-1, dim), known])
    ref = pool.mean(axis=0) if len(pool) else None
    chosen, sources, notes = [], [], []
    for label, shape, boxes, vectors in photos:
        if not len(vectors):
            notes.append(f"{label}: no face found; skipped")
            continue
        if len(vectors) == 1:
            j = 0
        elif ref is not None:
            j = int(np.argmin(np.linalg.norm(vectors - ref, axis=1)))
            notes.append(f"{label}: {len(vectors)} faces; enrolled the one closest to {name}'s other photos")
        else:
            j = subject_face(boxes, shape)
            notes.append(f"{label}: {len(vectors)} faces; enrolled the central one")
        chosen.append(vectors[j])
        sources.append(label)
    return chosen, sources, notes
