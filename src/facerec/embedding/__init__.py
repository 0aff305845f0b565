"""Face embedding networks behind one interface: ``load_embedder(spec).embed(faces)``."""
from __future__ import annotations

from pathlib import Path

from ..errors import FacerecError
from .base import Alignment, Embedder

__all__ = ["Alignment", "Embedder", "load_embedder", "DEFAULT_MODEL"]

DEFAULT_MODEL = "dlib-resnet-v1"
_DEFAULT_NAMES = ("default", DEFAULT_MODEL)


def describe_formats() -> str:
    return ("'default', a FaceNet .pb, a FaceNet folder (.pb or .meta + checkpoint), a SavedModel "
            "folder, a Keras .h5/.keras file, a .tflite file, or dlib's ResNet .dat file")


def load_embedder(spec: str | Path = "default", standardization: str | None = None,
                  image_size: int | None = None, threads: int | None = None) -> Embedder:
    """An Embedder for spec: 'default' (dlib-resnet-v1, no download) or a path to a model.

    standardization overrides the model's pixel standardisation ('prewhiten', 'fixed', ...);
    image_size asserts the face size the caller will feed (a mismatch with the model is an error);
    threads caps the default model's CPU threads (one per worker when several processes share a machine).
    """
    from . import standardization as _std

    if standardization is not None and standardization not in _std.NAMES:
        raise FacerecError(f"unknown standardization '{standardization}': use one of {', '.join(_std.NAMES)}")
    emb = _load(spec, standardization, image_size, threads)
    emb.spec = str(spec)
    return emb


def _load(spec, standardization, image_size, threads=None) -> Embedder:
    if str(spec) in _DEFAULT_NAMES:  # runs through LiteRT: no TensorFlow once its cache exists
        from .dlib_resnet import DlibResNetEmbedder

        if standardization not in (None, "dlib"):
            raise FacerecError(f"standardization '{standardization}' is for FaceNet's models: the default model "
                               f"takes its pixels as dlib does, and nothing else")

        return _check_size(DlibResNetEmbedder(threads=threads), image_size, spec)

    path = Path(spec).expanduser()
    if not path.exists():
        raise FacerecError(f"{path}: no such model file or folder (expected {describe_formats()})")
    kw = dict(standardization=standardization, image_size=image_size)
    from ..tensorflow_loader import import_tensorflow
    from . import facenet

    if path.is_file() and path.suffix.lower() == ".tflite":
        return facenet.TFLiteEmbedder(path, **kw)  # runs in LiteRT
    import_tensorflow()  # the other formats run in TensorFlow; import it quietly, once
    if path.is_dir():
        if (path / "saved_model.pb").is_file():
            return facenet.SavedModelEmbedder(path, **kw)
        pbs = sorted(path.glob("*.pb"))
        if len(pbs) == 1:
            return facenet.GraphEmbedder(pbs[0], **kw)
        if list(path.glob("*.meta")):
            graph_def = facenet.freeze_checkpoint(path)
            return facenet.GraphEmbedder(path, graph_def=graph_def, **kw)
        raise FacerecError(f"{path}: folder holds no model (expected saved_model.pb, one FaceNet .pb, "
                           f"or a .meta file with its checkpoint)")
    suffix = path.suffix.lower()
    if suffix == ".pb":
        return facenet.GraphEmbedder(path, **kw)
    if suffix in (".h5", ".hdf5", ".keras"):
        return facenet.KerasEmbedder(path, **kw)
    if suffix == ".dat":
        from .dlib_resnet import DlibResNetEmbedder

        return _check_size(DlibResNetEmbedder(source=path, threads=threads), image_size, spec)
    raise FacerecError(f"{path}: not a model file (expected {describe_formats()})")


def _check_size(emb: Embedder, image_size: int | None, spec) -> Embedder:
    if image_size is not None and tuple(emb.input_size) != (image_size, image_size):
        h, w = emb.input_size
        raise FacerecError(f"{spec}: the model takes {h}x{w} faces, not {image_size}x{image_size}")
    return emb
