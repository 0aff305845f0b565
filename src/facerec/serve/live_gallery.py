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

from ..errors import FacerecError
from ..identity.gallery import Gallery
from ..identity.gallery_file import is_gallery_file
from ..identity.protocol import person_name


def valid_name(name: str) -> str:
    """The name as the gallery keeps it (identity.protocol.person_name), or refused with one line."""
    return person_name(name)


class LiveGallery:
    """A gallery file that the service names faces with and enrols people into.

    Stands in for the identifier of a Recognizer (identify, check_model, model_spec), so the
    real-time tracker names camera faces with whatever the gallery holds at that moment.
    """

    def __init__(self, path, embedder=None, threshold: float | None = None):
        self.path = Path(path)
        if self.path.is_dir():
            raise FacerecError(f"{self.path}: is a folder; give the gallery file (.npz)")
        if self.path.exists():
            if not is_gallery_file(self.path):
                raise FacerecError(f"{self.path}: not a gallery (facerec enrol makes one; a classifier from "
                                   f"classifier.py TRAIN cannot be enrolled into)")
            self.current = Gallery.load(self.path)
            self._stamp = self._file_stamp()
        else:
            if embedder is None:
                from ..embedding import load_embedder

                embedder = load_embedder("default")
            self.current = Gallery.for_embedder(embedder)
            # The file is written at the first enrolment.
            self._stamp = None
        self.use_threshold(threshold)
        self._write = threading.Lock()

    # --- what a Recognizer asks of its identifier -----------------------------------------------

    def identify(self, X, masked=None, soft=None):
        return self.latest().identify(X, masked, soft)

    def latest(self) -> Gallery:
        """The gallery as its file holds it: read again when another program (facerec enrol or
        forget) changed the file since; the one in use while this service is changing it."""
        stamp = self._file_stamp()
        if stamp is None or stamp == self._stamp or not self._write.acquire(blocking=False):
            return self.current
        try:
            fresh = Gallery.load(self.path)  # replaced whole by a rename: never half written
            if fresh.embedder_info.get("key") == self.current.embedder_info.get("key"):
                fresh.use_threshold(self.threshold)
                self.current, self._stamp = fresh, stamp
        except FacerecError:
            self._stamp = stamp  # keep naming with the gallery it has, and read this file no more
            # until it changes again; a change of this service's own will say what is wrong
        finally:
            self._write.release()
        return self.current

    def use_threshold(self, threshold: float | None) -> None:
        """The probability floor every version of the gallery names with (None: the default)."""
        self.current.use_threshold(threshold)
        self.threshold = threshold

    def check_model(self, embedder, source="the gallery") -> None:
        self.current.check_model(embedder, source)

    @property
    def model_spec(self) -> str:
        return self.current.model_spec

    # --- reading -----------------------------------------------------------------------------

    def people(self) -> list[dict]:
        return [{"name": n, "photos": c} for n, c in self.latest().people()]

    def summary(self) -> dict:
        g = self.latest()
        return {"people": len(g.people()), "faces": len(g.labels), "model": g.embedder_info.get("name"),
                "file": str(self.path), "saved": self.path.exists()}

    def acceptance_distance(self) -> float | None:
        try:
            return float(self.latest().acceptance_distance())
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
        from ..files import exclusive

        # The thread lock orders this service's own changes; the file's lock, every other program's.
        with self._write, exclusive(self.path):
            base = self.current
            if self._file_stamp() != self._stamp and self.path.exists():
                # Someone else (facerec enrol, say) changed the file since: build on theirs, not over it.
                base = Gallery.load(self.path)
                if base.embedder_info.get("key") != self.current.embedder_info.get("key"):
                    raise FacerecError(f"{self.path} was replaced by a gallery for another model; restart the "
                                       f"service to use it")
            new = base.copy()
            new.use_threshold(self.threshold)
            result = fn(new)
            new.save(self.path)  # atomic; if it fails, nothing changed here either
            self.current, self._stamp = new, self._file_stamp()
            return result

    def add(self, name: str, embeddings, sources, replace: bool = False, masked=None) -> dict:
        """Add faces to a person (created if new), or with replace set their faces (enrol);
        masked: the faces rendered masked."""
        name = self.latest().known_as(name)

        def change(g):
            (g.enrol if replace else g.add)(name, embeddings, sources, masked)
            return dict(g.people()).get(name, 0)

        return {"name": name, "photos": self._change(change), "replaced": replace}

    def forget(self, name: str) -> None:
        """Remove a person (by any case or Unicode form of the name); KeyError when there is no one of it."""
        valid_name(name)

        def change(g):
            if g.known_as(name) not in set(g.labels):
                raise KeyError(name)
            g.forget([name])

        self._change(change)
