"""The short public API: photos in, faces, embeddings, distances and same/different answers out.

Models are loaded on first use and kept for later calls (loaded.py), never at import.
"""
from __future__ import annotations

import numpy as np

from .detection.mtcnn import Face
from .errors import FacerecError
from .loaded import as_image, detections, embedder_for, is_loaded, load_image, pipeline_for, same_person_distance

__all__ = ["as_image", "load_image", "pipeline_for", "same_person_distance", "detect_faces", "face_encodings",
           "face_distance", "compare_faces", "verify"]

def detect_faces(image, min_face_size: int = 20) -> list:
    """The faces in an image (array or path): a list of Face with .box (x1, y1, x2, y2), .score
    and .landmarks (5, 2: eyes, nose, mouth corners), largest scores first.

    >>> [f.box for f in detect_faces(load_image("group.jpg"))]       # doctest: +SKIP
    """
    det = detections(as_image(image), min_face_size)  # remembered for later calls: the Faces get copies
    return [Face(b.copy(), float(s), m.copy()) for b, s, m in zip(det.boxes, det.scores, det.landmarks)]


def face_encodings(face_image, known_face_locations=None, num_jitters: int = 1, model="default",
                   flip: bool | None = None) -> list:
    """A list of unit-length embeddings, one float32 (D,) array per face (face_recognition's type;
    np.array() of it is (N, D)), in the order of the faces given or found.  known_face_locations:
    Face objects from detect_faces, or face_recognition's (top, right, bottom, left) boxes (from
    face_locations, or any detector); None finds the faces here.
    num_jitters > 1 also embeds that many slightly moved, turned and scaled crops of each face and
    averages them (as face_recognition does; that many times slower).  model: the embedding network
    ('default' or a FaceNet model path); face_recognition's 'small' and 'large' mean the default.
    flip averages each face with its mirror image (default: the model's choice; on by default).

    >>> [e.shape for e in face_encodings(load_image("alice.jpg"))]     # doctest: +SKIP
    [(128,)]
    """
    from .locations import boxes_and_landmarks, jittered

    if int(num_jitters) < 1:
        raise FacerecError(f"num_jitters must be 1 or more, not {num_jitters}")
    image = as_image(face_image)
    pipeline = pipeline_for("default" if model in ("small", "large") else model)
    boxes, landmarks = boxes_and_landmarks(image, known_face_locations)
    if int(num_jitters) == 1 or not len(boxes):
        return list(pipeline.embed_faces(image, boxes, landmarks, flip=flip))
    runs = [pipeline.embed_faces(image, boxes, marks, flip=flip) for marks in jittered(landmarks, int(num_jitters))]
    mean = np.mean(runs, axis=0)
    return list((mean / np.linalg.norm(mean, axis=1, keepdims=True)).astype(np.float32))


def face_distance(face_encodings, face_to_compare) -> np.ndarray:
    """Euclidean distance from each of the known embeddings (N, D) to a candidate (D,): (N,).
    On this model's scale: unit-length embeddings, one person usually under 0.42, where
    face_recognition's (dlib's unnormalised descriptors) are under 0.6 (see compare_faces); a
    distance between the two, which that habit would call one person, is warned of once.

    >>> face_distance(known_encodings, face_encodings(image)[0])     # doctest: +SKIP
    array([0.31, 0.78])
    """
    distances = _distances(face_encodings, face_to_compare, "face_distance")
    if is_loaded("default"):  # the embeddings are likely the default model's
        from .tolerance import warn_if_habit

        warn_if_habit(distances, embedder_for("default"))
    return distances


def _distances(face_encodings, face_to_compare, caller: str = "compare_faces") -> np.ndarray:
    candidate = np.asarray(face_to_compare, np.float32)
    if candidate.ndim == 2 and candidate.shape[0] == 1:  # face_encodings(img) itself, of a one-face photo
        candidate = candidate[0]
    known = np.asarray(face_encodings, np.float32)
    if known.size == 0:  # an empty gallery: no distances (as face_recognition answers)
        return np.zeros(0, np.float32)
    known = known[None] if known.ndim == 1 else known
    if candidate.ndim != 1 or known.ndim != 2 or known.shape[1] != candidate.shape[0]:
        raise FacerecError(f"{caller} takes known embeddings (N, D) and one embedding (D,); got "
                           f"{known.shape} and {candidate.shape}")
    return np.linalg.norm(known - candidate[None], axis=1)


def compare_faces(known_face_encodings, face_encoding_to_check, tolerance: float | None = None, model="default",
                  max_distance: float | None = None) -> list:
    """For each known embedding, whether the candidate is the same person.

    tolerance is face_recognition's: a distance on *its* scale (0.6 typical there).  Distances here
    are on another scale (0.6 here would take most strangers for the same person), so it is turned
    into the distance that lets different people through no more often than face_recognition's
    tolerance does with its own model on the same photos (facerec.tolerance; measured on LFW).
    max_distance is a distance on this model's own scale (face_distance's).  With neither, the
    model's same-person distance.

    >>> compare_faces(known_encodings, unknown_encoding)                  # doctest: +SKIP
    [True, False]
    >>> compare_faces(known_encodings, unknown_encoding, tolerance=0.6)   # doctest: +SKIP
    [True, False]
    """
    from .tolerance import distance_for_tolerance

    if max_distance is not None and tolerance is not None:
        raise FacerecError("give compare_faces a tolerance (face_recognition's scale) or a max_distance (facerec's), "
                           "not both")
    if max_distance is not None:
        limit = float(max_distance)
    elif tolerance is not None:
        limit = distance_for_tolerance(float(tolerance), embedder_for(model))
    else:
        limit = same_person_distance(model)
    return [bool(d <= limit) for d in _distances(known_face_encodings, face_encoding_to_check)]


def verify(a, b, model="default", threshold: float | None = None, max_distance: float | None = None):
    """Are two photos (paths or RGB arrays) of the same person? Each photo's main face is used.
    The answer's probability is the chance it is right; threshold P answers "same" only when the
    chance of one person is at least P; max_distance, only at or under that distance; with
    neither, at or under the model's same-person distance.  An image passed again (the same
    pixels) is not detected and embedded again.

    >>> r = verify("alice1.jpg", "alice2.jpg")                   # doctest: +SKIP
    >>> r.same, round(r.distance, 2), round(r.probability, 2)    # doctest: +SKIP
    (True, 0.29, 1.0)
    """
    from .verification import verify_with

    return verify_with(pipeline_for(model), a, b, threshold, max_distance)
