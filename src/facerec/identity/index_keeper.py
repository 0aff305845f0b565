"""A gallery's search index kept in step with its rows: read from beside the file when it still
fits, followed through adds and forgets, rebuilt when missing, stale or damaged, written beside
the file when the gallery is saved (gallery_index holds the index itself)."""
from __future__ import annotations

import sys
import threading
from pathlib import Path

from . import gallery_index

_noted: set[str] = set()


def note_once(key: str, text: str) -> None:
    """Print a note on stderr the first time this process meets it."""
    if key not in _noted:
        _noted.add(key)
        print(text, file=sys.stderr, flush=True)


class IndexKeeper:
    """The index of one Gallery, and where it stands against the gallery's file.

    ``file``: the gallery file the rows were read from or last written to; ``changed``: rows added
    or forgotten since; ``on_disk``: the index file beside ``file`` matches ``index``."""

    def __init__(self):
        self.index = None  # gallery_index.GalleryIndex over the first rows, once needed
        self.file = None
        self.changed = False
        self.on_disk = False
        self._lock = threading.Lock()

    def rows_added(self) -> None:
        self.changed, self.on_disk = True, False  # the index takes the new rows when next used

    def rows_forgotten(self, keep) -> None:
        self.changed, self.on_disk = True, False
        if self.index is not None:
            self.index.forget(keep)

    def ready(self, embeddings, library=None, build: bool = True):
        """The index covering every row: the one in memory, else the file's, else a new one
        (build=False: none rather than a new one).  None when no index library is installed."""
        with self._lock:
            index = self.index
            if index is not None and (index.covered > len(embeddings) or index.needs_rebuild()):
                index = self.index = None  # rows changed behind its back, or mostly forgotten
            if index is None:
                index = self._read_or_build(embeddings, library, build)
            elif index.covered < len(embeddings):
                index.add(embeddings[index.covered:])
            self.index = index
            return index

    def _read_or_build(self, embeddings, library, build: bool):
        library = gallery_index.available(library)
        if library is None:
            note_once("no-library", f"facerec: a gallery of {len(embeddings):,} faces is searched face by face; "
                                    f"install faiss-cpu (pip install 'facerec[scale]') to index it")
            return None
        index = self._read(embeddings, library, build)
        if index is not None or not build:
            return index
        if len(embeddings) >= 100_000:
            print(f"facerec: indexing {len(embeddings):,} faces for search (once; kept beside the gallery file)",
                  file=sys.stderr, flush=True)
        index = gallery_index.GalleryIndex.build(embeddings, library)
        self.on_disk = False
        if self.file is not None and not self.changed:
            self._write(index, embeddings)  # the file is unchanged: the index can sit beside it
        return index

    def _read(self, embeddings, library, build: bool):
        if self.file is None:
            return None
        path = gallery_index.index_path(self.file)
        try:
            index = gallery_index.GalleryIndex.load(path, embeddings, library)
        except gallery_index.IndexUnusable as why:
            if path.exists() and build:
                print(f"facerec: {path}: not used ({why}); rebuilding it", file=sys.stderr, flush=True)
            return None
        self.on_disk = index.from_file == index.covered  # nothing added on reading
        return index

    def _write(self, index, embeddings) -> None:
        path = gallery_index.index_path(self.file)
        try:
            index.save(path, embeddings)
            self.on_disk = True
        except OSError as exc:  # only costs a rebuild next time
            print(f"facerec: warning: could not write {path} ({exc}); the index is rebuilt when next needed",
                  file=sys.stderr, flush=True)

    def saved(self, path: Path, embeddings, wanted: bool, library=None) -> None:
        """After the gallery is written to path: the index beside it, or no stale one there."""
        if wanted:
            index = self.ready(embeddings, library)  # from the file it was read from, when that still fits
            same = self.file is not None and Path(self.file) == path and self.on_disk
            self.file, self.changed = path, False
            if index is not None and not same:
                self._write(index, embeddings)
            return
        self.file, self.changed, self.on_disk = path, False, False
        stale = gallery_index.index_path(path)
        if stale.is_file() and gallery_index.is_index_file(stale):
            try:
                stale.unlink()
            except OSError:
                pass
