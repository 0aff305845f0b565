"""Every number an option takes is checked before any work (issue 23, finding 14), and a refusal
is one line and exit 2, for the facerec command and FaceNet's scripts alike."""
import pytest

CASES = [
    ("realtime", "--classifier", "g.npz", "--max-frames", "0"),
    ("realtime", "--classifier", "g.npz", "--max-frames", "-1"),
    ("realtime", "--classifier", "g.npz", "--read-timeout", "inf"),
    ("realtime", "--classifier", "g.npz", "--read-timeout", "nan"),
    ("realtime", "--classifier", "g.npz", "--detect-every", "0"),
    ("realtime", "--classifier", "g.npz", "--min-face-size", "5"),
    ("serve", "--gallery", "g.npz", "--max-megapixels", "inf"),
    ("serve", "--gallery", "g.npz", "--max-upload-mb", "-1"),
    ("serve", "--gallery", "g.npz", "--port", "70000"),
    ("verify", "a.jpg", "b.jpg", "--threshold", "nan"),
    ("verify", "a.jpg", "b.jpg", "--threshold", "1.5"),
    ("verify", "a.jpg", "b.jpg", "--max-distance", "-1"),
    ("pairs", "photos", "--folds", "0"),
    ("embed", "photos", "-o", "f.parquet", "--batch-size", "0"),
    ("embed", "photos", "-o", "f.parquet", "--batch-size", "-5"),
    ("embed", "photos", "-o", "f.parquet", "--workers", "-2"),
    ("identify", "g.npz", "photos", "--threshold", "1.5"),
    ("identify", "g.npz", "photos", "--batch-size", "x"),
    ("cluster", "photos", "--pair-rate", "1"),
    ("enrol", "g.npz", "people", "--false_accept", "inf"),
    ("classify", "TRAIN", "people", "default", "c.npz", "--threshold", "-0.1"),
    ("classify", "CLASSIFY", "people", "default", "c.npz", "--batch_size", "0"),
    ("align", "in", "out", "--workers", "-2"),
    ("align", "in", "out", "--margin", "-1"),
    ("validate", "lfw", "default", "--lfw_nrof_folds", "1"),
]


@pytest.mark.parametrize("args", CASES, ids=[" ".join(c) for c in CASES])
def test_a_number_out_of_range_is_one_line_and_exit_2(args, capsys, tmp_path, monkeypatch):
    from facerec.cli import main

    monkeypatch.chdir(tmp_path)  # nothing of the arguments exists: refused before any is looked at
    with pytest.raises(SystemExit) as stop:
        main(list(args))
    err = capsys.readouterr().err
    assert stop.value.code == 2 and len(err.strip().splitlines()) == 1 and "error: argument" in err, err
    assert list(tmp_path.iterdir()) == []


def test_pairs_refuses_folds_whose_people_cannot_give_the_pairs_asked(tmp_path, capsys):
    """A fold with nobody of two photos crashed (ValueError), and one with too few distinct pairs
    never ended: both are now one line."""
    import shutil

    from faces import sample
    from facerec.cli import main
    from facerec.samples import find

    sample("obama.jpg")
    photos = {"Obama": ["obama.jpg", "obama2.jpg"], "Biden": ["biden.jpg"], "Other": ["obama3.jpg"],
              "Fourth": ["obama_partial_face.jpg"]}
    for person, files in photos.items():
        (tmp_path / "lfw" / person).mkdir(parents=True)
        for k, f in enumerate(files, 1):
            shutil.copy(find() / f, tmp_path / "lfw" / person / f"{person}_{k:04d}.jpg")
    for per_fold in ("1", "5"):
        assert main(["pairs", str(tmp_path / "lfw"), str(tmp_path / "pairs.txt"), "--folds", "2",
                     "--per_fold", per_fold]) == 1
        err = capsys.readouterr().err
        assert "fewer than --per_fold" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "pairs.txt").exists()


def test_every_long_option_takes_either_spelling_and_help_shows_one(capsys):
    from facerec.cli import build_parser
    from facerec.cli.classify import parse_arguments

    identify = ["identify", "g.npz", "photos"]
    facerec = build_parser()
    assert facerec.parse_args([*identify, "--batch_size", "3", "--no_cache"]).batch_size == 3
    assert facerec.parse_args([*identify, "--batch-size=4"]).batch_size == 4
    assert parse_arguments(["TRAIN", "d", "default", "c.npz", "--batch-size", "5"]).batch_size == 5
    with pytest.raises(SystemExit):
        facerec.parse_args(["identify", "--help"])
    shown = capsys.readouterr().out
    assert "--batch-size" in shown and "--batch_size" not in shown
    assert facerec.parse_args([*identify, "--", "--no_cache"]).paths[-1] == "--no_cache"  # after --: a name
