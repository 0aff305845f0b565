"""dlib-resnet-v1: dlib's ResNet face descriptor (face_recognition_models), run through LiteRT.

The weights come from the installed ``face_recognition_models`` package.  The first use reads
dlib's file with a pure NumPy reader, builds the same network in tf.keras and converts it to a
TensorFlow Lite graph, cached on disk; every later process loads that graph into LiteRT and never
imports TensorFlow (which takes seconds to import and hundreds of MB).
"""
from __future__ import annotations

import json
import os
import warnings
from pathlib import Path

import numpy as np

from ..errors import FacerecError
from ..files import atomic_write_bytes, cache_dir, file_digest
from .base import Alignment, Embedder
from .dlib_format import DlibFormatError, read_network

NAME = "dlib-resnet-v1"
# Bump when the conversion below changes, so old caches are rebuilt rather than trusted.
CONVERTER_VERSION = 2


def _block() -> list:
    return [("affine",), ("con",), ("relu",), ("affine",), ("con",)]


def _ares() -> list:
    return [("relu",), ("add_prev", 1)] + _block() + [("tag", 1)]


def _ares_down() -> list:
    return [("relu",), ("add_prev", 2), ("avg_pool",), ("skip", 1), ("tag", 2)] + _block() + [("tag", 1)]


def layer_stack() -> list:
    """dlib's anet_type (dnn_face_recognition_ex.cpp), from the loss down to the input."""
    stack = [("loss_metric",), ("fc",), ("avg_pool",)]
    stack += _ares_down()                                  # alevel0: 256
    stack += _ares() * 2 + _ares_down()                    # alevel1: 256
    stack += _ares() * 2 + _ares_down()                    # alevel2: 128
    stack += _ares() * 3 + _ares_down()                    # alevel3: 64
    stack += _ares() * 3                                   # alevel4: 32
    stack += [("max_pool",), ("relu",), ("affine",), ("con",), ("input_rgb_image_sized",)]
    return stack


def weights_path() -> Path:
    """The dlib ResNet weights file that face_recognition_models installs."""
    try:
        import face_recognition_models
    except ImportError as exc:
        raise FacerecError("the default model needs the face_recognition_models package: "
                           "pip install face_recognition_models") from exc
    return Path(face_recognition_models.face_recognition_model_location())


def convert(layers: list) -> tuple[list, dict]:
    """dlib layers (input to output) -> (ops, arrays): a flat op list with affines folded into convs."""
    ops, arrays = [], {}

    def keep(arr):
        key = f"a{len(arrays)}"
        arrays[key] = np.ascontiguousarray(arr, dtype=np.float32)
        return key

    i = 0
    while i < len(layers):
        layer = layers[i]
        p = layer.params
        if layer.kind == "con":
            # dlib filters are (out, in, rows, cols) cross-correlation kernels; TF wants HWIO.
            w = p["filters"].transpose(2, 3, 1, 0).copy()
            b = p["biases"].copy()
            if i + 1 < len(layers) and layers[i + 1].kind == "affine":
                # Fold the following per-channel affine (inference batch-norm) into the conv.
                g, beta = layers[i + 1].params["gamma"], layers[i + 1].params["beta"]
                w = w * g
                b = b * g + beta
                i += 1
            ops.append(dict(op="conv", w=keep(w), b=keep(b), stride=list(p["stride"]),
                            padding=list(p["padding"])))
        elif layer.kind == "affine":
            ops.append(dict(op="affine", g=keep(p["gamma"]), b=keep(p["beta"])))
        elif layer.kind == "relu":
            if not p.get("disabled"):
                ops.append(dict(op="relu"))
        elif layer.kind in ("max_pool", "avg_pool"):
            if tuple(p["padding"]) != (0, 0):
                raise DlibFormatError(f"padded {layer.kind} layers are not supported")
            ops.append(dict(op=layer.kind, window=list(p["window"]), stride=list(p["stride"])))
        elif layer.kind in ("tag", "skip", "add_prev"):
            ops.append(dict(op=layer.kind, tag=layer.tag))
        elif layer.kind == "fc":
            ops.append(dict(op="fc", w=keep(p["weights"]),
                            b=None if p["biases"] is None else keep(p["biases"])))
        else:  # pragma: no cover - read_network only yields the kinds above
            raise DlibFormatError(f"cannot convert dlib layer {layer.kind}")
        i += 1
    return ops, arrays


def build_keras_model(ops: list, arrays: dict, input_size: tuple):
    """A tf.keras functional model equivalent to the dlib network, NHWC float32 in, raw descriptor out."""
    import keras
    from keras import layers as L
    from keras import ops as K

    h, w = input_size
    inp = keras.Input((h, w, 3), name="image")
    x = inp
    tags = {}
    for n, op in enumerate(ops):
        kind = op["op"]
        if kind == "conv":
            kernel, bias = arrays[op["w"]], arrays[op["b"]]
            py, px = op["padding"]
            if py or px:
                x = L.ZeroPadding2D(((py, py), (px, px)), name=f"pad{n}")(x)
            conv = L.Conv2D(kernel.shape[3], kernel.shape[:2], strides=op["stride"], padding="valid",
                            name=f"conv{n}")
            x = conv(x)
            conv.set_weights([kernel, bias])
        elif kind == "affine":
            g, b = arrays[op["g"]], arrays[op["b"]]
            x = x * g + b
        elif kind == "relu":
            x = L.ReLU(name=f"relu{n}")(x)
        elif kind == "max_pool":
            x = L.MaxPooling2D(op["window"], op["stride"], padding="valid", name=f"maxpool{n}")(x)
        elif kind == "avg_pool":
            if op["window"] == [0, 0]:  # dlib's avg_pool_everything
                x = L.GlobalAveragePooling2D(keepdims=True, name=f"gap{n}")(x)
            else:
                x = L.AveragePooling2D(op["window"], op["stride"], padding="valid", name=f"avgpool{n}")(x)
        elif kind == "tag":
            tags[op["tag"]] = x
        elif kind == "skip":
            x = tags[op["tag"]]
        elif kind == "add_prev":
            # dlib adds tensors of different shapes by zero-padding both to the larger one: this is
            # how its downsampling shortcuts gain channels without a projection.
            y = tags[op["tag"]]
            shape = [max(a, b) for a, b in zip(x.shape[1:], y.shape[1:])]
            x = K.pad(x, [[0, 0]] + [[0, s - d] for s, d in zip(shape, x.shape[1:])])
            y = K.pad(y, [[0, 0]] + [[0, s - d] for s, d in zip(shape, y.shape[1:])])
            x = L.Add(name=f"add{n}")([x, y])
        elif kind == "fc":
            # dlib flattens in (channels, rows, cols) order.
            x = K.reshape(K.transpose(x, (0, 3, 1, 2)), (-1, int(np.prod(x.shape[1:]))))
            wts = arrays[op["w"]]
            dense = L.Dense(wts.shape[1], use_bias=op["b"] is not None, name=f"fc{n}")
            x = dense(x)
            dense.set_weights([wts] if op["b"] is None else [wts, arrays[op["b"]]])
        else:
            raise FacerecError(f"unknown op '{kind}' in the converted dlib model")
    return keras.Model(inp, x, name=NAME)


def convert_weights(source: Path) -> tuple[dict, list, dict]:
    """(meta, ops, arrays): dlib's network read from its file and turned into TensorFlow ops."""
    if not source.is_file():
        raise FacerecError(f"{source}: dlib model file not found")
    try:
        loss, inp, layers = read_network(source.read_bytes(), layer_stack())
    except DlibFormatError as exc:
        raise FacerecError(f"{source}: not dlib's ResNet face model ({exc})") from exc
    ops, arrays = convert(layers)
    meta = dict(converter=CONVERTER_VERSION, source=str(source), mean_rgb=list(inp["mean_rgb"]),
                input_size=list(inp["size"]), dim=int(arrays[ops[-1]["w"]].shape[1]),
                distance_threshold=loss.get("distance_threshold"))
    return meta, ops, arrays


def _cache_files(digest: str) -> tuple[Path, Path]:
    stem = f"{NAME}-{digest[:16]}-c{CONVERTER_VERSION}"
    return cache_dir() / f"{stem}.tflite", cache_dir() / f"{stem}.json"


def load_graph(source: Path, rebuild: bool = False, digest: str | None = None) -> tuple[dict, bytes, str]:
    """(meta, TFLite graph, how) for the dlib network; how is 'cache' or 'built'.

    The JSON beside the graph is written last and holds the graph's size and digest, so a graph
    cut short or damaged is rebuilt rather than trusted.
    """
    import hashlib

    graph_path, meta_path = _cache_files(digest or file_digest(source))
    if not rebuild:
        try:
            meta = json.loads(meta_path.read_text())
            graph = graph_path.read_bytes()
            if meta.get("converter") == CONVERTER_VERSION and hashlib.sha256(graph).hexdigest() == meta["graph_sha256"]:
                return meta, graph, "cache"
        except (OSError, ValueError, KeyError):
            pass  # missing or broken: rebuilt below
    from ..tensorflow_loader import import_tensorflow, quiet_output

    tf = import_tensorflow()
    meta, ops, arrays = convert_weights(source)
    model = build_keras_model(ops, arrays, tuple(meta["input_size"]))
    with warnings.catch_warnings(), quiet_output():
        warnings.simplefilter("ignore")
        graph = tf.lite.TFLiteConverter.from_keras_model(model).convert()
    meta["graph_sha256"] = hashlib.sha256(graph).hexdigest()
    try:
        atomic_write_bytes(graph_path, graph)
        atomic_write_bytes(meta_path, json.dumps(meta).encode())
    except OSError:
        pass  # a read-only cache directory only costs the rebuild next time
    return meta, graph, "built"


class DlibResNetEmbedder(Embedder):
    """dlib's 128-d ResNet face descriptor; wants dlib's 150 px chip (5-point warp, padding 0.25)."""

    name = NAME
    standardization = "dlib"
    alignment = Alignment("similarity", 150, padding=0.25)
    flip = True
    # The equal-error distance on 6,000 lfw-dev pairs with this pipeline (the central face, the
    # MTCNN-landmark chip, mirror averaging): 0.423 (bench/default_model_accuracy.py).
    same_person_distance = 0.42

    def __init__(self, source: Path | None = None, rebuild: bool = False, threads: int | None = None):
        from ..litert import LiteNet

        self.source = Path(source) if source else weights_path()
        if not self.source.is_file():
            raise FacerecError(f"{self.source}: dlib model file not found")
        self.digest = file_digest(self.source)
        meta, graph, self.loaded_from = load_graph(self.source, rebuild, self.digest)
        self.input_size = tuple(meta["input_size"])
        self.dim = meta["dim"]
        self.mean_rgb = tuple(meta["mean_rgb"])
        self.distance_threshold = meta["distance_threshold"]
        self._net = LiteNet(graph, threads or os.cpu_count() or 1, per_shape=False)

    def _weights_identity(self) -> list[str]:
        return [f"dlib:{self.digest[:16]}:c{CONVERTER_VERSION}"]

    def _forward(self, batch: np.ndarray) -> np.ndarray:
        return self._net(batch)
