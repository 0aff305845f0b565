"""Embeddings keyed by file content and model, so reruns on the same photos skip the network."""
from __future__ import annotations

import io
import sqlite3
from pathlib import Path

import numpy as np

from .files import cache_dir


def file_digest(path) -> str:
    """SHA-1 of a file's bytes: the cache key survives renames and moves."""
    from .files import file_digest as digest

    return digest(path, "sha1")


class EmbeddingCache:
    """A small SQLite store of arrays per (model key, file digest, variant). Never pickles."""

    def __init__(self, model_key: str, path: Path | None = None):
        self.model_key = model_key
        self.path = Path(path) if path else cache_dir() / "embeddings.sqlite"
        self._db = None

    def _conn(self):
        if self._db is None:
            try:
                self._db = sqlite3.connect(str(self.path), timeout=30)
                self._db.execute("CREATE TABLE IF NOT EXISTS faces (model TEXT, digest TEXT, variant TEXT, "
                                 "data BLOB, PRIMARY KEY (model, digest, variant))")
            except sqlite3.DatabaseError:
                # A damaged cache file is only a cache: start a fresh one beside it.
                self.path = self.path.with_name(self.path.stem + "-new.sqlite")
                self._db = sqlite3.connect(str(self.path), timeout=30)
                self._db.execute("CREATE TABLE IF NOT EXISTS faces (model TEXT, digest TEXT, variant TEXT, "
                                 "data BLOB, PRIMARY KEY (model, digest, variant))")
        return self._db

    def get(self, digest: str, variant: str) -> dict | None:
        try:
            row = self._conn().execute("SELECT data FROM faces WHERE model=? AND digest=? AND variant=?",
                                       (self.model_key, digest, variant)).fetchone()
        except sqlite3.DatabaseError:
            return None
        if row is None:
            return None
        try:
            with np.load(io.BytesIO(row[0]), allow_pickle=False) as z:
                return {k: z[k] for k in z.files}
        except (OSError, ValueError):
            return None

    def put(self, digest: str, variant: str, arrays: dict) -> None:
        buf = io.BytesIO()
        np.savez(buf, **arrays)
        try:
            db = self._conn()
            db.execute("INSERT OR REPLACE INTO faces VALUES (?, ?, ?, ?)",
                       (self.model_key, digest, variant, buf.getvalue()))
            db.commit()
        except sqlite3.DatabaseError:
            pass  # an unwritable cache only costs recomputation
