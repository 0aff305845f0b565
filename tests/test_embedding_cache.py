"""The embedding cache is never trusted: swapped, incomplete or damaged entries are recomputed."""
import io
import json
import sqlite3
import subprocess
import sys

import numpy as np
import pytest

from facerec.embedding import cache as ec
from facerec.embedding.base import Alignment, Embedder
from facerec.embedding.cache import EmbeddingCache, faces_entry_ok
from facerec.pipeline import FacePipeline

DIM = 4


class ColourEmbedder(Embedder):
    """A network-free embedder (a face's mean colour), so the encoder runs in milliseconds."""

    name = "colour"
    input_size = (8, 8)
    dim = DIM
    standardization = "none"
    alignment = Alignment("crop", 8)

    def __init__(self):
        self.calls = 0

    def _forward(self, batch):
        self.calls += 1
        m = batch.mean(axis=(1, 2))
        return np.concatenate([m, np.full((len(m), 1), 10.0, np.float32)], axis=1)


class NoDetector:
    settings = "sidecars-only"

    def detect(self, image):
        raise AssertionError("the test photos have sidecars: nothing is detected")


@pytest.fixture(autouse=True)
def _fresh(tmp_path, monkeypatch):
    """Each test its own cache folder, and its own once-per-process warnings."""
    monkeypatch.setenv("FACEREC_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(ec, "_warned", set())


def photos(folder, colours):
    """Solid-colour crops with align_dataset sidecars, one face each."""
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, c in enumerate(colours):
        p = folder / f"p{i}.png"
        Image.fromarray(np.full((16, 16, 3), c, np.uint8)).save(p)
        p.with_suffix(".json").write_text(json.dumps({"box": [0, 0, 16, 16], "landmarks": [[8, 8]] * 5}))
        paths.append(str(p))
    return paths


def encoder(emb=None):
    return FacePipeline(emb or ColourEmbedder(), detector=NoDetector())


def rows(path):
    with sqlite3.connect(str(path)) as db:
        return db.execute("SELECT model, digest, variant, data FROM faces ORDER BY digest").fetchall()


def swap_blobs(path):
    (m1, d1, v1, b1), (m2, d2, v2, b2) = rows(path)[:2]
    with sqlite3.connect(str(path)) as db:
        db.execute("UPDATE faces SET data=? WHERE digest=?", (b2, d1))
        db.execute("UPDATE faces SET data=? WHERE digest=?", (b1, d2))
    return d1, d2, v1


def entry(k=1, dim=DIM, seed=0):
    r = np.random.default_rng(seed)
    return {"boxes": r.random((k, 4), np.float32), "landmarks": r.random((k, 5, 2), np.float32),
            "embeddings": r.random((k, dim), np.float32), "image_size": np.array([16, 16], np.int64),
            "masked": r.random(k).astype(np.float32), "sharpness": r.random(k).astype(np.float32) * 100}


def test_swapped_blobs_are_misses(tmp_path):
    path = tmp_path / "c.sqlite"
    cache = EmbeddingCache("m", path)
    cache.put("a" * 40, "v", entry(seed=1))
    cache.put("b" * 40, "v", entry(seed=2))
    assert cache.get("a" * 40, "v") is not None
    cache.close()
    swap_blobs(path)
    cache = EmbeddingCache("m", path)
    assert cache.get("a" * 40, "v") is None
    assert cache.get("b" * 40, "v") is None


def test_entry_of_another_model_or_variant_is_a_miss(tmp_path):
    path = tmp_path / "c.sqlite"
    EmbeddingCache("other", path).put("a" * 40, "v", entry())
    with sqlite3.connect(str(path)) as db:  # the row relabelled as model m, variant w
        db.execute("UPDATE faces SET model='m', variant='w'")
    assert EmbeddingCache("m", path).get("a" * 40, "w") is None


def test_old_format_entry_is_a_miss(tmp_path):
    path = tmp_path / "c.sqlite"
    EmbeddingCache("m", path).put("a" * 40, "v", entry())
    buf = io.BytesIO()
    np.savez(buf, **entry())  # what facerec stored before entries carried their key
    with sqlite3.connect(str(path)) as db:
        db.execute("UPDATE faces SET data=?", (buf.getvalue(),))
    assert EmbeddingCache("m", path).get("a" * 40, "v") is None


@pytest.mark.parametrize("spoil", ["no embeddings", "no boxes", "no image_size", "float64", "wrong dim",
                                   "NaN", "count mismatch", "flipped misshapen", "not npz"])
def test_incomplete_entries_are_misses(tmp_path, spoil):
    a = entry(k=2)
    if spoil.startswith("no "):
        del a[spoil[3:]]
    elif spoil == "float64":
        a["embeddings"] = a["embeddings"].astype(np.float64)
    elif spoil == "wrong dim":
        a["embeddings"] = np.zeros((2, DIM + 1), np.float32)
    elif spoil == "NaN":
        a["embeddings"][1, 2] = np.nan
    elif spoil == "count mismatch":
        a["landmarks"] = a["landmarks"][:1]
    elif spoil == "flipped misshapen":
        a["flipped"] = np.zeros((1, DIM), np.float32)
    cache = EmbeddingCache("m", tmp_path / "c.sqlite")
    cache.put("a" * 40, "v", a)
    if spoil == "not npz":
        with sqlite3.connect(str(cache.path)) as db:
            db.execute("UPDATE faces SET data=?", (b"PK\x03\x04 not a zip",))
    assert cache.get("a" * 40, "v") is not None or spoil == "not npz"  # the key matches
    assert cache.get("a" * 40, "v", check=lambda x: faces_entry_ok(x, DIM)) is None


def test_whole_entry_passes_the_check(tmp_path):
    cache = EmbeddingCache("m", tmp_path / "c.sqlite")
    a = entry(k=3)
    a["flipped"] = np.ones((3, DIM), np.float32)
    cache.put("a" * 40, "v", a)
    got = cache.get("a" * 40, "v", check=lambda x: faces_entry_ok(x, DIM))
    assert got is not None and sorted(got) == sorted(a)  # the stored key is not handed back
    assert all(np.array_equal(got[k], a[k]) for k in a)
    none = {"boxes": np.zeros((0, 4), np.float32), "landmarks": np.zeros((0, 5, 2), np.float32),
            "embeddings": np.zeros((0, DIM), np.float32), "image_size": np.array([5, 5], np.int64),
            "masked": np.zeros(0, np.float32), "sharpness": np.zeros(0, np.float32)}
    assert faces_entry_ok(none, DIM)  # a photo with no face is a valid entry


def test_encoder_recomputes_swapped_entries(tmp_path):
    paths = photos(tmp_path / "photos", [(250, 10, 10), (10, 10, 250)])
    emb = ColourEmbedder()
    truth = [ff.embeddings.copy() for ff in encoder(emb).files(paths, progress=False)]
    assert not np.allclose(truth[0], truth[1])
    db = tmp_path / "cache" / "embeddings.sqlite"
    assert len(rows(db)) == 2
    swap_blobs(db)
    emb.calls = 0
    again = encoder(emb).files(paths, progress=False)
    assert emb.calls > 0  # recomputed, not read from the swapped rows
    for ff, t in zip(again, truth):
        np.testing.assert_allclose(ff.embeddings, t)
    emb.calls = 0
    third = encoder(emb).files(paths, progress=False)
    assert emb.calls == 0  # the entries were overwritten with good ones and are used again
    for ff, t in zip(third, truth):
        np.testing.assert_allclose(ff.embeddings, t)


def test_encoder_recomputes_entry_missing_embeddings(tmp_path, capsys):
    paths = photos(tmp_path / "photos", [(200, 100, 0)])
    emb = ColourEmbedder()
    truth = encoder(emb).files(paths, progress=False)[0]
    db = tmp_path / "cache" / "embeddings.sqlite"
    (model, digest, variant, _), = rows(db)
    cache = EmbeddingCache(model, db)
    stored = cache.get(digest, variant)
    del stored["embeddings"]
    cache.put(digest, variant, stored)  # under its own key, but without embeddings
    cache.close()
    emb.calls = 0
    ff = encoder(emb).files(paths, progress=False)[0]
    assert emb.calls > 0 and ff.error is None
    np.testing.assert_allclose(ff.embeddings, truth.embeddings)
    assert "Traceback" not in capsys.readouterr().err
    assert "embeddings" in EmbeddingCache(model, db).get(digest, variant)  # overwritten


def _fill(path, n=300):
    cache = EmbeddingCache("m", path)
    for i in range(n):
        cache.put(f"{i:040x}", "v", entry(seed=i))
    cache.close()


def _spoil(path, where):
    data = bytearray(path.read_bytes())
    start = 0 if where == "header" else len(data) // 3
    data[start:start + len(data) // 3] = np.random.default_rng(0).integers(0, 256, len(data) // 3, np.uint8).tobytes()
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("where", ["middle", "header"])
def test_damaged_database_is_moved_aside(tmp_path, capsys, where):
    path = tmp_path / "embeddings.sqlite"
    _fill(path)
    _spoil(path, where)
    spoilt = path.read_bytes()
    cache = EmbeddingCache("m", path)
    for i in range(300):  # some lookup reads a garbage page (at connect, for the header)
        cache.get(f"{i:040x}", "v")
    err = capsys.readouterr().err
    lines = [x for x in err.splitlines() if "warning" in x]
    assert len(lines) == 1 and str(path) in lines[0] and "damaged" in lines[0], err
    aside = list(tmp_path.glob("embeddings.sqlite.damaged-*"))
    assert len(aside) == 1 and aside[0].read_bytes() == spoilt  # kept, untouched, for a look
    assert path.exists()
    assert cache.get("0" * 40, "v") is None  # the fresh cache is empty...
    cache.put("0" * 40, "v", entry())  # ...and usable
    cache.close()
    later = EmbeddingCache("m", path)  # the next run uses the cache at the normal path again
    assert later.get("0" * 40, "v") is not None
    assert later.path == path
    assert not list(tmp_path.glob("*-new.sqlite"))


def test_damage_found_on_a_write(tmp_path, capsys):
    path = tmp_path / "embeddings.sqlite"
    _fill(path)
    _spoil(path, "middle")
    cache = EmbeddingCache("m", path)
    for i in range(300):  # every write would touch the damaged b-tree
        cache.put(f"{i:040x}", "v", entry(seed=i))
    assert len(list(tmp_path.glob("embeddings.sqlite.damaged-*"))) == 1
    assert "damaged" in capsys.readouterr().err
    assert EmbeddingCache("m", path).get(f"{299:040x}", "v") is not None


def test_warning_once_and_other_processes_fresh_cache_kept(tmp_path, capsys):
    path = tmp_path / "embeddings.sqlite"
    _fill(path)
    _spoil(path, "middle")
    a, b = EmbeddingCache("m", path), EmbeddingCache("m", path)
    a._conn(), b._conn()  # both opened the damaged file (the schema page is intact)
    for i in range(300):
        a.get(f"{i:040x}", "v")
    a.put("0" * 40, "v", entry())
    for i in range(300):  # b finds the damage in its old file: it must not move a's fresh one
        b.get(f"{i:040x}", "v")
    assert len(list(tmp_path.glob("embeddings.sqlite.damaged-*"))) == 1
    assert b.get("0" * 40, "v") is not None
    assert capsys.readouterr().err.count("facerec: warning") == 1


def test_unwritable_cache_only_costs_recomputation(tmp_path, monkeypatch):
    path = tmp_path / "embeddings.sqlite"
    _fill(path, 1)
    connect = sqlite3.connect
    monkeypatch.setattr(sqlite3, "connect", lambda p, **kw: connect(f"file:{p}?mode=ro", uri=True, **kw))
    cache = EmbeddingCache("m", path)
    assert cache.get(f"{0:040x}", "v") is not None  # still read
    cache.put("f" * 40, "v", entry())  # a refused write is no error
    assert cache.get("f" * 40, "v") is None
    assert not list(tmp_path.glob("*.damaged-*"))


def test_uncreatable_cache_folder_encodes_anyway(tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("FACEREC_CACHE", str(blocker / "cache"))
    paths = photos(tmp_path / "photos", [(1, 2, 3)])
    emb = ColourEmbedder()
    for _ in range(2):
        assert encoder(emb).files(paths, progress=False)[0].error is None
    assert emb.calls == 2


WRITER = """
import sys
import numpy as np
from facerec.embedding.cache import EmbeddingCache
c = EmbeddingCache("m", sys.argv[1])
for i in range(40):
    d = f"{sys.argv[2]}{i:039x}"
    c.put(d, "v", {"embeddings": np.full((1, 4), i, np.float32)})
    assert c.get(d, "v") is not None, d
"""


def test_two_processes_share_the_cache(tmp_path):
    path = tmp_path / "embeddings.sqlite"
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(path), tag], stderr=subprocess.PIPE, text=True)
             for tag in "ab"]
    for p in procs:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
    cache = EmbeddingCache("m", path)
    assert all(cache.get(f"{t}{i:039x}", "v") is not None for t in "ab" for i in range(40))
    assert not list(tmp_path.glob("*.damaged-*"))
