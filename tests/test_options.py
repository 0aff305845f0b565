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
