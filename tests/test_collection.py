"""A photo collection: identify --recursive --output --sort-into --html, cluster, enrol --from-clusters."""
import csv
import hashlib
from pathlib import Path

import numpy as np
import pytest

from faces import astronaut, sample


def _save(rgb, path):
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(rgb).save(path, quality=95)


def _digests(root):
    return {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def world(tmp_path_factory, default_embedder):
    """A gallery of Obama and Biden, and a collection tree with group photos, a stranger, a photo
    without a face, duplicates (one under the same name in another folder) and a broken file."""
    import cv2

    from facerec.identity.enrolment import enrol_people
    from facerec.identity.gallery import Gallery

    root = tmp_path_factory.mktemp("collection")
    people = root / "people"
    _save(sample("obama.jpg"), people / "Obama" / "obama.jpg")
    _save(sample("obama2.jpg"), people / "Obama" / "obama2.jpg")
    _save(sample("biden.jpg"), people / "Biden" / "biden.jpg")
    g = Gallery.for_embedder(default_embedder)
    enrol_people(g, default_embedder, [("Obama", [str(people / "Obama" / "obama.jpg"), str(people / "Obama" / "obama2.jpg")]),
                                      ("Biden", [str(people / "Biden" / "biden.jpg")])], progress=False)
    g.save(root / "family.npz")

    photos = root / "photos"
    def tile(rgb):  # a square from the top (where these portraits have the face), not stretched
        h, w = rgb.shape[:2]
        s = min(h, w)
        square = rgb[:s, (w - s) // 2:(w - s) // 2 + s]
        return cv2.resize(square, (400, 400), interpolation=cv2.INTER_AREA)

    group = np.concatenate([tile(sample("biden.jpg")), tile(sample("obama3.jpg")), tile(astronaut())], axis=1)
    _save(sample("obama3.jpg"), photos / "obama3.jpg")
    _save(group, photos / "2019" / "group.jpg")
    _save(astronaut(), photos / "2019" / "astronaut.png")
    _save(np.full((300, 400, 3), 90, np.uint8), photos / "2020" / "trip" / "wall.png")
    (photos / "2020" / "obama3_copy.jpg").write_bytes((photos / "obama3.jpg").read_bytes())
    (photos / "2021").mkdir()
    (photos / "2021" / "obama3.jpg").write_bytes((photos / "obama3.jpg").read_bytes())
    (photos / "2020" / "broken.jpg").write_bytes(b"not a jpeg at all")
    return root


EXPECTED = {  # photo -> the names of its faces
    "obama3.jpg": ["Obama"],
    "2019/group.jpg": ["Biden", "Obama", "Unknown"],
    "2019/astronaut.png": ["Unknown"],
    "2020/obama3_copy.jpg": ["Obama"],
    "2021/obama3.jpg": ["Obama"],
}


def test_identify_a_collection_tree(world, capsys):
    from facerec.cli import main

    photos, out = world / "photos", world / "out"
    before = _digests(photos)
    args = ["identify", str(world / "family.npz"), str(photos), "--recursive", "--output", str(out / "results.csv"),
            "--sort-into", str(out / "sorted"), "--html", str(out / "page.html"), "--report", str(out / "report")]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "broken.jpg: not an image" in printed

    rows = list(csv.DictReader((out / "results.csv").open()))
    assert set(rows[0]) >= {"path", "face", "box", "name", "probability", "distance"}
    by_photo = {}
    for r in rows:
        by_photo.setdefault(str(Path(r["path"]).relative_to(photos)), []).append(r)
    assert set(by_photo) == set(EXPECTED) | {"2020/trip/wall.png", "2020/broken.jpg"}
    for photo, names in EXPECTED.items():
        assert sorted(r["name"] for r in by_photo[photo]) == names, photo
        assert [int(r["face"]) for r in by_photo[photo]] == list(range(len(names)))
        assert all(len(r["box"].split()) == 4 and float(r["distance"]) >= 0 for r in by_photo[photo])
    for photo, note in (("2020/trip/wall.png", "no face found"), ("2020/broken.jpg", "not an image")):
        (r,) = by_photo[photo]
        assert r["face"] == "" and r["name"] == "" and note in r["note"]

    sorted_dir = out / "sorted"
    listing = {d.name: sorted(p.name for p in d.iterdir()) for d in sorted_dir.iterdir()}
    assert set(listing) == {"Obama", "Biden", "Unknown"}
    assert listing["Biden"] == ["group.jpg"]
    assert sorted(listing["Unknown"]) == ["astronaut.png", "group.jpg"]
    obama = listing["Obama"]
    assert len(obama) == 4 and {"group.jpg", "obama3.jpg", "obama3_copy.jpg"} <= set(obama)
    assert all((sorted_dir / "Obama" / n).is_symlink() for n in obama)  # links, not copies
    assert _digests(photos) == before  # the originals are byte-for-byte unchanged

    # A rerun adds nothing and overwrites nothing; a file of the user's in the way is kept.
    (sorted_dir / "Biden" / "group.jpg").unlink()
    (sorted_dir / "Biden" / "group.jpg").write_bytes(b"the user's own file")
    assert main(args) == 0
    assert "already there" in capsys.readouterr().out
    assert (sorted_dir / "Biden" / "group.jpg").read_bytes() == b"the user's own file"
    assert len(list((sorted_dir / "Biden").iterdir())) == 2  # the photo under a tagged name
    assert _digests(photos) == before

    page = (out / "page.html").read_text()
    assert page.count("<section") == 3 and page.count("data:image/jpeg;base64,") == 7
    assert "../photos/2019/group.jpg" in page
    assert "Unknown" in (out / "report" / "summary.txt").read_text()
    assert (out / "report" / "distances.png").stat().st_size > 1000


def test_cluster_and_name_a_cluster(world, capsys):
    from facerec.cli import main
    from facerec.identity.gallery import Gallery

    photos, out = world / "photos", world / "clusters"
    assert main(["cluster", str(photos), "-r", "--output", str(out / "clusters.csv"),
                 "--html", str(out / "clusters.html")]) == 0
    capsys.readouterr()
    rows = [r for r in csv.DictReader((out / "clusters.csv").open()) if r["face"] != ""]
    assert len(rows) == 7
    obama = {r["cluster"] for r in rows if "obama3" in r["path"]}
    assert len(obama) == 1 and obama != {""}  # four photos of Obama: one cluster
    (number,) = obama
    others = [r for r in rows if r["cluster"] == number and "obama3" not in r["path"]]
    assert len(others) <= 1  # at most the Obama of the group photo joins; no one else
    stranger = [r for r in rows if "astronaut" in r["path"]]
    assert all(r["cluster"] != number for r in stranger)

    gallery = out / "named.npz"
    assert main(["enrol", str(gallery), "--from-clusters", str(out / "clusters.csv"), "--name", f"{number}=Barack"]) == 0
    assert dict(Gallery.load(gallery).people())["Barack"] >= 4
    assert main(["enrol", str(gallery), "--from-clusters", str(out / "clusters.csv"), "--name", "99=Nobody"]) == 1
    assert "no cluster 99" in capsys.readouterr().err


def test_outputs_are_checked_before_any_work(world, capsys):
    from facerec.cli import main

    assert main(["identify", str(world / "family.npz"), str(world / "photos"), "--output", "r.txt"]) == 1
    assert "csv or .jsonl" in capsys.readouterr().err
    assert main(["identify", str(world / "family.npz"), str(world / "nowhere")]) == 1
    assert "no such file or folder" in capsys.readouterr().err
    taken = world / "taken.txt"
    taken.write_text("mine")
    assert main(["identify", str(world / "family.npz"), str(world / "photos"), "--sort-into", str(taken)]) == 1
    assert "is a file, not a folder" in capsys.readouterr().err and taken.read_text() == "mine"
    same = str(world / "same.csv")
    assert main(["identify", str(world / "family.npz"), str(world / "photos"), "-o", same, "--sort-into", same]) == 1
    assert "is also the --output file" in capsys.readouterr().err and not Path(same).exists()


def test_threshold_is_the_chance_a_name_is_right(world, capsys):
    """--threshold P names a face only when the chance the name is right is at least P; every
    answer, Unknown included, carries that chance; a P that is not a chance is refused at once."""
    import json

    from facerec.cli import main

    out = world / "group.jsonl"
    photo = str(world / "photos" / "2019" / "group.jpg")
    assert main(["identify", str(world / "family.npz"), photo, "-o", str(out)]) == 0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert sorted(r["name"] for r in rows) == EXPECTED["2019/group.jpg"]
    assert all(0.5 <= r["probability"] <= 1 for r in rows)  # each answer is likelier right than not
    stranger = next(r for r in rows if r["name"] == "Unknown")
    # --threshold 0 names every face after its likeliest person: the stranger too, and says how unlikely that is.
    assert main(["identify", str(world / "family.npz"), photo, "-o", str(out), "--threshold", "0"]) == 0
    loose = {r["box"][0]: r for r in map(json.loads, out.read_text().splitlines())}
    assert "Unknown" not in [r["name"] for r in loose.values()]
    assert loose[stranger["box"][0]]["probability"] == pytest.approx(1 - stranger["probability"], abs=1e-3)
    capsys.readouterr()
    with pytest.raises(SystemExit) as stop:
        main(["identify", str(world / "family.npz"), photo, "--threshold", "1.5"])
    err = capsys.readouterr().err
    assert stop.value.code == 2 and "1.5 must be a number from 0 to 1" in err and len(err.strip().splitlines()) == 1


def test_one_photo_and_jsonl(world, capsys):
    import json

    from facerec.cli import main

    out = world / "one.jsonl"
    assert main(["identify", str(world / "family.npz"), str(world / "photos" / "obama3.jpg"), "-o", str(out)]) == 0
    (row,) = [json.loads(line) for line in out.read_text().splitlines()]
    assert row["name"] == "Obama" and row["face"] == 0 and len(row["box"]) == 4
    assert "sub-folder" not in capsys.readouterr().out


def test_classify_reads_one_photo_and_a_collection_tree(world, tmp_path, capsys):
    """CLASSIFY on one photo, and on year folders that are not people: every face named, not scored."""
    from facerec.cli.classify import main

    people = world / "people"
    clf = tmp_path / "clf.npz"
    assert main(["TRAIN", str(people), "default", str(clf)]) == 0
    capsys.readouterr()
    assert main(["CLASSIFY", str(world / "photos" / "obama3.jpg"), "default", str(clf)]) == 0
    out = capsys.readouterr().out
    assert "Obama" in out and "obama3.jpg" in out and "does not exist" not in out
    assert main(["CLASSIFY", str(world / "photos"), "default", str(clf), "--report", str(tmp_path / "r"),
                 "--output", str(tmp_path / "r.csv")]) == 0
    out = capsys.readouterr().out
    assert "read as a collection" in out and "accuracy" not in out.lower()
    assert "group.jpg" in out and (tmp_path / "r" / "summary.txt").exists()
    # 7 faces (3 in the group photo), a photo without a face, a broken file: a row each
    assert len((tmp_path / "r.csv").read_text().splitlines()) == 1 + 9


def test_a_file_name_that_is_not_utf8_goes_through_every_output(world, tmp_path, capsys):
    import os

    from facerec.cli import main
    from facerec.collections.results_file import read_rows

    odd = tmp_path / "odd"
    odd.mkdir()
    name = os.fsdecode(b"caf\xe9\nobama.jpg")  # not UTF-8, and a line break
    (odd / name).write_bytes((world / "photos" / "obama3.jpg").read_bytes())
    out, page, report = tmp_path / "r.csv", tmp_path / "p.html", tmp_path / "rep"
    assert main(["identify", str(world / "family.npz"), str(odd), "-o", str(out), "--html", str(page),
                 "--report", str(report)]) == 0
    (row,) = read_rows(out)
    assert Path(row["path"]) == odd / name and row["name"] == "Obama"  # the path reads back whole
    page.read_bytes().decode("utf-8")  # the page stays valid UTF-8
    assert "caf%E9%0Aobama.jpg" in page.read_text()
    assert main(["cluster", str(odd), "-o", str(tmp_path / "c.csv")]) == 0
    assert "Traceback" not in capsys.readouterr().err
    # Issue 23, finding 7: sorting such a photo crashed (UnicodeEncodeError), for identify and cluster.
    assert main(["identify", str(world / "family.npz"), str(odd), "--sort-into", str(tmp_path / "sorted")]) == 0
    assert (tmp_path / "sorted" / "Obama" / name).is_symlink()
    assert main(["cluster", str(odd), "--sort-into", str(tmp_path / "clusters")]) == 0


def test_sorting_refuses_a_person_folder_that_links_elsewhere_and_says_why_no_photo_is_read(world, tmp_path, capsys):
    """Issue 23, finding 15: a person folder in the sort folder that is a link would put the links
    wherever it points; photos inside the sort folder were reported as "no photos found"."""
    from facerec.cli import main

    sorted_ = tmp_path / "sorted"
    sorted_.mkdir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (sorted_ / "Obama").symlink_to(elsewhere)
    photo = str(world / "photos" / "obama3.jpg")
    assert main(["identify", str(world / "family.npz"), photo, "--sort-into", str(sorted_)]) == 1
    assert "is a link to another folder" in capsys.readouterr().err and not list(elsewhere.iterdir())
    inside = sorted_ / "Biden"
    inside.mkdir()
    (inside / "x.jpg").write_bytes((world / "photos" / "obama3.jpg").read_bytes())
    assert main(["identify", str(world / "family.npz"), str(inside), "--sort-into", str(sorted_)]) == 1
    assert "inside the --sort-into folder" in capsys.readouterr().err
