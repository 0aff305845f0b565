"""face_recognition's API in facerec (issue 25): its names, signatures and return types, on
face_recognition's own sample photos, so ``import facerec as face_recognition`` runs its code."""
import inspect
import io
import warnings

import numpy as np
import pytest

from faces import sample

# face_recognition 1.3.0's public functions and their parameters (its api.py).
SIGNATURES = {
    "load_image_file": ["file", "mode"],
    "face_locations": ["img", "number_of_times_to_upsample", "model"],
    "batch_face_locations": ["images", "number_of_times_to_upsample", "batch_size"],
    "face_landmarks": ["face_image", "face_locations", "model"],
    "face_encodings": ["face_image", "known_face_locations", "num_jitters", "model"],
    "face_distance": ["face_encodings", "face_to_compare"],
    "compare_faces": ["known_face_encodings", "face_encoding_to_check", "tolerance"],
}
LARGE = {"chin": 17, "left_eyebrow": 5, "right_eyebrow": 5, "nose_bridge": 4, "nose_tip": 5, "left_eye": 6,
         "right_eye": 6, "top_lip": 12, "bottom_lip": 12}


def test_dir_lists_the_api_and_face_recognitions_signatures_hold():
    import facerec

    assert set(SIGNATURES) | {"verify", "detect_faces", "Recognizer", "train_classifier"} <= set(dir(facerec))
    for name, params in SIGNATURES.items():
        assert list(inspect.signature(getattr(facerec, name)).parameters)[:len(params)] == params, name


def test_locations_are_top_right_bottom_left_whole_pixels_inside_the_image(default_embedder):
    import facerec as fr

    image = sample("obama.jpg")
    locations = fr.face_locations(image)
    assert len(locations) == 1 and all(type(v) is int for v in locations[0])
    top, right, bottom, left = locations[0]
    assert 0 <= top < bottom <= image.shape[0] and 0 <= left < right <= image.shape[1]
    assert fr.face_locations(image, model="cnn") == locations  # facerec's detector either way
    (t, r, b, l), = fr.face_locations(image, number_of_times_to_upsample=0)  # a coarser search: the same face
    assert abs(t - top) + abs(r - right) + abs(b - bottom) + abs(l - left) < 40
    assert fr.batch_face_locations([image, sample("biden.jpg")]) == [locations, fr.face_locations(sample("biden.jpg"))]
    with pytest.raises(fr.FacerecError, match="'hog' or 'cnn'"):
        fr.face_locations(image, model="mmod")


def test_encodings_of_the_locations_it_gave_are_its_own_and_any_box_works(default_embedder):
    import facerec as fr

    image = sample("obama.jpg")
    found = fr.face_encodings(image)
    assert isinstance(found, list) and [e.shape for e in found] == [(128,)]  # face_recognition's type
    assert np.array_equal(fr.face_encodings(image, fr.face_locations(image)), found)
    top, right, bottom, left = fr.face_locations(image)[0]
    elsewhere = fr.face_encodings(image.copy(), [(top + 6, right - 4, bottom + 5, left - 3)])  # another detector's box
    assert 0 < np.linalg.norm(elsewhere[0] - found[0]) < 0.15
    assert fr.face_encodings(np.zeros((100, 100, 3), np.uint8)) == []  # no face: an empty list, as there
    jittered = fr.face_encodings(image, num_jitters=3)
    assert np.array_equal(jittered, fr.face_encodings(image, num_jitters=3))
    assert 0 < np.linalg.norm(np.subtract(jittered, found)) < 0.1
    assert np.array_equal(fr.face_encodings(image, model="large"), found)  # face_recognition's landmark models
    with pytest.raises(fr.FacerecError, match="top, right, bottom, left"):
        fr.face_encodings(image, [(1, 2)])


def test_landmarks_large_and_small(default_embedder):
    import facerec as fr

    image = sample("obama.jpg")
    top, right, bottom, left = fr.face_locations(image)[0]
    large = fr.face_landmarks(image)
    assert len(large) == 1 and {k: len(v) for k, v in large[0].items()} == LARGE
    points = np.array([p for v in large[0].values() for p in v])
    assert points.dtype.kind == "i" and (points[:, 0] > left - 20).all() and (points[:, 0] < right + 20).all()
    assert (points[:, 1] > top - 40).all() and (points[:, 1] < bottom + 40).all()  # dlib's box cuts the chin
    nose, eyes = np.mean(large[0]["nose_tip"], axis=0), np.mean(large[0]["left_eye"] + large[0]["right_eye"], axis=0)
    assert nose[1] > eyes[1]  # the nose below the eyes
    small = fr.face_landmarks(image, [(top, right, bottom, left)], model="small")
    assert {k: len(v) for k, v in small[0].items()} == {"nose_tip": 1, "left_eye": 2, "right_eye": 2}
    assert np.linalg.norm(np.subtract(small[0]["nose_tip"][0], large[0]["nose_tip"][2])) < 15


def test_load_image_file_takes_paths_and_open_files_in_rgb_or_grey():
    import facerec as fr
    from facerec.samples import find

    if find() is None:
        pytest.skip("face_recognition sample photos not fetched (run: python -m facerec.samples)")
    path = find() / "biden.jpg"
    rgb = fr.load_image_file(path)
    grey = fr.load_image_file(io.BytesIO(path.read_bytes()), mode="L")
    assert rgb.dtype == np.uint8 and rgb.ndim == 3 and grey.shape == rgb.shape[:2]
    assert len(fr.face_locations(grey)) == 1
    with pytest.raises(fr.FacerecError):
        fr.load_image_file(io.BytesIO(b"not an image"))


def test_a_tolerance_habit_does_not_name_strangers(default_embedder, monkeypatch):
    """face_recognition's 0.6 is a distance on dlib's scale: here it is translated (measured on the
    same photos, bench/face_recognition_api.py), and a raw distance it would misjudge is warned of."""
    import facerec as fr
    from facerec import tolerance

    monkeypatch.setattr(tolerance, "_warned", set())
    obama, obama2, biden = (fr.face_encodings(sample(n))[0] for n in ("obama.jpg", "obama2.jpg", "biden.jpg"))
    assert fr.compare_faces([obama, biden], obama2, tolerance=0.6) == [True, False]
    assert fr.compare_faces([biden], obama2, max_distance=0.6) == [True]  # 0.6 on facerec's own scale
    limit = tolerance.distance_for_tolerance(0.6, default_embedder)
    assert 0.35 < limit < default_embedder.same_person_distance + 0.01
    assert tolerance.distance_for_tolerance(0.5, default_embedder) < limit
    with pytest.warns(UserWarning, match="not on face_recognition's scale"):
        fr.face_distance([biden], obama2)  # 0.57: a match by the 0.6 habit, a stranger here
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fr.face_distance([biden], obama2)  # once


def test_an_image_passed_again_is_not_detected_again(default_embedder, monkeypatch):
    """verify on in-memory images: each image's faces are found once per batch of calls."""
    import threading

    import facerec
    from facerec import loaded
    from facerec.pipeline import FacePipeline

    monkeypatch.setattr(loaded, "_local", threading.local())  # nothing remembered from earlier tests
    calls = []
    real = FacePipeline.faces
    monkeypatch.setattr(FacePipeline, "faces", lambda self, image, *a, **k: calls.append(1) or real(self, image, *a, **k))
    a, b, c = sample("obama.jpg"), sample("obama2.jpg"), sample("biden.jpg")
    answers = [facerec.verify(x, y).same for x, y in ((a, b), (a, c), (b, c), (a, b))]
    assert answers == [True, False, False, True] and len(calls) == 3
    changed = a.copy()
    changed[0, 0] ^= 1  # other pixels: looked at afresh
    facerec.verify(changed, b)
    assert len(calls) == 4


def test_finding_faces_leaves_the_warning_filters_as_they_were():
    """The detector's interpreters are built in two threads; each silences LiteRT's warnings for a
    moment, and out of order that used to leave every warning ignored (face_distance's among them)."""
    import facerec

    before = list(warnings.filters)
    facerec.face_locations(sample("obama3.jpg")[::2, ::2].copy())  # a new size: new interpreters
    assert warnings.filters == before


def test_edges_a_face_recognition_user_meets(default_embedder):
    import facerec as fr

    image = sample("obama.jpg")
    faces = fr.detect_faces(image)
    faces[0].box *= 4  # a caller's own arithmetic on a box does not change what is remembered
    assert np.array_equal(fr.face_encodings(image, fr.face_locations(image)), fr.face_encodings(image))
    one = fr.face_encodings(image)
    assert fr.compare_faces(one, one) == [True]  # a (1, D) candidate, as face_encodings gives it
    with pytest.raises(fr.FacerecError, match="not both"):
        fr.compare_faces(one, one[0], tolerance=0.6, max_distance=0.4)
    with pytest.raises(fr.FacerecError, match="outside what was measured"):
        fr.compare_faces(one, one[0], tolerance=1.5)
    with pytest.raises(fr.FacerecError, match="outside the image"):
        fr.face_encodings(image, [(5000, 6000, 5100, 5900)])
    with pytest.raises(fr.FacerecError, match="bottom below top"):
        fr.face_encodings(image, [(400, 600, 100, 300)])
    with pytest.raises(fr.FacerecError, match="uint8"):
        fr.face_locations(np.array([[1, 2], [3, 4]]))
    batch = [image.copy(), sample("biden.jpg")]
    boxes = fr.batch_face_locations(batch)
    assert np.array_equal(fr.face_encodings(batch[0], boxes[0]), one)  # batch boxes match their faces too
