"""Soft faces: a face too blurred to enrol is still named, but weighed with the model's
soft-face statistics (identity/calibration/dlib-resnet-v1-soft.json), so its probability says how
often such an answer is right: one person's soft faces come farther from their photos than sharp
ones do, and a soft face far from everyone is less surely a stranger."""
import cv2
import numpy as np
import pytest

from faces import astronaut, sample


def _at(e: np.ndarray, d: float, seed: int = 0) -> np.ndarray:
    """A unit vector at distance d from the unit vector e."""
    v = np.random.default_rng(seed).normal(size=e.shape)
    v -= (v @ e) * e
    v /= np.linalg.norm(v)
    cos = 1 - d * d / 2
    return (e * cos + v * np.sqrt(1 - cos * cos)).astype(np.float32)


@pytest.fixture
def people():
    r = np.random.default_rng(3)
    e = r.normal(size=(2, 128))
    return (e / np.linalg.norm(e, axis=1, keepdims=True)).astype(np.float32)


def test_a_gallery_weighs_a_soft_face_with_the_soft_statistics(people):
    from facerec.identity.gallery import Gallery
    from facerec.identity.openset import shipped

    assert shipped("dlib-resnet-v1-soft") is not None  # shipped beside the bare statistics
    g = Gallery({"name": "dlib-resnet-v1"}, 128, 0.01)
    g.add_many(["Ann"], people[:1], ["ann.jpg"])
    far = _at(people[0], 0.43)[None]
    sharp, soft = g.identify(far), g.identify(far, soft=[True])
    assert sharp.names == soft.names == ["Unknown"]
    # One person's soft faces often come this far from their photo: Unknown is a guess, and says so.
    assert soft.probabilities[0] < 0.5 < sharp.probabilities[0]
    assert g.soft_side().probability_floor() > g.probability_floor()  # strangers named still at most 1%
    assert g.soft_side().strangers_named() <= 0.01
    near = _at(people[0], 0.3)[None]
    assert g.identify(near, soft=[True]).names == ["Ann"]
    # Masked and soft at once, in a gallery without masked renderings (enrolled from a faces
    # file): compared as a bare face would be, so weighed as soft.
    both = g.identify(np.concatenate([far, far]), masked=[True, False], soft=[True, True])
    assert both.probabilities == pytest.approx([soft.probabilities[0]] * 2)
    # Never named where a sharp face would not be: here the soft statistics alone would name Bob
    # (the chance they give is over their floor), the sharp rule does not.
    g.add_many(["Bob"] * 3, np.stack([people[1], _at(people[1], 0.3, 1), _at(people[1], 0.3, 2)]), ["b1", "b2", "b3"])
    probe = _at(people[1], 0.385, 5)[None]
    assert g.identify(probe).names == ["Unknown"]
    guarded = g.identify(probe, soft=[True])
    assert guarded.names == ["Unknown"] and 1 - guarded.probabilities[0] >= g.soft_side().probability_floor()
    # A floor the user gives is the chance alone, for a soft face as for any: 0.5 names Bob here.
    g.use_threshold(0.5)
    given = g.identify(probe, soft=[True])
    assert given.names == ["Bob"] and given.probabilities[0] == pytest.approx(1 - guarded.probabilities[0], abs=0.02)


def test_a_classifier_weighs_a_soft_face_with_the_soft_statistics(people):
    from facerec.identity.classifier import FaceClassifier
    from facerec.identity.openset import shipped

    X = np.concatenate([np.stack([p, _at(p, 0.3, 1), _at(p, 0.3, 2)]) for p in people])
    clf = FaceClassifier(distance_stats=shipped("dlib-resnet-v1"), embedder_info={"name": "dlib-resnet-v1"})
    clf.fit(X, ["Ann"] * 3 + ["Bob"] * 3)
    far = np.stack([_at(people[0], 0.43, 9)])
    sharp, soft = clf.identify(far), clf.identify(far, soft=[True])
    assert sharp.names == soft.names == ["Unknown"]
    assert soft.probabilities[0] < sharp.probabilities[0]
    assert clf.identify(np.stack([_at(people[1], 0.25, 7)]), soft=[True]).names == ["Bob"]
    # Never named where a sharp face would not be, though the soft statistics alone would name Bob.
    probe = np.stack([_at(people[1], 0.385, 5)])
    assert clf.identify(probe).names == ["Unknown"]
    guarded = clf.identify(probe, soft=[True])
    assert guarded.names == ["Unknown"] and 1 - guarded.probabilities[0] >= clf._soft_floor(clf._soft_odds())
    clf.use_threshold(0.5)
    assert clf.identify(probe, soft=[True]).names == ["Bob"]


def test_a_blurred_photo_is_named_as_a_soft_face(default_embedder):
    from facerec.identity.enrolment import enrol_people
    from facerec.identity.gallery import Gallery
    from facerec.recognizer import Recognizer
    from facerec.samples import find

    sample("obama.jpg")
    g = Gallery.for_embedder(default_embedder)
    enrol_people(g, default_embedder, [("Barack_Obama", [find() / "obama.jpg", find() / "obama2.jpg"])],
                 progress=False)
    rec = Recognizer(g, default_embedder)
    sharp = rec.recognize(sample("obama3.jpg"))
    assert [(f.name, f.soft) for f in sharp] == [("Barack_Obama", False)]
    [blurred] = rec.recognize(cv2.GaussianBlur(sample("obama3.jpg"), (0, 0), 4))
    assert blurred.soft and not blurred.masked
    expected = g.soft_side().identify(blurred.embedding[None])
    assert blurred.name == expected.names[0] and blurred.probability == pytest.approx(expected.probabilities[0])
    [stranger] = rec.recognize(cv2.GaussianBlur(astronaut(), (0, 0), 6))
    assert stranger.soft and stranger.name == "Unknown"


def test_the_cache_keeps_each_face_sharpness(tmp_path, default_embedder):
    from facerec.images import atomic_save_image
    from facerec.pipeline import FacePipeline

    atomic_save_image(tmp_path / "soft.png", cv2.GaussianBlur(sample("obama.jpg"), (0, 0), 9))
    atomic_save_image(tmp_path / "sharp.png", sample("obama.jpg"))
    pipe = FacePipeline(default_embedder)
    first = pipe.files([tmp_path / "soft.png", tmp_path / "sharp.png"], progress=False)
    pipe.detect = None  # the second time every face comes from the cache: nothing is detected again
    again = pipe.files([tmp_path / "soft.png", tmp_path / "sharp.png"], progress=False)
    assert [float(f.sharpness[0]) for f in first] == [float(f.sharpness[0]) for f in again]
    assert first[0].sharpness[0] < 15 <= first[1].sharpness[0]


def test_verify_compares_a_soft_face_under_the_soft_statistics(default_embedder):
    from facerec.pipeline import FacePipeline
    from facerec.verification import same_person_distance_for, verify_with

    pipe = FacePipeline(default_embedder)
    soft = cv2.GaussianBlur(sample("obama3.jpg"), (0, 0), 4)
    same = verify_with(pipe, sample("obama.jpg"), soft)
    assert same.soft_b and not same.soft_a and not same.masked_b
    limit = same_person_distance_for(default_embedder, default_embedder.same_person_distance, "soft")
    assert same.max_distance == limit < default_embedder.same_person_distance  # soft strangers come nearer
    assert same.same and same.as_dict()["soft_b"] is True
    assert not verify_with(pipe, sample("biden.jpg"), soft).same
    sharp = verify_with(pipe, sample("obama.jpg"), sample("obama3.jpg"))
    assert not (sharp.soft_a or sharp.soft_b) and sharp.max_distance == default_embedder.same_person_distance
    from test_masked_faces import _masked

    masked = verify_with(pipe, _masked(sample("obama.jpg"), "n95")[0], soft)  # weighed as masked, not soft
    assert masked.masked_a and masked.soft_b and masked.as_dict()["soft_b"] is True  # what each face is
    assert masked.max_distance == same_person_distance_for(default_embedder, default_embedder.same_person_distance,
                                                           "masked")


def test_a_video_track_of_soft_faces_says_so(tmp_path, default_embedder):
    from facerec.demo import render_clip
    from facerec.identity.enrolment import enrol_people
    from facerec.identity.gallery import Gallery
    from facerec.recognizer import Recognizer
    from facerec.samples import find
    from facerec.video.realtime import run_video

    sample("obama.jpg")
    g = Gallery.for_embedder(default_embedder)
    enrol_people(g, default_embedder, [("Barack_Obama", [find() / "obama.jpg", find() / "obama2.jpg"])],
                 progress=False)
    rec = Recognizer(g, default_embedder)
    for picture, soft in ((sample("obama3.jpg"), False), (cv2.GaussianBlur(sample("obama3.jpg"), (0, 0), 5), True)):
        stats = run_video(str(render_clip([picture], tmp_path / f"{soft}.mp4")), rec, display=False)
        left = [e for e in stats.events if e["type"] == "left"]
        assert left and {e["soft"] for e in left} == {soft}
        assert {e["name"] for e in left} == {"Barack_Obama"}
