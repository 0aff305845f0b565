"""`make demo`: the main job end to end on registry photos, names right in the video."""
import pytest

from facerec.samples import find


def test_demo_names_obama_and_stops_the_stranger(tmp_path, monkeypatch):
    if find() is None:
        pytest.skip("face_recognition sample photos not fetched (run: python -m facerec.samples)")
    from facerec.demo import run_demo

    lines = []
    result = run_demo(tmp_path / "demo", log=lines.append)
    names = [e["name"] for e in result["events"]]
    assert "Barack_Obama" in names and "Unknown" in names
    assert "Joe_Biden" not in names  # he is in the gallery, not in the clip
    assert result["annotated"].stat().st_size > 10_000
    assert any("Annotated video:" in line for line in lines)
