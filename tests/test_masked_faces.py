"""Masked faces (issue 24): seen as masked, found by the detector, and named by comparing them
with the enrolled faces rendered masked; results say which faces were masked."""
import numpy as np
import pytest

from faces import astronaut, sample
from facerec import FacerecError


def _masked(image, kind="cloth"):
    """The photo with a mask drawn on its most confident face, and that face's landmarks."""
    from facerec.detection import MTCNN
    from facerec.masks import draw_mask

    found = MTCNN().detect(image)
    lm = found.landmarks[int(np.argmax(found.scores))]
    return draw_mask(image, lm, kind), lm


@pytest.mark.parametrize("kind", ["surgical", "cloth", "n95"])
def test_the_mask_check_tells_masked_from_bare(kind):
    from facerec.detection.mask_check import MASKED, MASKED_SURE, masked_chances

    image = astronaut()
    masked, lm = _masked(image, kind)
    assert masked_chances(image, lm[None])[0] < MASKED
    assert masked_chances(masked, lm[None])[0] >= MASKED_SURE
    assert masked_chances(image, np.full((1, 5, 2), 10.0))[0] == 0  # no face to look at: not masked
    assert masked_chances(image, np.zeros((0, 5, 2))).shape == (0,)


def test_second_look_boxes_never_replace_first_look_faces():
    """With the second look on, every face FaceNet's thresholds find is still found, with the same box."""
    from facerec.detection import MTCNN

    for name in ("obama.jpg", "biden.jpg", "obama2.jpg"):
        image = sample(name)
        first, both = MTCNN(check_faces=False).detect(image), MTCNN().detect(image)
        sure = first.scores >= 0.995
        for box in first.boxes[sure]:
            assert np.abs(both.boxes - box).max(axis=1).min() < 1e-3


@pytest.fixture(scope="module")
def gallery(default_embedder):
    from facerec.identity.enrolment import enrol_people
    from facerec.identity.gallery import Gallery
    from facerec.samples import find

    sample("obama.jpg")
    g = Gallery.for_embedder(default_embedder)
    enrol_people(g, default_embedder, [("Barack_Obama", [find() / "obama.jpg", find() / "obama2.jpg"]),
                                       ("Joe_Biden", [find() / "biden.jpg"])], progress=False)
    return g


def test_enrolment_keeps_each_face_rendered_masked(gallery, tmp_path):
    from facerec.identity.gallery import Gallery

    m = gallery.masked_embeddings
    assert m.shape == gallery.embeddings.shape
    assert np.allclose(np.linalg.norm(m, axis=1), 1, atol=1e-4)
    assert (np.linalg.norm(m - gallery.embeddings, axis=1) > 0.05).all()  # a rendering, not a copy
    gallery.save(tmp_path / "g.npz")
    again = Gallery.load(tmp_path / "g.npz")
    assert np.array_equal(again.masked_embeddings, m)


def test_a_masked_face_is_named_and_said_masked(gallery, default_embedder):
    from facerec.recognizer import Recognizer

    rec = Recognizer(gallery, default_embedder)
    masked, _ = _masked(sample("obama3.jpg"), "surgical")
    faces = rec.recognize(masked)
    assert [(f.name, f.masked) for f in faces] == [("Barack_Obama", True)]
    assert faces[0].probability > 0.9
    bare = rec.recognize(sample("obama3.jpg"))
    assert [(f.name, f.masked) for f in bare] == [("Barack_Obama", False)]


def test_a_masked_stranger_is_unknown(gallery, default_embedder):
    from facerec.recognizer import Recognizer

    rec = Recognizer(gallery, default_embedder)
    for kind in ("surgical", "cloth", "n95"):
        faces = rec.recognize(_masked(astronaut(), kind)[0])
        assert [(f.name, f.masked) for f in faces] == [("Unknown", True)], kind


def test_masked_faces_are_compared_through_the_masked_statistics_projection(gallery, default_embedder):
    """The masked side, verify and the statistics measure one distance: through the projection the
    masked statistics ship with (bench/masked_calibration.py), on the enrolled renderings."""
    from facerec.identity.openset import shipped
    from facerec.pipeline import FacePipeline
    from facerec.verification import verify_with

    stats = shipped(f"{default_embedder.name}-masked")
    assert stats.projection is not None
    probe = _masked(sample("obama3.jpg"), "surgical")[0]
    x = FacePipeline(default_embedder).faces(probe).embeddings[:1]
    through = np.linalg.norm(stats.project(x) - stats.project(gallery.masked_embeddings), axis=1).min()
    assert gallery.identify(x, masked=[True]).distances[0] == pytest.approx(through, abs=1e-4)
    assert through != pytest.approx(np.linalg.norm(x - gallery.masked_embeddings, axis=1).min(), abs=1e-3)
    checked = verify_with(FacePipeline(default_embedder), sample("obama3.jpg"), probe)
    assert checked.masked_b and checked.same


def test_a_face_the_mask_check_is_unsure_of_is_weighed_both_ways(gallery, default_embedder):
    """A bare face the mask check half believes masked was compared only with the renderings and
    called Unknown at 0.99+ though enrolled; weighed over both states, the bare one explains it."""
    from facerec.pipeline import FacePipeline

    pipe = FacePipeline(default_embedder)
    bare = pipe.faces(sample("obama3.jpg")).embeddings[:1]
    masked = pipe.faces(_masked(sample("obama3.jpg"), "surgical")[0]).embeddings[:1]
    stranger = pipe.faces(astronaut()).embeddings[:1]
    cut = gallery.identify(bare, masked=[True])
    assert cut.names == ["Unknown"] and cut.probabilities[0] > 0.9  # what the cut alone did
    for chance in (0.3, 0.6, 0.75):
        named = gallery.identify(np.concatenate([bare, masked, stranger]), masked=[chance, 1 - chance + 0.05, chance])
        assert named.names == ["Barack_Obama", "Barack_Obama", "Unknown"], chance
        assert ((named.probabilities > 0.5) & (named.probabilities <= 1)).all()
    # Outside the unsure band the cut decides, as before; booleans are chances of 0 and 1.
    assert gallery.identify(bare, masked=[0.9]).names == cut.names
    assert gallery.identify(bare, masked=[0.1]).names == gallery.identify(bare).names == ["Barack_Obama"]
    # The distance reported is the state's that answered: the bare face's to the bare photos.
    assert gallery.identify(bare, masked=[0.6]).distances[0] == pytest.approx(gallery.identify(bare).distances[0])
    # A soft face keeps the soft statistics' rule and the cut.
    assert gallery.identify(bare, masked=[0.6], soft=[True]).names == cut.names
    with pytest.raises(FacerecError, match="masked flags"):
        gallery.identify(bare, masked=[0.5, 0.5])
    for bad in ([1.5], [float("nan")], ["yes"]):
        with pytest.raises(FacerecError, match="masked"):
            gallery.identify(bare, masked=bad)


def test_a_gallery_without_renderings_compares_masked_faces_as_bare(gallery):
    """A gallery enrolled before renderings (or from a faces file) still answers for masked faces."""
    old = gallery.copy()
    old.masked_embeddings[:] = 0
    x = gallery.embeddings[:1]
    assert old.identify(x, masked=[True]).names == old.identify(x).names == ["Barack_Obama"]


def test_answers_for_masked_and_bare_faces_keep_their_order(gallery):
    x = np.concatenate([gallery.embeddings, gallery.masked_embeddings])
    masked = np.r_[np.zeros(len(gallery.labels), bool), np.ones(len(gallery.labels), bool)]
    names = gallery.identify(x, masked=masked).names
    assert names == gallery.labels + gallery.labels


def test_facenets_classifier_names_a_masked_face_and_not_a_masked_stranger(tmp_path, default_embedder):
    from facerec.identity.classifier import FaceClassifier
    from facerec.identity.training import train_classifier
    from facerec.recognizer import Recognizer
    from facerec.samples import find

    sample("obama.jpg")
    clf = train_classifier([("Barack_Obama", [find() / "obama.jpg", find() / "obama2.jpg"]),
                            ("Joe_Biden", [find() / "biden.jpg"])], model=default_embedder)
    clf.save(tmp_path / "c.npz")
    for c in (clf, FaceClassifier.load(tmp_path / "c.npz")):
        rec = Recognizer(c, default_embedder)
        faces = rec.recognize(_masked(sample("obama3.jpg"), "surgical")[0])
        assert [(f.name, f.masked) for f in faces] == [("Barack_Obama", True)]
        assert [(f.name, f.masked) for f in rec.recognize(_masked(astronaut(), "cloth")[0])] == [("Unknown", True)]


def test_verify_compares_a_masked_face_with_the_other_rendered_masked(default_embedder):
    from facerec.verification import same_person_distance_for, verify_with
    from facerec.pipeline import FacePipeline

    pipe = FacePipeline(default_embedder)
    masked = _masked(sample("obama3.jpg"), "n95")[0]
    same = verify_with(pipe, sample("obama.jpg"), masked)
    assert same.same and same.masked_b and not same.masked_a
    assert same.max_distance == same_person_distance_for(default_embedder, default_embedder.same_person_distance,
                                                         "masked")
    assert same.max_distance < default_embedder.same_person_distance  # as few strangers through as bare
    other = verify_with(pipe, sample("biden.jpg"), masked)
    assert not other.same


def test_masked_faces_moving_in_a_clip_are_named_right_and_the_stranger_is_not(gallery, default_embedder, tmp_path):
    """The real-time tool on a clip of masked faces: a known person (a photo not enrolled) and a stranger."""
    from facerec.demo import render_clip
    from facerec.recognizer import Recognizer
    from facerec.video.realtime import run_video

    clip = render_clip([_masked(sample("obama3.jpg"), "surgical")[0], _masked(astronaut(), "cloth")[0]],
                       tmp_path / "masked.mp4")
    stats = run_video(str(clip), Recognizer(gallery, default_embedder), display=False)
    final = {}
    for e in stats.events:
        final[e["appearance"]] = e
    # each photo is on screen for 2.5 s: Obama first, then the stranger
    obama = [e for e in final.values() if e["end_s"] <= 2.6]
    stranger = [e for e in final.values() if e["start_s"] >= 2.4]
    assert obama and stranger and len(obama) + len(stranger) == len(final)
    assert {(e["name"], e["masked"]) for e in obama} == {("Barack_Obama", True)}
    assert {(e["name"], e["masked"]) for e in stranger} == {("Unknown", True)}


def test_facerec_enrol_keeps_the_renderings_in_the_file(tmp_path, capsys):
    """The command's enrolment merges its draft into the file under the lock: the renderings go too."""
    import shutil

    from facerec.cli import main
    from facerec.identity.gallery import Gallery
    from facerec.samples import find

    sample("obama.jpg")
    (tmp_path / "people" / "Obama").mkdir(parents=True)
    shutil.copy(find() / "obama.jpg", tmp_path / "people" / "Obama" / "obama.jpg")
    assert main(["enrol", str(tmp_path / "g.npz"), str(tmp_path / "people")]) == 0
    g = Gallery.load(tmp_path / "g.npz")
    assert np.allclose(np.linalg.norm(g.masked_embeddings, axis=1), 1, atol=1e-4)
    assert main(["enrol", str(tmp_path / "g.npz"), str(tmp_path / "people")]) == 0  # enrolled again: replaced
    again = Gallery.load(tmp_path / "g.npz")
    assert len(again.labels) == 1 and np.allclose(again.masked_embeddings, g.masked_embeddings, atol=1e-5)


def test_a_gallery_where_someone_lacks_renderings_compares_masked_faces_as_bare(gallery):
    """Not only with the people who have renderings: a masked face of anyone else could then only
    be Unknown or one of them."""
    mixed = gallery.copy()
    mixed.add("Someone", gallery.embeddings[:1] * -1 / 1, ["from a faces file"])  # no rendering
    assert mixed.masked_side() is mixed
    with pytest.raises(Exception, match="masked flags"):
        mixed.identify(gallery.embeddings[:2], masked=[True])


def test_embed_writes_whether_each_face_is_masked_and_folds_in_older_files(tmp_path):
    import pyarrow.parquet as pq
    from PIL import Image

    from facerec.cli import main

    photos = tmp_path / "photos"
    photos.mkdir()
    Image.fromarray(astronaut()).save(photos / "bare.png")
    Image.fromarray(_masked(astronaut(), "surgical")[0]).save(photos / "masked.png")
    out = tmp_path / "faces.parquet"
    assert main(["embed", str(photos), "-o", str(out), "--workers", "1"]) == 0
    rows = {r["path"].rsplit("/", 1)[-1]: r["masked"] for r in pq.read_table(out).to_pylist()}
    assert rows["bare.png"] < 0.5 <= rows["masked.png"]
    # a faces file from before the column: the next run folds it in, its faces' masked unknown (null)
    pq.write_table(pq.read_table(out).drop(["masked"]), out)
    Image.fromarray(astronaut()[::-1].copy()).save(photos / "upside_down.png")
    assert main(["embed", str(photos), "-o", str(out), "--workers", "1"]) == 0
    table = pq.read_table(out)
    assert "masked" in table.column_names and table.num_rows >= 2
    assert [r["masked"] for r in table.to_pylist() if r["path"].endswith(("bare.png", "masked.png"))] == [None, None]


def test_a_file_from_a_newer_facerec_is_said_to_be_newer_not_damaged(gallery, tmp_path):
    """A newer format may add arrays this version does not read (as format 2 added the masked
    renderings); the file is not damaged for that."""
    from facerec import FacerecError
    from facerec.identity.gallery import Gallery
    from facerec.npz_file import write_arrays

    meta = {"format": "facerec-gallery", "version": 99, "embedder": gallery.embedder_info, "false_accept": 0.01,
            "labels": gallery.labels, "sources": gallery.sources}
    (tmp_path / "new.npz").write_bytes(write_arrays({"meta": meta, "embeddings": gallery.embeddings,
                                                     "something_new": np.zeros(3, np.float32)}))
    with pytest.raises(FacerecError, match="newer facerec"):
        Gallery.load(tmp_path / "new.npz")
