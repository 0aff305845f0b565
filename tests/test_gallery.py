"""facerec enrol / forget / people: a gallery that grows without retraining, used like a classifier."""
import json
import subprocess
import sys

import numpy as np
import pytest

from conftest import shared
from facerec import FacerecError


def _run(*args):
    return subprocess.run([sys.executable, "-m", "facerec", *map(str, args)], capture_output=True, text=True,
                          timeout=300)


def test_enrol_forget_people_and_use_it_everywhere(tmp_path):
    train, test = shared("personal", "train"), shared("personal", "test")
    gallery = tmp_path / "family.npz"
    p = _run("enrol", gallery, train)
    assert p.returncode == 0, p.stderr
    assert "chance the name is right is at least" in p.stdout and "false-accept target" in p.stdout
    assert "2 faces" not in p.stdout  # obama.jpg's second "face" was a blurred chair: no longer found
    import shutil

    group = tmp_path / "people" / "obama"
    shutil.copytree(train / "obama", group)
    shutil.copy(test / "obama_and_biden.jpg", group)
    p = _run("enrol", tmp_path / "group.npz", tmp_path / "people")
    assert "obama_and_biden.jpg: 3 faces; enrolled" in p.stdout  # a photo of several says which one it took
    p = _run("people", gallery)
    assert p.stdout.splitlines()[0] == "alex_lacamoire\t1" and "5 people" in p.stdout
    p = _run("classify", "CLASSIFY", test, "default", gallery)
    assert p.returncode == 0, p.stderr
    assert "kit_harington" in p.stdout and "rose_leslie" in p.stdout and "biden" in p.stdout
    p = _run("forget", gallery, "biden")
    assert p.returncode == 0 and "now holds 4 people" in p.stdout
    from facerec import Recognizer, load_image

    rec = Recognizer.load(gallery)
    names = {f.name for f in rec.recognize(load_image(test / "obama_and_biden.jpg"))}
    assert "obama" in names and "biden" not in names
    bad = _run("forget", gallery, "nobody")
    assert bad.returncode == 1 and "not in the gallery: nobody" in bad.stderr


def test_strangers_stay_unknown_and_the_file_is_checked(tmp_path, rng):
    from facerec.identity.gallery import Gallery

    class Emb:
        name, spec, key, dim = "dlib-resnet-v1", "default", "k", 8

    g = Gallery.for_embedder(Emb)
    people = rng.normal(size=(3, 8)).astype(np.float32)
    people /= np.linalg.norm(people, axis=1, keepdims=True)
    for i, e in enumerate(people):
        g.enrol(f"p{i}", e[None], [f"p{i}.jpg"])
    names, conf, dist = g.identify(np.concatenate([people, -people]))
    assert names[:3] == ["p0", "p1", "p2"] and names[3:] == ["Unknown"] * 3
    g.save(tmp_path / "g.npz")
    back = Gallery.load(tmp_path / "g.npz")
    assert back.people() == [("p0", 1), ("p1", 1), ("p2", 1)]
    for bad_name in ("../x", "", "Unknown", "a\nb"):
        with pytest.raises(FacerecError):
            g.enrol(bad_name, people[:1], ["x.jpg"])
    meta = json.loads(bytes(np.load(tmp_path / "g.npz")["meta"]).decode())
    meta["labels"] = meta["labels"][:2]  # rows and names disagree
    np.savez(tmp_path / "bad.npz", meta=np.frombuffer(json.dumps(meta).encode(), np.uint8),
             embeddings=np.load(tmp_path / "g.npz")["embeddings"])
    with pytest.raises(FacerecError, match="damaged"):
        Gallery.load(tmp_path / "bad.npz")


def test_a_gallery_file_loads_without_scikit_learn(tmp_path):
    """Only a classifier needs scikit-learn: a gallery's users (identify, real time, the service)
    do not pay its import time and memory (170 MB peak measured on the real-time tool)."""
    import subprocess
    import sys

    import numpy as np

    from facerec.identity.gallery import Gallery

    g = Gallery({"name": "test", "key": "k", "dim": 4}, 4)
    g.add("alice", np.eye(4, dtype=np.float32)[:1], ["a.jpg"])
    g.save(tmp_path / "g.npz")
    probe = ("import sys; from facerec.identity.loading import load_identifier; "
             f"g = load_identifier({str(tmp_path / 'g.npz')!r}); print(g.people(), 'sklearn' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[('alice', 1)] False"


def test_enrolling_a_folder_adds_to_what_a_person_has_and_replaces_only_when_asked(tmp_path):
    """A folder's faces join the person's enrolled ones: a second folder adds, the same folder again
    adds nothing, a photo of someone else is judged against the faces already enrolled and left
    out; --replace makes the folder all the person has.  A folder with no usable face is an error
    that writes nothing."""
    import shutil

    from facerec.samples import find

    root = find()
    if root is None:
        pytest.skip("face_recognition sample photos not fetched (run: python -m facerec.samples)")
    for folder, photos in (("first", ["obama.jpg", "obama2.jpg"]), ("more", ["obama3.jpg"]), ("wrong", ["biden.jpg"])):
        (tmp_path / folder / "Obama").mkdir(parents=True)
        for photo in photos:
            shutil.copy(root / photo, tmp_path / folder / "Obama" / photo)
    (tmp_path / "bad" / "Nobody").mkdir(parents=True)
    (tmp_path / "bad" / "Nobody" / "broken.jpg").write_bytes(b"not a photo")
    gallery = tmp_path / "g.npz"

    def faces():
        return _run("people", gallery).stdout.splitlines()[0]

    assert _run("enrol", gallery, tmp_path / "first").returncode == 0 and faces() == "Obama\t2"
    p = _run("enrol", gallery, tmp_path / "more")
    assert p.returncode == 0 and "(1 face added)" in p.stdout and faces() == "Obama\t3"
    p = _run("enrol", gallery, tmp_path / "first")
    assert "2 photos already enrolled" in p.stdout and "(0 faces added)" in p.stdout and faces() == "Obama\t3"
    p = _run("enrol", gallery, tmp_path / "wrong")
    assert "biden.jpg: far from Obama's other faces" in p.stdout and faces() == "Obama\t3"
    p = _run("enrol", gallery, tmp_path / "more", "--replace")
    assert p.returncode == 0 and faces() == "Obama\t1"
    before = gallery.read_bytes()
    p = _run("enrol", gallery, tmp_path / "bad")
    assert p.returncode == 1 and "no usable face" in p.stderr and gallery.read_bytes() == before
    p = _run("enrol", tmp_path / "new.npz", tmp_path / "bad")
    assert p.returncode == 1 and not (tmp_path / "new.npz").exists()
    p = _run("enrol", gallery, "--from-video", tmp_path / "x.mp4", "--name", "A", "--replace")
    assert p.returncode == 1 and "--replace goes with a PEOPLE_DIR" in p.stderr
