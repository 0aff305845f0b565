"""Reading facerec's NumPy archives (classifier and gallery files) without trusting them.

Each array's header is read before its data, so a file that declares more than it holds is refused
before any memory is spent on it; nothing is unpickled; a digest written beside the arrays catches
edits and swapped arrays that would still parse.
"""
from __future__ import annotations

import hashlib
import io
import json
import math
import zipfile
from pathlib import Path

import numpy as np
from numpy.lib import format as npy

from .errors import FacerecError

# facerec writes uncompressed archives, so the arrays' declared sizes match the file's own size.
# A few times that, plus room for small files, bounds what a crafted (deflated) file may claim.
_EXPANSION = 4
_SLACK = 16 << 20


def write_arrays(arrays: dict) -> bytes:
    """An archive of arrays whose 'meta' JSON carries a digest of all the others."""
    meta = dict(arrays["meta"])
    arrays = {k: np.ascontiguousarray(v) for k, v in arrays.items() if k != "meta"}
    meta["digest"] = digest(meta, arrays)
    buf = io.BytesIO()
    np.savez(buf, meta=np.frombuffer(json.dumps(meta).encode(), np.uint8), **arrays)
    return buf.getvalue()


def digest(meta: dict, arrays: dict) -> str:
    """SHA-256 over the description and every array's name, dtype, shape and bytes."""
    h = hashlib.sha256(json.dumps({k: v for k, v in meta.items() if k != "digest"}, sort_keys=True).encode())
    for name in sorted(arrays):
        a = np.ascontiguousarray(arrays[name])
        h.update(f"{name}|{a.dtype.str}|{a.shape}|".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def read_arrays(path, kind: str, names, verify: bool = True, optional=(),
                newest: int | None = None) -> tuple[dict, dict]:
    """(meta, arrays) from a facerec archive; anything else raises FacerecError naming the file.

    names: the arrays to read besides 'meta'; each must be present; optional: those read when
    present (an older file lacks them).  kind words the messages ("classifier", "gallery").
    verify=False skips the digest, for a look at 'meta' alone.  newest: the latest format version
    the caller reads; a newer file is refused as such before its digest is checked (it may hold
    arrays this version does not read, which the digest covers).
    """
    path = Path(path)
    if path.is_dir():
        raise FacerecError(f"{path}: is a folder, not a {kind} file")
    if not path.is_file():
        raise FacerecError(f"{path}: {kind} file not found")
    bad = f"{path}: not a facerec {kind} file"
    try:
        size = path.stat().st_size
        with zipfile.ZipFile(path) as z:
            members = {info.filename[:-4]: info for info in z.infolist() if info.filename.endswith(".npy")}
            if sum(info.file_size for info in members.values()) > _EXPANSION * size + _SLACK:
                raise FacerecError(f"{bad}: it declares far more data than it holds")
            arrays = {}
            for name in ["meta", *names]:
                if name not in members:
                    raise FacerecError(f"{bad}: it has no '{name}' array")
                arrays[name] = _read_member(z, members[name])
            for name in optional:
                if name in members:
                    arrays[name] = _read_member(z, members[name])
    except FacerecError as exc:
        raise FacerecError(f"{exc} (files are never unpickled)") from None
    except (OSError, EOFError, ValueError, zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError) as exc:
        raise FacerecError(f"{bad} (it is damaged, or was made by another tool: {_why(exc)}; "
                           f"files are never unpickled)") from None
    meta_bytes = arrays.pop("meta")
    try:
        meta = json.loads(bytes(meta_bytes).decode()) if meta_bytes.dtype == np.uint8 else None
    except (UnicodeDecodeError, ValueError, RecursionError):
        meta = None
    if not isinstance(meta, dict):
        raise FacerecError(f"{bad} (its description is damaged)")
    version = meta.get("version")
    if newest is not None and isinstance(version, int) and version > newest:
        raise FacerecError(f"{path}: made by a newer facerec (format {version}); upgrade facerec")
    if verify and "digest" in meta and meta["digest"] != digest(meta, arrays):
        raise FacerecError(f"{path}: this {kind} file is damaged or was edited (its contents do not "
                           f"match its checksum); make it again")
    return meta, arrays


def _why(exc) -> str:
    return (str(exc) or type(exc).__name__).splitlines()[0][:120]


def _read_member(z: zipfile.ZipFile, info: zipfile.ZipInfo) -> np.ndarray:
    """One .npy member: header first (shape, dtype), its size checked, then the data."""
    with z.open(info) as f:
        try:  # the header is a Python literal that numpy parses; any failure means damage
            version = npy.read_magic(f)
            read_header = {(1, 0): npy.read_array_header_1_0, (2, 0): npy.read_array_header_2_0}[version]
            shape, fortran, dtype = read_header(f)
        except Exception as exc:
            raise ValueError(f"array '{info.filename}' has an unreadable header ({type(exc).__name__})") from None
        if dtype.hasobject or dtype.kind not in "biuf":
            raise ValueError(f"array '{info.filename}' holds {dtype} values")
        if any(d < 0 for d in shape):
            raise ValueError(f"array '{info.filename}' has a negative size")
        count = math.prod(shape)
        if count * dtype.itemsize > info.file_size:
            raise ValueError(f"array '{info.filename}' declares {count * dtype.itemsize} bytes "
                             f"in a {info.file_size}-byte entry")
        a = np.empty(count, dtype)
        if f.readinto(memoryview(a).cast("B")) != a.nbytes:
            raise ValueError(f"array '{info.filename}' is truncated")
        f.read()  # to the end of the entry, so zipfile checks its CRC
    return a.reshape(shape[::-1]).T if fortran else a.reshape(shape)


# --- checks shared by the classifier and gallery readers -----------------------------------------

def check(condition: bool, path, kind: str, what: str) -> None:
    if not condition:
        raise FacerecError(f"{path}: damaged {kind} file ({what}); make it again")


def is_int(a: np.ndarray) -> bool:
    return a.dtype.kind in "iu"


def is_float(a: np.ndarray) -> bool:
    return a.dtype.kind == "f"


def unit_rows(a: np.ndarray) -> bool:
    """Every row an L2-normalised embedding, as every embedder here gives."""
    return bool(np.all(np.abs(np.linalg.norm(a.astype(np.float64), axis=1) - 1) < 1e-3)) if len(a) else True


def finite_number(x, low=-math.inf, high=math.inf) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x) and low <= x <= high
