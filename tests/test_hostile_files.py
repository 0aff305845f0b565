"""Classifier and gallery files that were damaged, edited or crafted: refused in one line, cheaply.

Issue 14, finding 3, and the fuzz test: 1,000 mutations of each kind of file either load and work
or fail with FacerecError, each within 5 s and 500 MB.
"""
import io
import json
import random
import time
import tracemalloc
import zipfile

import numpy as np
import pytest

from facerec import FacerecError
from facerec.identity.classifier import UNKNOWN, FaceClassifier
from facerec.identity.gallery import Gallery
from facerec.identity.loading import load_identifier as load_recognition_file

DIM = 128
MODEL = {"name": "dlib-resnet-v1", "spec": "default", "key": "test-key", "dim": DIM}


def _faces(rng, people=6, per=3):
    centres = rng.normal(size=(people, DIM))
    X = np.concatenate([c + 0.2 * rng.normal(size=(per, DIM)) for c in centres])
    return (X / np.linalg.norm(X, axis=1, keepdims=True)).astype(np.float32), np.repeat(np.arange(people), per)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    rng = np.random.default_rng(5)
    d = tmp_path_factory.mktemp("hostile")
    X, y = _faces(rng)
    names = np.array([f"person {i}" for i in range(y.max() + 1)])
    clf = FaceClassifier(embedder_info=dict(MODEL)).fit(X, names[y])
    clf.save(d / "classifier.npz")
    g = Gallery(MODEL, DIM)
    for i, name in enumerate(names):
        g.enrol(name, X[y == i], [f"{name}/{k}.jpg" for k in range(3)])
    g.save(d / "gallery.npz")
    return d


def _members(path) -> dict:
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist()}


def _zip(members: dict) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
    return buf.getvalue()


def _npy(a) -> bytes:
    buf = io.BytesIO()
    np.save(buf, a)
    return buf.getvalue()


def _meta(members) -> dict:
    return json.loads(np.load(io.BytesIO(members["meta.npy"])).tobytes().decode())


def _with_meta(members, meta) -> dict:
    return {**members, "meta.npy": _npy(np.frombuffer(json.dumps(meta).encode(), np.uint8))}


def _unsigned(path) -> dict:
    """The file's members with its checksum taken out: what an editor who knows the format makes."""
    members = _members(path)
    meta = _meta(members)
    meta.pop("digest")
    return _with_meta(members, meta)


def _refused(path, match="damaged|not a facerec"):
    with pytest.raises(FacerecError, match=match):
        load_recognition_file(path)


# --- finding 3: malformed but valid archives --------------------------------------------------------

CRAFTED = [
    ("missing embeddings", lambda m: {k: v for k, v in m.items() if k != "train_embeddings.npy"}),
    ("missing SVM", lambda m: {k: v for k, v in m.items() if k != "svc_dual_coef.npy"}),
    ("embeddings as text", lambda m: {**m, "train_embeddings.npy": _npy(np.array(["a", "b"]))}),
    ("embeddings as ints", lambda m: {**m, "train_embeddings.npy": _npy(np.ones((18, DIM), np.int64))}),
    ("NaN embeddings", lambda m: {**m, "train_embeddings.npy": _npy(np.full((18, DIM), np.nan, np.float32))}),
    ("empty embeddings", lambda m: {**m, "train_embeddings.npy": _npy(np.zeros((0, DIM), np.float32))}),
    ("1-d embeddings", lambda m: {**m, "train_embeddings.npy": _npy(np.zeros(DIM, np.float32))}),
    ("labels out of range", lambda m: {**m, "train_labels.npy": _npy(np.full(18, 99))}),
    ("negative labels", lambda m: {**m, "train_labels.npy": _npy(np.full(18, -1))}),
    ("labels of the wrong length", lambda m: {**m, "train_labels.npy": _npy(np.zeros(3, np.int64))}),
    ("SVM of the wrong shape", lambda m: {**m, "svc_dual_coef.npy": _npy(np.zeros((2, 2)))}),
    ("support index out of range", lambda m: {**m, "svc_support.npy": _npy(
        np.full(len(np.load(io.BytesIO(m["svc_support.npy"]))), 10**6, np.int32))}),
    ("meta of the wrong shape", lambda m: {**m, "meta.npy": _npy(np.zeros((3, 3), np.uint8))}),
    ("meta not JSON", lambda m: {**m, "meta.npy": _npy(np.frombuffer(b"\xff\xfe{", np.uint8))}),
    ("meta a list", lambda m: {**m, "meta.npy": _npy(np.frombuffer(b"[1, 2]", np.uint8))}),
    ("class names not text", lambda m: _with_meta(m, {**_meta(m), "class_names": [1, 2, 3, 4, 5, 6]})),
    ("too few class names", lambda m: _with_meta(m, {**_meta(m), "class_names": ["a"]})),
    ("threshold a string", lambda m: _with_meta(m, {**_meta(m), "threshold": "high"})),
    ("threshold NaN", lambda m: _with_meta(m, {**_meta(m), "threshold": float("nan")})),
    ("an object array", lambda m: {**m, "probe.npy": m["probe.npy"].replace(b"'<f8'", b"'|O' ", 1)}),
]


@pytest.mark.parametrize("label,edit", CRAFTED, ids=[c[0] for c in CRAFTED])
def test_crafted_classifier_files_are_refused_in_one_line(files, tmp_path, label, edit):
    for signed in (True, False):  # with its checksum (caught there) and without (caught by the checks)
        members = _members(files / "classifier.npz") if signed else _unsigned(files / "classifier.npz")
        bad = tmp_path / f"{signed}.npz"
        bad.write_bytes(_zip(edit(members)))
        _refused(bad)


def test_an_unsigned_but_valid_classifier_still_loads(files, tmp_path):
    # Files written before the checksum existed carry none: they load after the same checks.
    p = tmp_path / "old.npz"
    p.write_bytes(_zip(_unsigned(files / "classifier.npz")))
    clf = load_recognition_file(p)
    assert clf.class_names == [f"person {i}" for i in range(6)]


def test_swapped_arrays_are_caught_by_the_checksum(files, tmp_path):
    m = _members(files / "classifier.npz")
    m["svc_probA.npy"], m["svc_probB.npy"] = m["svc_probB.npy"], m["svc_probA.npy"]
    (tmp_path / "swapped.npz").write_bytes(_zip(m))
    _refused(tmp_path / "swapped.npz", "do not match its checksum")


def test_a_restored_svm_that_disagrees_is_retrained_out_loud(files, tmp_path, capsys):
    # Same shapes, wrong values, no checksum: the stored probe catches it and the user is told.
    m = _unsigned(files / "classifier.npz")
    m["svc_probA.npy"], m["svc_probB.npy"] = m["svc_probB.npy"], m["svc_probA.npy"]
    (tmp_path / "edited.npz").write_bytes(_zip(m))
    clf = load_recognition_file(tmp_path / "edited.npz")
    assert "retraining the SVM from its 18 stored faces" in capsys.readouterr().err
    X, y = _faces(np.random.default_rng(5))
    assert list(clf.predict(X)) == [f"person {i}" for i in y]


def test_a_small_file_declaring_gigabytes_costs_nothing(files, tmp_path):
    # 512 MiB of zeros deflate to half a megabyte; the header's claim is refused before reading.
    m = _members(files / "classifier.npz")
    p = tmp_path / "bomb.npz"
    header = _npy(np.zeros((0, DIM), np.float32))
    header = header.replace(b"(0, 128)", f"({2**20}, 128)".encode()).replace(b"   \n", b"\n", 1)
    with zipfile.ZipFile(p, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for name, data in m.items():
            if name != "train_embeddings.npy":
                z.writestr(name, data)
        with z.open("train_embeddings.npy", "w", force_zip64=True) as f:
            f.write(header)
            zeros = bytes(1 << 20)
            for _ in range(512):
                f.write(zeros)
    assert p.stat().st_size < 4 << 20
    tracemalloc.start()
    try:
        _refused(p, "declares far more data than it holds")
        assert tracemalloc.get_traced_memory()[1] < 50 << 20
    finally:
        tracemalloc.stop()


def test_a_folder_or_missing_file_is_named_as_such(tmp_path):
    _refused(tmp_path, "is a folder")
    with pytest.raises(FacerecError, match="file not found"):
        load_recognition_file(tmp_path / "missing.npz")
    with pytest.raises(FacerecError, match="is a folder"):
        Gallery.load(tmp_path)
    (tmp_path / "notes.npz").write_text("hello\n")
    _refused(tmp_path / "notes.npz", "not a facerec")


GALLERY_CRAFTED = [
    ("names with a path", lambda m: _with_meta(m, {**_meta(m), "labels": ["../x"] * 18})),
    ("names fewer than rows", lambda m: _with_meta(m, {**_meta(m), "labels": _meta(m)["labels"][:2]})),
    ("dim a string", lambda m: _with_meta(m, {**_meta(m), "embedder": {**MODEL, "dim": "128"}})),
    ("false accept 5", lambda m: _with_meta(m, {**_meta(m), "false_accept": 5})),
    ("embeddings of another width", lambda m: {**m, "embeddings.npy": _npy(np.zeros((18, 64), np.float32))}),
    ("infinite embeddings", lambda m: {**m, "embeddings.npy": _npy(np.full((18, DIM), np.inf, np.float32))}),
]


@pytest.mark.parametrize("label,edit", GALLERY_CRAFTED, ids=[c[0] for c in GALLERY_CRAFTED])
def test_crafted_gallery_files_are_refused_in_one_line(files, tmp_path, label, edit):
    for signed in (True, False):
        members = _members(files / "gallery.npz") if signed else _unsigned(files / "gallery.npz")
        bad = tmp_path / f"{signed}.npz"
        bad.write_bytes(_zip(edit(members)))
        _refused(bad)
        with pytest.raises(FacerecError):
            Gallery.load(bad)


# --- the fuzz test ----------------------------------------------------------------------------------

def _mutations(original: bytes, members: dict, rng: random.Random):
    """Random damage of the kinds a disk, a transfer or an editor does, with a label for each."""
    names = sorted(members)
    kind = rng.choice(["bits", "truncate", "swap", "header", "meta", "bytes"])
    if kind == "bits":
        b = bytearray(original)
        for _ in range(rng.randint(1, 16)):
            i = rng.randrange(len(b))
            b[i] ^= 1 << rng.randrange(8)
        return kind, bytes(b)
    if kind == "truncate":
        return kind, original[:rng.randrange(len(original))]
    signed = rng.random() < 0.5
    m = dict(members)
    if not signed:
        meta = _meta(m)
        meta.pop("digest", None)
        m = _with_meta(m, meta)
    if kind == "swap":
        a, b = rng.sample(names, 2)
        m[a], m[b] = m[b], m[a]
    elif kind == "header":  # the .npy header's shape, type or order
        name = rng.choice(names)
        data = m[name]
        end = data.index(b"\n") + 1
        header = eval(data[10:end])  # our own test file's header, a dict literal
        edit = rng.choice(["shape", "descr", "fortran"])
        if edit == "shape":
            header["shape"] = tuple(rng.choice([0, 1, 3, 18, 128, 2**31, 2**62, -1])
                                    for _ in range(rng.randint(0, 3)))
        elif edit == "descr":
            header["descr"] = rng.choice(["<f4", "<f8", "<i4", "<i8", "|u1", "|b1", ">f4", "<U4", "|O", "<c16"])
        else:
            header["fortran_order"] = not header["fortran_order"]
        text = repr(header).encode()
        text += b" " * ((64 - (10 + len(text) + 1) % 64) % 64) + b"\n"
        m[name] = data[:8] + len(text).to_bytes(2, "little") + text + data[end:]
    elif kind == "meta":  # a field of the description set to something else
        meta = _meta(m)
        key = rng.choice(sorted(meta))
        meta[key] = rng.choice([None, -1, 0, 0.5, 1e308, "x", "", [], ["a", "a"], {}, {"dim": 5},
                                [1, 2], list(range(40)), True])
        m = _with_meta(m, meta)
    else:  # random bytes written into one array's data
        name = rng.choice(names)
        data = bytearray(m[name])
        start = rng.randrange(len(data))
        data[start:start + 8] = bytes(rng.randrange(256) for _ in range(8))
        m[name] = bytes(data)
    return f"{kind}{'' if signed else ' unsigned'}", _zip(m)


def _use(obj):
    """Loaded: it must work, naming random faces with its own names or Unknown."""
    X = np.random.default_rng(0).normal(size=(4, DIM)).astype(np.float32)
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    names, _, _ = obj.identify(X)
    assert len(names) == 4 and set(names) <= set(obj.class_names) | {UNKNOWN}


@pytest.mark.slow
@pytest.mark.parametrize("which", ["classifier", "gallery"])
def test_fuzz_a_thousand_mutations(files, tmp_path, which, capsys):
    original = (files / f"{which}.npz").read_bytes()
    members = _members(files / f"{which}.npz")
    rng = random.Random(14)
    import resource

    worst_s, worst_mb, outcomes = 0.0, 0.0, {"loaded": 0, "refused": 0}
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # the process's high-water mark
    target = tmp_path / "mutant.npz"
    for i in range(1000):
        kind, data = _mutations(original, members, rng)
        target.write_bytes(data)
        tracemalloc.start()
        t = time.perf_counter()
        try:
            try:
                obj = load_recognition_file(target)
            except FacerecError as exc:
                assert "\n" not in str(exc), f"mutation {i} ({kind}): a multi-line message"
                outcomes["refused"] += 1
            else:
                try:
                    _use(obj)
                    outcomes["loaded"] += 1
                except FacerecError:
                    outcomes["refused"] += 1
            took = time.perf_counter() - t
            peak = tracemalloc.get_traced_memory()[1] / 2**20
        except Exception as exc:
            raise AssertionError(f"mutation {i} ({kind}) raised {type(exc).__name__}: {exc}") from exc
        finally:
            tracemalloc.stop()
        worst_s, worst_mb = max(worst_s, took), max(worst_mb, peak)
        assert took < 5 and peak < 500, f"mutation {i} ({kind}): {took:.2f} s, {peak:.0f} MB"
    # Whatever tracemalloc misses (a library's own allocations) shows in the process's peak RSS.
    rss_growth = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 - rss_before
    assert rss_growth < 500
    capsys.readouterr()
    with capsys.disabled():
        print(f"\n{which} fuzz: {outcomes['loaded']} loaded and worked, {outcomes['refused']} refused; "
              f"worst {worst_s * 1000:.0f} ms, {worst_mb:.1f} MB traced; peak RSS grew {rss_growth:.0f} MB")
    assert outcomes["refused"] > 500 and outcomes["loaded"] > 0
