"""facerec: FaceNet-style face recognition. The public API:

    load_image, detect_faces, face_encodings, face_distance, compare_faces, verify, Verification
    face_recognition's too (``import facerec as face_recognition``): load_image_file,
    face_locations, batch_face_locations, face_landmarks, face_encodings, face_distance, compare_faces
    Recognizer (a gallery or classifier -> names for images, files and video frames), train_classifier
    load_embedder (an embedding network: 'default' or a FaceNet model path)

Modules are imported on first use, so ``import facerec`` stays light.
"""
from .errors import FacerecError

__version__ = "0.1.0"

_LAZY = {
    "load_image": "api", "detect_faces": "api", "face_encodings": "api", "face_distance": "api",
    "compare_faces": "api", "verify": "api", "same_person_distance": "api", "Verification": "verification",
    "load_image_file": "locations", "face_locations": "locations", "batch_face_locations": "locations",
    "face_landmarks": "locations",
    "Recognizer": "recognizer", "RecognizedFace": "recognizer",
    "train_classifier": "identity.training", "FaceClassifier": "identity.classifier",
    "load_embedder": "embedding", "Face": "detection",
}


def __getattr__(name):
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'facerec' has no attribute '{name}'")


def __dir__():
    """The whole API, loaded or not (help(), dir() and editors' completion see it)."""
    return sorted({*globals(), *_LAZY})


__all__ = ["FacerecError", "__version__", *_LAZY]
