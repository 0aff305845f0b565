"""Every embedding that comes in is checked (issue 23, finding 3): finite, unit length, the model's
width, its model named; a faces file's bad row is that photo's error, and names written as they
were typed for facerec embed find their photos."""
from types import SimpleNamespace

import numpy as np
import pytest

from facerec import FacerecError

DIM = 8
MODEL = SimpleNamespace(name="test", key="test-model", dim=DIM)
BAD = {"nan": np.full(DIM, np.nan), "inf": np.r_[np.inf, np.zeros(DIM - 1)], "zero": np.zeros(DIM),
       "huge": np.full(DIM, 1e30), "scaled": 3 * np.eye(DIM)[0]}


def _gallery():
    from facerec.identity.gallery import Gallery

    g = Gallery({"name": "test", "key": MODEL.key, "dim": DIM}, DIM)
    g.add("Alice", np.eye(DIM, dtype=np.float32)[:1], ["a.jpg"])
    return g


@pytest.mark.parametrize("kind", sorted(BAD))
def test_a_gallery_refuses_a_face_that_is_not_a_unit_vector_and_keeps_its_people(kind, tmp_path):
    g = _gallery()
    with pytest.raises(FacerecError, match="not finite unit vectors"):
        g.add("Bob", BAD[kind][None], ["b.jpg"])
    with pytest.raises(FacerecError, match="4-d"):
        g.add("Bob", np.eye(4, dtype=np.float32)[:1], ["b.jpg"])
    assert g.people() == [("Alice", 1)]
    g.save(tmp_path / "g.npz")
    assert type(g).load(tmp_path / "g.npz").people() == [("Alice", 1)]


def _faces_file(tmp_path, rows, dim=DIM, model=MODEL.key):
    from facerec.batch.faces_table import table_of
    from facerec.pipeline import FileFaces

    import pyarrow.parquet as pq

    files = [FileFaces(path, np.zeros((1, 4), np.float32), np.zeros((1, 5, 2), np.float32),
                       np.asarray(vector, np.float32)[None]) for path, vector in rows]
    path = tmp_path / "faces.parquet"
    pq.write_table(table_of(files, model, dim), path)
    return path


def test_a_faces_file_row_that_is_not_a_unit_vector_is_that_photos_error(tmp_path):
    from facerec.batch.faces_table import read_files

    good = np.eye(DIM)[1]
    path = _faces_file(tmp_path, [("good.jpg", good)] + [(f"{k}.jpg", v) for k, v in sorted(BAD.items())])
    files, _ = read_files(path, MODEL)
    by = {ff.path: ff for ff in files}
    assert len(by["good.jpg"]) == 1 and not by["good.jpg"].error
    assert all("not a finite unit vector" in by[f"{k}.jpg"].error for k in BAD)


def test_a_faces_file_of_another_width_or_without_its_model_is_refused(tmp_path):
    from facerec.batch.faces_table import read_files

    narrow = _faces_file(tmp_path, [("a.jpg", np.eye(4)[0])], dim=4)
    with pytest.raises(FacerecError, match="4-d, the model's are 8-d"):
        read_files(narrow, MODEL)
    unnamed = _faces_file(tmp_path, [("a.jpg", np.eye(DIM)[0])], model=None)
    with pytest.raises(FacerecError, match="no model"):
        read_files(unnamed, MODEL)


def test_names_as_typed_for_embed_find_their_photos_and_none_found_is_an_error(tmp_path, monkeypatch):
    import os

    from facerec.batch.faces_table import read_files
    from facerec.identity.enrolment import enrol_named_faces

    monkeypatch.chdir(tmp_path)
    path = _faces_file(tmp_path, [("photos/b.jpg", np.eye(DIM)[1])])  # as facerec embed photos/ wrote it
    files, _ = read_files(path, MODEL)
    g = _gallery()
    enrol_named_faces(g, files, [(os.path.abspath("photos/b.jpg"), None, "Bob")])
    assert dict(g.people()) == {"Alice": 1, "Bob": 1}
    with pytest.raises(FacerecError, match="none of the 1 photos named is in the faces file"):
        enrol_named_faces(g, files, [("elsewhere/c.jpg", None, "Carol")])
