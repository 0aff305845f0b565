"""MTCNN's three networks as TensorFlow Lite graphs, built once from the mtcnn package's weights.

The weights are those the ``mtcnn`` package installs (read from its package files, no download).
Each network is built in tf.keras with its layers rearranged for the CPU (see build_nets) and
converted to a TFLite flatbuffer, cached on disk so TensorFlow is needed only the first time.
"""
from __future__ import annotations

import hashlib
import importlib.util
import os
import warnings

import numpy as np

from ..errors import FacerecError
from ..files import atomic_write_bytes, cache_dir


def _weights_path(name: str) -> str:
    spec = importlib.util.find_spec("mtcnn")
    if spec is None or not spec.submodule_search_locations:
        raise FacerecError("face detection needs the mtcnn package: pip install mtcnn")
    path = os.path.join(spec.submodule_search_locations[0], "assets", "weights", f"{name}.lz4")
    if not os.path.exists(path):
        raise FacerecError(f"{path}: MTCNN weights missing from the mtcnn package; reinstall it")
    return path


def _weights(name: str) -> list:
    import joblib

    # joblib (pickle) is acceptable here only because this is the installed package's own file.
    return joblib.load(_weights_path(name))


def _pad_out(kernel, bias, alpha, to: int):
    """Zero output channels up to `to` for a conv and its PReLU: they stay 0 through the PReLU."""
    n = to - kernel.shape[-1]
    return (np.concatenate([kernel, np.zeros(kernel.shape[:-1] + (n,), kernel.dtype)], -1),
            np.concatenate([bias, np.zeros(n, bias.dtype)]),
            np.concatenate([alpha, np.zeros(alpha.shape[:-1] + (n,), alpha.dtype)], -1))


def _fold_normalisation(kernel, bias):
    """MTCNN's pixel normalisation, (x - 127.5) / 128, folded into the first convolution: exact
    for a 'valid' convolution, and R-/O-Net crops are filled with 127.5 outside the image, which
    the folded weights still map to 0."""
    return kernel / 128, bias - 127.5 / 128 * kernel.sum(axis=(0, 1, 2))


def _caffe_flatten_rows(h: int, w: int, c: int) -> np.ndarray:
    """Row order for a dense layer fed a plain (H, W, C) flatten instead of Caffe's (C, W, H) one
    (which needs a transpose in the graph): row of each (h, w, c) element in the weights' order."""
    return np.arange(h * w * c).reshape(w, h, c).transpose(1, 0, 2).reshape(-1)


def _heads(kernels, biases, classes):
    """One output layer for all heads: the regression heads as they are, and in place of the
    two-way softmax the logit difference z_face - z_not, whose sigmoid is the softmax's face
    probability (a 2-way softmax over a whole P-Net map costs more than the last convolution)."""
    k, b = classes
    return (np.concatenate(list(kernels) + [k[..., 1:2] - k[..., 0:1]], -1),
            np.concatenate(list(biases) + [b[1:2] - b[0:1]]))


def build_nets():
    """P-Net, R-Net and O-Net as tf.keras models with the mtcnn package's weights, each with one
    output: [box regression (4), (O-Net: landmarks (10)), face logit (1)].

    The weights are rearranged, never changed in effect (outputs agree with the package's layout
    to ~1e-6): normalisation folded into the first convolution, the 10/28-channel first layers
    zero-padded to 16/32 channels through their PReLU and pooling (SIMD kernels run those ~1.5x
    faster) and sliced back before the next convolution (which would otherwise multiply the
    zeros), Caffe's flatten order moved into the dense weights, the softmax replaced by a logit."""
    import keras
    from keras import layers as L

    def prelu(x, shared=True):
        return L.PReLU(shared_axes=[1, 2] if shared else None)(x)

    w = _weights("pnet")
    x = inp = keras.Input((None, None, 3))
    x = L.MaxPooling2D(2, 2, padding="same")(prelu(L.Conv2D(16, 3)(x)))[..., :10]
    x = prelu(L.Conv2D(16, 3)(x))
    x = prelu(L.Conv2D(32, 3)(x))
    pnet = keras.Model(inp, L.Conv2D(5, 1)(x))
    k1, b1, a1 = _pad_out(*_fold_normalisation(w[0], w[1]), w[2], 16)
    pnet.set_weights([k1, b1, a1, w[3], *w[4:9], *_heads([w[9]], [w[10]], w[11:13])])

    w = _weights("rnet")
    x = inp = keras.Input((24, 24, 3))
    x = L.MaxPooling2D(3, 2, padding="same")(prelu(L.Conv2D(32, 3)(x)))[..., :28]
    x = L.MaxPooling2D(3, 2, padding="valid")(prelu(L.Conv2D(48, 3)(x)))
    x = prelu(L.Conv2D(64, 2)(x))
    x = prelu(L.Dense(128)(L.Flatten()(x)), shared=False)
    rnet = keras.Model(inp, L.Dense(5)(x))
    k1, b1, a1 = _pad_out(*_fold_normalisation(w[0], w[1]), w[2], 32)
    rnet.set_weights([k1, b1, a1, w[3], *w[4:9], w[9][_caffe_flatten_rows(3, 3, 64)],
                      w[10], w[11], *_heads([w[12]], [w[13]], w[14:16])])

    w = _weights("onet")
    x = inp = keras.Input((48, 48, 3))
    x = L.MaxPooling2D(3, 2, padding="same")(prelu(L.Conv2D(32, 3)(x)))
    x = L.MaxPooling2D(3, 2, padding="valid")(prelu(L.Conv2D(64, 3)(x)))
    x = L.MaxPooling2D(2, 2, padding="same")(prelu(L.Conv2D(64, 3)(x)))
    x = prelu(L.Conv2D(128, 2)(x))
    x = prelu(L.Dense(256)(L.Flatten()(x)), shared=False)
    onet = keras.Model(inp, L.Dense(15)(x))
    onet.set_weights([*_fold_normalisation(w[0], w[1]), *w[2:12], w[12][_caffe_flatten_rows(3, 3, 128)],
                      w[13], w[14], *_heads([w[15], w[17]], [w[16], w[18]], w[19:21])])
    return pnet, rnet, onet


# Bump when the networks or their conversion change, so cached graphs are rebuilt.
_GRAPH_VERSION = 4


def tflite_graphs() -> dict:
    """{'pnet','rnet','onet'}: TFLite flatbuffers of the three networks, built once and cached."""
    h = hashlib.sha256(str(_GRAPH_VERSION).encode())
    for name in ("pnet", "rnet", "onet"):
        with open(_weights_path(name), "rb") as f:
            h.update(f.read())
    paths = {n: cache_dir() / f"mtcnn-{n}-{h.hexdigest()[:16]}.tflite" for n in ("pnet", "rnet", "onet")}
    if all(p.is_file() and p.stat().st_size > 0 for p in paths.values()):
        return {n: p.read_bytes() for n, p in paths.items()}
    from ..tensorflow_loader import import_tensorflow, quiet_output

    tf = import_tensorflow()
    out = {}
    for name, net in zip(("pnet", "rnet", "onet"), build_nets()):
        conv = tf.lite.TFLiteConverter.from_keras_model(net)
        # The converter prints ~20 lines per graph ("Saved artifact at ...") to stdout.
        with warnings.catch_warnings(), quiet_output():
            warnings.simplefilter("ignore")
            out[name] = conv.convert()
        try:
            atomic_write_bytes(paths[name], out[name])
        except OSError:
            pass  # an unwritable cache only costs the conversion next time
    return out

