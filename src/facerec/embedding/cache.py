"""Embeddings keyed by file content and model, so reruns on the same photos skip the network.

The cache is never trusted: an entry is used only when it carries the key it is looked up under
and its arrays are whole, and a damaged database file is moved aside for a fresh one. Anything
else wrong with it (locked, read-only, a full disk) only costs recomputation.
"""
from __future__ import annotations

import io
import os
import sqlite3
import sys
import time
from pathlib import Path

import numpy as np

from ..files import cache_dir

_SCHEMA = ("CREATE TABLE IF NOT EXISTS faces (model TEXT, digest TEXT, variant TEXT, "
           "data BLOB, PRIMARY KEY (model, digest, variant))")
# Each entry's payload repeats the key it was stored under, so a blob copied or swapped onto
# another row (or written by a facerec that did not store it) reads as a miss, not wrong faces.
_KEY = ("_key_model", "_key_digest", "_key_variant")
# SQLITE_CORRUPT and SQLITE_NOTADB: the file itself is bad (unlike locked, read-only, missing).
_DAMAGE_CODES = (11, 26)
_warned: set[str] = set()  # damaged cache files already reported by this process


def file_digest(path) -> str:
    """SHA-1 of a file's bytes: the cache key survives renames and moves."""
    from ..files import file_digest as digest

    return digest(path, "sha1")


def _is_damage(exc: sqlite3.DatabaseError) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None and code & 0xFF in _DAMAGE_CODES:
        return True
    msg = str(exc).lower()
    return "malformed" in msg or "not a database" in msg


def _text(a) -> str | None:
    if isinstance(a, np.ndarray) and a.dtype.kind == "U" and a.shape == ():
        return str(a[()])
    return None


def _decode(blob) -> dict | None:
    try:
        with np.load(io.BytesIO(blob), allow_pickle=False) as z:
            return {k: z[k] for k in z.files}
    except Exception:  # noqa: BLE001 - any undecodable blob (not npz, truncated, not bytes) is a miss
        return None


def faces_entry_ok(arrays: dict, dim: int) -> bool:
    """Whether a cached entry holds what FacePipeline.files builds a FileFaces from: for K faces, finite
    float32 boxes (K, 4), landmarks (K, 5, 2), embeddings (K, dim), masked (K,), sharpness (K,) and optionally
    flipped and masked_embeddings (K, dim), and image_size as two non-negative integers."""
    try:
        k = len(arrays["embeddings"])
        shapes = {"boxes": (k, 4), "landmarks": (k, 5, 2), "embeddings": (k, dim), "masked": (k,), "sharpness": (k,)}
        for optional in ("flipped", "masked_embeddings"):
            if optional in arrays:
                shapes[optional] = (k, dim)
        for name, shape in shapes.items():
            a = arrays[name]
            if a.dtype != np.float32 or a.shape != shape or not np.isfinite(a).all():
                return False
        size = arrays["image_size"]
        return size.dtype.kind in "iu" and size.shape == (2,) and bool((size >= 0).all())
    except (KeyError, TypeError, AttributeError):
        return False


class EmbeddingCache:
    """A small SQLite store of arrays per (model key, file digest, variant). Never pickles."""

    def __init__(self, model_key: str, path: Path | None = None):
        self.model_key = model_key
        try:
            self.path = Path(path) if path else cache_dir() / "embeddings.sqlite"
        except OSError:  # an uncreatable cache folder only costs recomputation
            self.path = None
        self._db = None
        self._ident = None  # (device, inode) of the file opened, to tell it from a fresh one
        self._off = self.path is None  # no usable cache: every lookup misses, nothing is stored

    def _open(self):
        db = sqlite3.connect(str(self.path), timeout=30)  # the timeout lets processes share it
        try:
            try:
                st = os.stat(self.path)
                self._ident = (st.st_dev, st.st_ino)
            except OSError:
                self._ident = None
            db.execute(_SCHEMA)
            if self._ident is None:
                st = os.stat(self.path)
                self._ident = (st.st_dev, st.st_ino)
        except BaseException:
            db.close()
            raise
        return db

    def _conn(self):
        if self._db is None and not self._off:
            for attempt in range(2):
                try:
                    self._db = self._open()
                    break
                except sqlite3.DatabaseError as exc:
                    if attempt or not _is_damage(exc) or not self._move_aside(exc):
                        self._off = True  # unopenable (read-only folder, ...): compute instead
                        break
                except OSError:
                    self._off = True
                    break
        return self._db

    def _move_aside(self, exc) -> bool:
        """Rename a damaged cache file (kept for a look, never deleted) so a fresh cache starts at
        the usual path and later runs use it. False when it cannot be moved."""
        if self._db is not None:
            try:
                self._db.close()
            except sqlite3.Error:
                pass
            self._db = None
        path = self.path
        try:
            st = os.stat(path)
        except OSError:
            return True  # gone already: another process moved it
        if self._ident is not None and (st.st_dev, st.st_ino) != self._ident:
            return True  # another process already moved it and started afresh: keep theirs
        stamp = time.strftime("%Y%m%d-%H%M%S")
        dest = path.with_name(f"{path.name}.damaged-{stamp}")
        n = 1
        while dest.exists():
            dest = path.with_name(f"{path.name}.damaged-{stamp}-{n}")
            n += 1
        moved = True
        try:
            os.rename(path, dest)
            # A journal left behind would be replayed into the fresh file: it goes with the old one.
            for suffix in ("-journal", "-wal", "-shm"):
                side = path.with_name(path.name + suffix)
                if side.exists():
                    os.rename(side, dest.with_name(dest.name + suffix))
        except OSError as err:
            moved = False
            note = f"cannot move it aside ({err.strerror or err}); running without a cache"
        else:
            note = f"moved it to {dest} and started a fresh one"
        if str(path) not in _warned:
            _warned.add(str(path))
            print(f"facerec: warning: the embedding cache {path} is damaged ({exc}); {note}",
                  file=sys.stderr, flush=True)
        self._ident = None
        return moved

    def _run(self, fn):
        """fn(connection), or None when the cache cannot answer; a damaged file found on the way is
        moved aside and fn tried once more on the fresh cache."""
        for attempt in range(2):
            db = self._conn()
            if db is None:
                return None
            try:
                return fn(db)
            except sqlite3.DatabaseError as exc:
                try:
                    db.rollback()  # release any lock a failed write holds, for other processes
                except sqlite3.Error:
                    pass
                if attempt or not _is_damage(exc) or not self._move_aside(exc):
                    return None  # locked, read-only, disk full: only costs recomputation
        return None

    def get(self, digest: str, variant: str, check=None) -> dict | None:
        """The arrays stored for this file and variant, or None: also for an entry stored under
        another key, in an older format, undecodable, or failing ``check(arrays)``."""
        row = self._run(lambda db: db.execute("SELECT data FROM faces WHERE model=? AND digest=? AND variant=?",
                                              (self.model_key, digest, variant)).fetchone())
        if row is None:
            return None
        arrays = _decode(row[0])
        if arrays is None:
            return None
        stored = tuple(_text(arrays.pop(k, None)) for k in _KEY)
        if stored != (self.model_key, digest, variant):
            return None
        if check is not None and not check(arrays):
            return None
        return arrays

    def put(self, digest: str, variant: str, arrays: dict) -> None:
        """Store (or overwrite) the arrays for this file and variant, with their key inside."""
        buf = io.BytesIO()
        np.savez(buf, **{**arrays, **{k: np.array(v) for k, v in zip(_KEY, (self.model_key, digest, variant))}})
        data = buf.getvalue()

        def write(db):
            db.execute("INSERT OR REPLACE INTO faces VALUES (?, ?, ?, ?)", (self.model_key, digest, variant, data))
            db.commit()

        self._run(write)

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
