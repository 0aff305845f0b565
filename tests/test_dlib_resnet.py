"""The default embedder: dlib's ResNet read without dlib and run in TensorFlow."""
import json

import numpy as np
import pytest

from conftest import shared
from facerec import FacerecError
from facerec.embedding import dlib_resnet
from facerec.embedding.dlib_format import DlibFormatError, Reader, read_network


# --- dlib's primitive encodings -------------------------------------------------------------

def test_reader_primitives():
    # ints: control byte (sign bit 0x80, byte count) + little-endian magnitude
    r = Reader(bytes([0x01, 0x02, 0x82, 0x2C, 0x01, 0x00]))
    assert r.int() == 2 and r.int() == -300
    with pytest.raises(DlibFormatError, match="control byte"):
        r.int()  # a zero-length integer is never written by dlib
    # floats: mantissa then exponent; 0.6 as dlib writes it in the face model's loss layer
    r = Reader(bytes([0x03, 0x9A, 0x99, 0x99, 0x81, 0x18]))
    assert r.float() == pytest.approx(0.6, rel=1e-7)
    r = Reader(b"\x01\x05hello1")
    assert r.string() == "hello" and r.bool() is True


def test_truncated_file_is_a_clear_error():
    data = dlib_resnet.weights_path().read_bytes()
    with pytest.raises(DlibFormatError, match="ends early"):
        read_network(data[: len(data) // 2], dlib_resnet.layer_stack())


def test_wrong_architecture_is_refused():
    data = dlib_resnet.weights_path().read_bytes()
    stack = dlib_resnet.layer_stack()
    stack[2] = ("max_pool",)  # the file has avg_pool_everything there
    with pytest.raises(DlibFormatError):
        read_network(data, stack)


# --- an independent NumPy forward pass over the parsed dlib layers --------------------------

def _conv(x, filters, bias, stride, pad):
    # x: (C, H, W); filters: (F, C, kh, kw); dlib convolutions are cross-correlations.
    c, h, w = x.shape
    f, _, kh, kw = filters.shape
    x = np.pad(x, ((0, 0), (pad[0], pad[0]), (pad[1], pad[1])))
    oh = (x.shape[1] - kh) // stride[0] + 1
    ow = (x.shape[2] - kw) // stride[1] + 1
    cols = np.lib.stride_tricks.sliding_window_view(x, (kh, kw), axis=(1, 2))
    cols = cols[:, ::stride[0], ::stride[1]][:, :oh, :ow]  # (C, oh, ow, kh, kw)
    out = np.einsum("cyxij,fcij->fyx", cols, filters, optimize=True)
    return out + bias[:, None, None]


def _pool(x, window, stride, fn):
    c, h, w = x.shape
    if window == (0, 0):
        return fn(x, axis=(1, 2), keepdims=True)
    v = np.lib.stride_tricks.sliding_window_view(x, window, axis=(1, 2))[:, ::stride[0], ::stride[1]]
    oh, ow = (h - window[0]) // stride[0] + 1, (w - window[1]) // stride[1] + 1
    return fn(v[:, :oh, :ow], axis=(3, 4))


def numpy_forward(layers, x):
    tags = {}
    for layer in layers:
        p = layer.params
        if layer.kind == "con":
            x = _conv(x, p["filters"], p["biases"], p["stride"], p["padding"])
        elif layer.kind == "affine":
            x = x * p["gamma"][:, None, None] + p["beta"][:, None, None]
        elif layer.kind == "relu":
            x = np.maximum(x, 0)
        elif layer.kind == "max_pool":
            x = _pool(x, p["window"], p["stride"], np.max)
        elif layer.kind == "avg_pool":
            x = _pool(x, p["window"], p["stride"], np.mean)
        elif layer.kind == "tag":
            tags[layer.tag] = x
        elif layer.kind == "skip":
            x = tags[layer.tag]
        elif layer.kind == "add_prev":
            y = tags[layer.tag]
            shape = [max(a, b) for a, b in zip(x.shape, y.shape)]
            out = np.zeros(shape, np.float64)
            out[: x.shape[0], : x.shape[1], : x.shape[2]] += x
            out[: y.shape[0], : y.shape[1], : y.shape[2]] += y
            x = out
        elif layer.kind == "fc":
            x = x.reshape(-1) @ p["weights"]
    return x


def test_keras_model_matches_numpy_forward_of_the_dlib_layers(default_embedder, rng):
    _, inp, layers = read_network(dlib_resnet.weights_path().read_bytes(), dlib_resnet.layer_stack())
    faces = rng.integers(0, 256, (2, 150, 150, 3), dtype=np.uint8)
    ours = default_embedder.descriptors(faces)
    for face, got in zip(faces, ours):
        x = (face.astype(np.float64) - np.array(inp["mean_rgb"])) / 256.0
        want = numpy_forward(layers, x.transpose(2, 0, 1))
        np.testing.assert_allclose(got, want, atol=1e-4)


# --- against dlib itself ---------------------------------------------------------------------

def test_descriptors_match_dlib_on_every_reference_chip(default_embedder):
    from PIL import Image

    root = shared("dlib-reference")
    refs = json.loads((root / "reference.json").read_text())
    chips = np.stack([np.asarray(Image.open(root / r["chip"]).convert("RGB")) for r in refs])
    want = np.array([r["descriptor"] for r in refs], np.float32)
    got = default_embedder.descriptors(chips)
    diff = np.abs(got - want).max(axis=1)
    print(f"\ndlib-resnet-v1 vs dlib on {len(refs)} chips: largest |difference| = {diff.max():.3g} "
          f"({refs[int(diff.argmax())]['chip']})")
    assert diff.max() < 1e-4
    # embed(flip=False) is the same vector, L2-normalised
    e = default_embedder.embed(chips, flip=False)
    np.testing.assert_allclose(np.linalg.norm(e, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(e, want / np.linalg.norm(want, axis=1, keepdims=True), atol=1e-4)


def test_same_person_closer_than_different_people(default_embedder):
    from PIL import Image

    root = shared("dlib-reference")
    refs = json.loads((root / "reference.json").read_text())
    d = default_embedder.descriptors(
        np.stack([np.asarray(Image.open(root / r["chip"]).convert("RGB")) for r in refs]))
    ids = np.array([r["identity"] for r in refs])
    dist = np.linalg.norm(d[:, None] - d[None], axis=2)
    same = dist[(ids[:, None] == ids[None]) & ~np.eye(len(ids), dtype=bool)]
    diff = dist[ids[:, None] != ids[None]]
    # dlib's own rule: the same person is under 0.6 apart.
    print(f"\nsame person < 0.6: {(same < 0.6).mean():.3f}, different people >= 0.6: {(diff >= 0.6).mean():.3f}")
    assert (same < 0.6).mean() > 0.95 and (diff >= 0.6).mean() > 0.95


def test_batching_does_not_change_results(default_embedder, rng):
    faces = rng.integers(0, 256, (5, 150, 150, 3), dtype=np.uint8)
    np.testing.assert_allclose(default_embedder.embed(faces, batch_size=2),
                               default_embedder.embed(faces, batch_size=5), atol=1e-5)
    assert default_embedder.embed(faces[:0]).shape == (0, 128)


def test_wrong_face_size_is_refused(default_embedder):
    with pytest.raises(FacerecError, match="150x150 faces, got 160x160"):
        default_embedder.embed(np.zeros((1, 160, 160, 3), np.uint8))


# --- the cache -------------------------------------------------------------------------------

@pytest.mark.slow
def test_cache_is_built_once_then_reused_and_rebuilt_when_broken(tmp_path, monkeypatch):
    monkeypatch.setenv("FACEREC_CACHE", str(tmp_path))
    source = dlib_resnet.weights_path()
    *_, how = dlib_resnet.load_graph(source)
    assert how == "built"
    cached = list(tmp_path.glob("dlib-resnet-v1-*.tflite"))
    assert len(cached) == 1 and not list(tmp_path.glob(".*.tmp"))
    meta, graph, how = dlib_resnet.load_graph(source)
    assert how == "cache" and meta["input_size"] == [150, 150] and meta["dim"] == 128
    # An interrupted write leaves a truncated file: it must be rebuilt, not trusted.
    data = cached[0].read_bytes()
    cached[0].write_bytes(data[: len(data) // 3])
    *_, how = dlib_resnet.load_graph(source)
    assert how == "built"
    *_, how = dlib_resnet.load_graph(source)
    assert how == "cache"


def test_litert_graph_computes_what_the_tensorflow_model_computes(default_embedder, tf):
    """The cached TFLite graph the default path runs against the tf.keras model it was converted
    from, on dlib's own chips: within 1e-4 (the issue's bound)."""
    from PIL import Image

    root = shared("dlib-reference")
    refs = json.loads((root / "reference.json").read_text())
    chips = np.stack([np.asarray(Image.open(root / r["chip"]).convert("RGB")) for r in refs])
    meta, ops, arrays = dlib_resnet.convert_weights(dlib_resnet.weights_path())
    model = dlib_resnet.build_keras_model(ops, arrays, (150, 150))
    x = (chips.astype(np.float32) - np.asarray(meta["mean_rgb"], np.float32)) / 256.0
    want = model(x).numpy()
    got = default_embedder.descriptors(chips)
    diff = np.abs(got - want).max()
    print(f"\nLiteRT vs TensorFlow on {len(chips)} chips: largest |difference| = {diff:.3g}")
    assert diff < 1e-4


def test_mirror_averaging_is_the_mean_of_both_unit_vectors(default_embedder, rng):
    faces = rng.integers(0, 256, (3, 150, 150, 3), dtype=np.uint8)
    plain, mirrored = default_embedder.embed(faces, flip=False), default_embedder.embed(faces[:, :, ::-1], flip=False)
    both = default_embedder.embed(faces)  # the default model averages by default
    want = (plain + mirrored) / np.linalg.norm(plain + mirrored, axis=1, keepdims=True)
    np.testing.assert_allclose(both, want, atol=1e-5)
    np.testing.assert_allclose(default_embedder.embed(faces[:, :, ::-1]), both, atol=1e-5)  # mirror-invariant
