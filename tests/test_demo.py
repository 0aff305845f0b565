"""`make demo`: the main job end to end on registry photos, names right in the video."""
import pytest

from facerec.samples import find


def test_demo_names_obama_and_stops_the_stranger(tmp_path, monkeypatch):
    if find() is None:
        pytest.skip("face_recognition sample photos not fetched (run: python -m facerec.samples)")
    from facerec.demo import run_demo

    lines = []
    (tmp_path / "demo" / "aligned").mkdir(parents=True)  # an earlier demo's output is replaced
    (tmp_path / "demo" / "events.jsonl").write_text("stale")
    (tmp_path / "demo" / "aligned" / "stale.png").write_text("stale")
    result = run_demo(tmp_path / "demo", log=lines.append)
    assert "stale" not in (tmp_path / "demo" / "events.jsonl").read_text()
    assert not (tmp_path / "demo" / "aligned" / "stale.png").exists()
    names = [e["name"] for e in result["events"]]
    assert "Barack_Obama" in names and "Unknown" in names
    assert "Joe_Biden" not in names  # he is in the gallery, not in the clip
    assert result["annotated"].stat().st_size > 10_000
    assert any("Annotated video:" in line for line in lines)


def test_demo_leaves_a_folder_of_the_users_alone(tmp_path):
    from facerec import FacerecError
    from facerec.demo import run_demo

    mine = tmp_path / "holiday"
    (mine / "aligned").mkdir(parents=True)
    (mine / "aligned" / "keep.png").write_text("keep")
    (mine / "IMG_0001.jpg").write_text("mine")
    with pytest.raises(FacerecError, match="files the demo did not write"):
        run_demo(mine, log=lambda *_: None)
    assert (mine / "IMG_0001.jpg").read_text() == "mine" and (mine / "aligned" / "keep.png").exists()
    (tmp_path / "a-file").write_text("mine")
    with pytest.raises(FacerecError, match="is a file"):
        run_demo(tmp_path / "a-file", log=lambda *_: None)
    assert (tmp_path / "a-file").read_text() == "mine"
