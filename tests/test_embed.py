"""facerec embed: the same faces from the local pool and from Ray, resumable, into Parquet."""
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from conftest import SHARED_DATA
from faces import astronaut

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")


def _photos(root, n=0):
    """The face_recognition sample photos, a photo with no face, a broken file, and n moved astronauts."""
    from PIL import Image

    from facerec.samples import find

    samples = find()
    if samples is None:
        pytest.skip("face_recognition sample photos not fetched")
    root.mkdir(parents=True, exist_ok=True)
    for p in sorted(samples.iterdir()):
        shutil.copy(p, root / p.name)
    Image.fromarray(np.full((200, 300, 3), 120, np.uint8)).save(root / "wall.png")
    (root / "broken.jpg").write_bytes(b"not a jpeg")
    for i in range(n):
        Image.fromarray(np.roll(astronaut(), 7 * i, axis=1)).save(root / f"astronaut{i:02d}.jpg", quality=90)
    return root


def _rows(path):
    t = pq.read_table(path)
    return {(r["path"], r["face"]): r for r in t.to_pylist()}


def _same(a, b, tol=1e-5):
    assert a.keys() == b.keys()
    for k in a:
        x, y = a[k], b[k]
        assert x["error"] == y["error"] and x["model"] == y["model"], k
        if x["face"] is not None:
            assert np.abs(np.subtract(x["embedding"], y["embedding"])).max() <= tol, k
            assert np.abs(np.subtract(x["box"], y["box"])).max() <= 1e-3, k


def _embed(args, **kw):
    return subprocess.run([sys.executable, "-m", "facerec", "embed", *map(str, args)],
                          capture_output=True, text=True, timeout=900, **kw)


@pytest.mark.slow
def test_local_and_ray_give_the_same_rows(tmp_path):
    pytest.importorskip("ray")
    photos = _photos(tmp_path / "photos")
    local, ray = tmp_path / "local.parquet", tmp_path / "ray.parquet"
    p = _embed([photos, "-o", local, "--workers", "2", "--batch-size", "3"])
    assert p.returncode == 0, p.stderr
    p = _embed([photos, "-o", ray, "--engine", "ray", "--workers", "2", "--batch-size", "3"])
    assert p.returncode == 0, p.stderr
    a, b = _rows(local), _rows(ray)
    _same(a, b)
    assert not (tmp_path / "local.parquet.parts").exists()
    wall = a[(str(photos / "wall.png"), None)]
    assert wall["error"] == "no face found"
    assert "not an image" in a[(str(photos / "broken.jpg"), None)]["error"]
    faces = [r for r in a.values() if r["face"] is not None]
    assert len(faces) >= 5 and all(len(r["embedding"]) == 128 and len(r["landmarks"]) == 10 for r in faces)
    assert all(abs(np.linalg.norm(r["embedding"]) - 1) < 1e-3 for r in faces)


@pytest.mark.slow
def test_a_killed_run_resumes(tmp_path):
    photos = _photos(tmp_path / "photos", n=40)
    whole = tmp_path / "whole.parquet"
    p = _embed([photos, "-o", whole, "--workers", "2", "--batch-size", "2"])
    assert p.returncode == 0, p.stderr

    out = tmp_path / "killed.parquet"
    parts = tmp_path / "killed.parquet.parts"
    proc = subprocess.Popen([sys.executable, "-m", "facerec", "embed", str(photos), "-o", str(out),
                             "--workers", "2", "--batch-size", "2"], start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 300
    while len(list(parts.glob("part-*.parquet"))) < 4 and time.time() < deadline and proc.poll() is None:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    kept = len(list(parts.glob("part-*.parquet")))
    assert kept >= 4 and not out.exists()  # it died mid-way, with finished batches on disk

    p = _embed([photos, "-o", out, "--workers", "2", "--batch-size", "2"])
    assert p.returncode == 0, p.stderr
    assert "already in" in p.stdout  # the finished batches were not done again
    _same(_rows(out), _rows(whole))
    p = _embed([photos, "-o", out])  # a third run finds everything done
    assert p.returncode == 0 and "embedded now: 0" in p.stdout
    p = _embed([photos.name, "-o", out], cwd=photos.parent)  # also when the photos are named relatively
    assert p.returncode == 0 and "embedded now: 0" in p.stdout


@pytest.mark.slow
def test_a_run_killed_between_writing_the_file_and_removing_its_parts_adds_no_rows(tmp_path):
    """Issue 23, finding 5: the output written, its parts folder still there (a kill between the
    two); the next run folds the parts in again and used to double every row."""
    photos = _photos(tmp_path / "photos")
    out = tmp_path / "f.parquet"
    assert _embed([photos, "-o", out, "--workers", "1"]).returncode == 0
    rows = pq.read_table(out).num_rows
    parts = tmp_path / "f.parquet.parts"
    parts.mkdir()
    shutil.copy(out, parts / "part-000000.parquet")  # what the killed run left beside its output
    p = _embed([photos, "-o", out, "--workers", "1"])
    assert p.returncode == 0, p.stderr
    assert pq.read_table(out).num_rows == rows and not parts.exists()


def test_bad_outputs_are_refused_in_one_line(tmp_path):
    photos = _photos(tmp_path / "photos")
    p = _embed([photos, "-o", tmp_path / "faces.csv"])
    assert p.returncode == 1 and "Parquet" in p.stderr and "Traceback" not in p.stderr
    (tmp_path / "junk.parquet").write_text("not parquet")
    p = _embed([photos, "-o", tmp_path / "junk.parquet"])
    assert p.returncode == 1 and "not a readable Parquet file" in p.stderr
    assert p.stderr.rstrip().endswith((".)", "...)"))  # pyarrow's message cut at a sentence or a word
    assert (tmp_path / "junk.parquet").read_text() == "not parquet"  # left as it was


LFW_DEV = SHARED_DATA / "lfw-dev"


@pytest.mark.slow
@pytest.mark.skipif(not LFW_DEV.is_dir(), reason="shared LFW data not present")
def test_local_and_ray_agree_on_lfw_dev(tmp_path):
    pytest.importorskip("ray")
    local, ray = tmp_path / "local.parquet", tmp_path / "ray.parquet"
    p = _embed([LFW_DEV, "-r", "-o", local])
    assert p.returncode == 0, p.stderr
    p = _embed([LFW_DEV, "-r", "-o", ray, "--engine", "ray"])
    assert p.returncode == 0, p.stderr
    a, b = _rows(local), _rows(ray)
    _same(a, b)
    assert len({k[0] for k in a}) == sum(1 for f in LFW_DEV.rglob("*") if f.is_file() and f.suffix == ".jpg")


def test_cluster_and_enrol_from_the_faces_file(tmp_path, capsys):
    from facerec.cli import main
    from facerec.collections.results_file import read_rows
    from facerec.batch.embed_photos import embed_photos
    from facerec.identity.gallery import Gallery

    photos = _photos(tmp_path / "photos")
    faces = tmp_path / "faces.parquet"
    embed_photos(sorted(str(p) for p in photos.iterdir()), faces, workers=1, progress=False)
    assert {m.split()[0] for m in pq.read_table(faces).column("model").to_pylist()} == {"dlib-resnet-v1"}  # a name
    clusters = tmp_path / "clusters.csv"
    assert main(["cluster", str(faces), "-o", str(clusters)]) == 0
    rows = {(Path(r["path"]).name, r["face"]): r["cluster"] for r in read_rows(clusters)}
    obama = {rows[(n, 0)] for n in ("obama.jpg", "obama2.jpg", "obama3.jpg")}
    assert len(obama) == 1 and None not in obama and rows[("biden.jpg", 0)] not in obama

    names = tmp_path / "names.csv"
    names.write_text(f"path,name\n{photos / 'biden.jpg'},Biden\n{photos / 'obama2.jpg'},Obama\n")
    gallery = tmp_path / "g.npz"
    assert main(["enrol", str(gallery), "--from-parquet", str(faces), "--names", str(names)]) == 0
    assert main(["enrol", str(gallery), "--from-parquet", str(faces), "--from-clusters", str(clusters),
                 "--name", f"{obama.pop()}=Obama"]) == 0
    g = Gallery.load(gallery)
    assert dict(g.people()) == {"Biden": 1, "Obama": 4}  # obama2 once, though named twice
    capsys.readouterr()
    assert main(["identify", str(gallery), str(photos / "obama3.jpg"), str(photos / "biden.jpg")]) == 0
    out = capsys.readouterr().out
    assert "obama3.jpg  face 0: Obama" in out and "biden.jpg  face 0: Biden" in out


def test_a_faces_file_of_an_earlier_facerec_model_column_key_alone_is_still_read(tmp_path):
    """Files written before the model column held the model's name held its key alone."""
    import pyarrow as pa

    from facerec.batch.embed_photos import embed_photos
    from facerec.batch.faces_table import read_files
    from facerec.embedding import load_embedder

    photos = _photos(tmp_path / "photos", n=0)
    faces = tmp_path / "faces.parquet"
    embed_photos([str(photos / "obama.jpg")], faces, workers=1, progress=False)
    t = pq.read_table(faces)
    old = t.set_column(t.column_names.index("model"), "model",
                       pa.array([m.split()[-1] for m in t.column("model").to_pylist()]))
    pq.write_table(old, faces)
    assert len(read_files(faces, load_embedder("default"))[0]) == 1
    assert embed_photos([str(photos / "obama.jpg")], faces, workers=1, progress=False).skipped == 1


def test_a_ray_address_nothing_answers_at_is_refused_at_once(tmp_path):
    """Issue 23, finding 12: Ray waits without end for a head that is not there."""
    import socket

    with socket.socket() as s:  # a port that was free a moment ago: nothing listens on it
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    p = _embed([tmp_path, "-o", tmp_path / "f.parquet", "--engine", "ray", "--address", f"127.0.0.1:{port}"])
    assert p.returncode == 1 and "no Ray head answers there" in p.stderr and len(p.stderr.strip().splitlines()) == 1


def test_the_faces_file_keeps_each_faces_sharpness_and_reads_it_back(tmp_path):
    """A blurred face is soft in the faces file as in the photo (weighed so when named from it);
    a file written before the column existed reads as not measured (NaN), not as sharp."""
    import cv2
    from PIL import Image

    from facerec.batch.embed_photos import embed_photos
    from facerec.batch.faces_table import read_files
    from facerec.detection.quality import SHARP
    from facerec.embedding import load_embedder

    photos = _photos(tmp_path / "photos", n=0)
    blurred = photos / "obama_blurred.jpg"
    Image.fromarray(cv2.GaussianBlur(np.asarray(Image.open(photos / "obama.jpg").convert("RGB")), (0, 0), 10)).save(blurred)
    faces = tmp_path / "faces.parquet"
    embed_photos([str(photos / "obama.jpg"), str(blurred)], faces, workers=1, progress=False)
    rows = {Path(r["path"]).name: r["sharpness"] for r in pq.read_table(faces).to_pylist()}
    assert rows["obama_blurred.jpg"] < SHARP < rows["obama.jpg"]
    back = {Path(ff.path).name: ff.sharpness[0] for ff in read_files(faces, load_embedder("default"))[0]}
    assert back == pytest.approx(rows)
    t = pq.read_table(faces)
    pq.write_table(t.drop(["sharpness"]), faces)
    assert all(np.isnan(ff.sharpness).all() for ff in read_files(faces, load_embedder("default"))[0])
