"""Embedders for models users bring: FaceNet graphs and checkpoints, SavedModel, Keras, TFLite."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import FacerecError
from .base import Alignment, Embedder

FACENET_TENSORS = ("input:0", "phase_train:0", "embeddings:0")


def default_standardization(path: Path) -> str:
    """FaceNet's 20180402-114759 was trained with fixed standardisation, the others prewhitened."""
    return "fixed" if "20180402" in str(path) else "prewhiten"


def facenet_alignment(size: int) -> Alignment:
    """FaceNet's crop: detector box plus a 32 px margin at 160 px, scaled to the model's size."""
    return Alignment("crop", size, margin=int(round(32 * size / 160)))


class _FileEmbedder(Embedder):
    """Shared set-up: name, size checks and standardisation for a model loaded from a path."""

    def _setup(self, path: Path, shape, dim, standardization, image_size):
        self.path = Path(path)
        self.name = self.path.name
        h, w = (shape[1], shape[2]) if shape is not None and len(shape) == 4 else (None, None)
        if image_size is not None:
            if (h is not None and h != image_size) or (w is not None and w != image_size):
                raise FacerecError(f"{path}: the model takes {h}x{w} faces, not {image_size}x{image_size} "
                                   f"(drop --image_size or set it to {h})")
            h = w = image_size
        if h is None or w is None:
            h = w = 160  # FaceNet's graphs leave the size open; 160 is what they were trained on
        self.input_size = (int(h), int(w))
        if dim is not None:
            self.dim = int(dim)
        self.standardization = standardization or default_standardization(self.path)
        self.alignment = facenet_alignment(self.input_size[0])

    def _weights_identity(self) -> list[str]:
        p = self.path
        files = [p] if p.is_file() else sorted(q for q in p.rglob("*") if q.is_file()) if p.exists() else []
        return [f"{q.name}:{q.stat().st_size}:{q.stat().st_mtime_ns}" for q in files]

    def _set_dim_by_probe(self):
        # Graph shapes are often partly unknown: one blank face tells the true output size and
        # proves the model runs at this input size before any real work starts.
        h, w = self.input_size
        try:
            out = self._forward(np.zeros((1, h, w, 3), np.float32))
        except Exception as exc:
            raise FacerecError(f"{self.path}: the model does not run on {h}x{w} faces "
                               f"({str(exc).splitlines()[0][:200]})") from exc
        self.dim = int(out.shape[-1])


class GraphEmbedder(_FileEmbedder):
    """A FaceNet frozen GraphDef (.pb) with input:0, phase_train:0 and embeddings:0."""

    def __init__(self, path, graph_def=None, standardization=None, image_size=None):
        import tensorflow as tf

        path = Path(path)
        if graph_def is None:
            graph_def = tf.compat.v1.GraphDef()
            try:
                graph_def.ParseFromString(path.read_bytes())
            except Exception as exc:  # protobuf raises its own DecodeError
                raise FacerecError(f"{path}: not a TensorFlow frozen graph (.pb could not be parsed)") from exc
        names = {n.name for n in graph_def.node}
        missing = [t for t in ("input:0", "embeddings:0") if t.split(":")[0] not in names]
        if missing:
            raise FacerecError(f"{path}: no tensor {', '.join(missing)}; a FaceNet model needs "
                               f"{', '.join(FACENET_TENSORS)}")
        has_phase = "phase_train" in names

        def _import():
            tf.compat.v1.import_graph_def(graph_def, name="")

        try:
            wrapped = tf.compat.v1.wrap_function(_import, [])
        except Exception as exc:
            raise FacerecError(f"{path}: TensorFlow could not import this graph ({str(exc).splitlines()[0]})") from exc
        g = wrapped.graph
        inp = g.get_tensor_by_name("input:0")
        out = g.get_tensor_by_name("embeddings:0")
        feeds = [inp] + ([g.get_tensor_by_name("phase_train:0")] if has_phase else [])
        self._fn = wrapped.prune(feeds, out)
        self._has_phase = has_phase
        shape = inp.shape.as_list() if inp.shape.rank is not None else None
        dim = out.shape.as_list()[-1] if out.shape.rank else None
        self._setup(path, shape, dim, standardization, image_size)
        self._set_dim_by_probe()

    def _forward(self, batch):
        import tensorflow as tf

        args = [tf.constant(batch)] + ([tf.constant(False)] if self._has_phase else [])
        return self._fn(*args).numpy()


def _checkpoint_files(folder: Path) -> tuple[Path, str]:
    metas = sorted(folder.glob("*.meta"))
    if len(metas) != 1:
        raise FacerecError(f"{folder}: expected exactly one .meta file in a FaceNet model folder, found {len(metas)}")
    import tensorflow as tf

    prefix = tf.train.latest_checkpoint(str(folder))
    if prefix is None:
        # FaceNet's folders name the checkpoint after the meta file: model-X.meta + model-X.ckpt-N.*
        index = sorted(folder.glob("*.index"))
        if not index:
            raise FacerecError(f"{folder}: has {metas[0].name} but no checkpoint (.index/.data) files")
        prefix = str(index[-1])[: -len(".index")]
    return metas[0], prefix


def freeze_checkpoint(folder: Path):
    """GraphDef with variables folded to constants, from a FaceNet .meta + checkpoint folder."""
    import tensorflow as tf

    meta, prefix = _checkpoint_files(folder)
    try:
        with tf.Graph().as_default() as g, tf.compat.v1.Session(graph=g) as sess:
            saver = tf.compat.v1.train.import_meta_graph(str(meta), clear_devices=True)
            saver.restore(sess, prefix)
            if "embeddings" not in {n.name for n in g.as_graph_def().node}:
                raise FacerecError(f"{meta}: no tensor embeddings:0; a FaceNet model needs "
                                   f"{', '.join(FACENET_TENSORS)}")
            return tf.compat.v1.graph_util.convert_variables_to_constants(
                sess, g.as_graph_def(), ["embeddings"])
    except FacerecError:
        raise
    except Exception as exc:
        raise FacerecError(f"{folder}: could not restore the checkpoint ({str(exc).splitlines()[0]})") from exc


class SavedModelEmbedder(_FileEmbedder):
    """A TensorFlow SavedModel directory whose serving signature maps images to embeddings."""

    def __init__(self, path, standardization=None, image_size=None):
        import tensorflow as tf

        path = Path(path)
        try:
            self._obj = tf.saved_model.load(str(path))
        except Exception as exc:
            raise FacerecError(f"{path}: not a loadable SavedModel ({str(exc).splitlines()[0]})") from exc
        sigs = getattr(self._obj, "signatures", {})
        if "serving_default" not in sigs:
            raise FacerecError(f"{path}: SavedModel has no serving_default signature")
        self._sig = sigs["serving_default"]
        _, kwargs = self._sig.structured_input_signature
        images = [k for k, s in kwargs.items() if s.shape.rank == 4]
        if len(images) != 1:
            raise FacerecError(f"{path}: expected one image input (N, H, W, 3) in serving_default, "
                               f"found {list(kwargs)}")
        self._in = images[0]
        self._others = {k: s for k, s in kwargs.items() if k != self._in}
        outs = self._sig.structured_outputs
        self._out = "embeddings" if "embeddings" in outs else (list(outs)[0] if len(outs) == 1 else None)
        if self._out is None:
            raise FacerecError(f"{path}: serving_default has outputs {list(outs)}, none named 'embeddings'")
        shape = kwargs[self._in].shape.as_list()
        self._setup(path, shape, outs[self._out].shape.as_list()[-1], standardization, image_size)
        self._set_dim_by_probe()

    def _forward(self, batch):
        import tensorflow as tf

        feeds = {self._in: tf.constant(batch)}
        for k, spec in self._others.items():  # e.g. a phase_train flag
            feeds[k] = tf.zeros(spec.shape, spec.dtype)
        return self._sig(**feeds)[self._out].numpy()


class KerasEmbedder(_FileEmbedder):
    """A Keras model file (.h5 or .keras), such as the widely shared facenet_keras.h5."""

    def __init__(self, path, standardization=None, image_size=None):
        import keras
        import tensorflow as tf

        from .keras_compat import legacy_custom_objects

        path = Path(path)
        try:
            # safe_mode stays on: a model file must never run code; the Lambda layers of
            # Keras 2 FaceNet files are recognised and rebuilt by keras_compat instead.
            self.model = keras.models.load_model(str(path), compile=False,
                                                 custom_objects=legacy_custom_objects())
        except Exception as exc:
            raise FacerecError(f"{path}: not a loadable Keras model ({str(exc).splitlines()[0][:200]})") from exc
        shape = list(self.model.input_shape)
        self._setup(path, shape, self.model.output_shape[-1], standardization, image_size)
        h, w = self.input_size
        self._fn = tf.function(self.model, input_signature=[tf.TensorSpec([None, h, w, 3], tf.float32)])

    def _forward(self, batch):
        return self._fn(batch).numpy()


class TFLiteEmbedder(_FileEmbedder):
    """A TensorFlow Lite flatbuffer (.tflite) taking images and returning embeddings."""

    def __init__(self, path, standardization=None, image_size=None):
        from ..litert import interpreter_class  # LiteRT: no TensorFlow needed

        path = Path(path)
        try:
            self._interp = interpreter_class()(model_path=str(path), num_threads=None)
        except Exception as exc:
            raise FacerecError(f"{path}: not a TensorFlow Lite model ({str(exc).splitlines()[0]})") from exc
        ins = self._interp.get_input_details()
        images = [d for d in ins if len(d["shape"]) == 4]
        if len(images) != 1:
            raise FacerecError(f"{path}: expected one image input (N, H, W, 3), found {len(images)}")
        self._in = images[0]["index"]
        self._out = self._interp.get_output_details()[0]["index"]
        self._batch = None
        shape = [None if s <= 0 else int(s) for s in images[0]["shape_signature"]]
        self._setup(path, shape, int(self._interp.get_output_details()[0]["shape"][-1]), standardization, image_size)

    def _forward(self, batch):
        if self._batch != len(batch):
            self._interp.resize_tensor_input(self._in, [len(batch), *self.input_size, 3])
            self._interp.allocate_tensors()
            self._batch = len(batch)
        self._interp.set_tensor(self._in, batch.astype(np.float32))
        self._interp.invoke()
        return self._interp.get_tensor(self._out).copy()
