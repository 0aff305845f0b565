"""The real-time tool and the service's cameras write one event schema (video/appearances.py),
compared on the Hamilton clip: the same keys, the same types, the same people seen."""
import json
import time

import pytest

from conftest import shared
from facerec.video.appearances import EVENT_KEYS

pytestmark = [pytest.mark.slow, pytest.mark.shared_data]


def _types(event):
    return {k: type(event[k]).__name__ for k in EVENT_KEYS if event[k] is not None}


@pytest.fixture(scope="module")
def hamilton(tmp_path_factory):
    from facerec.identity.gallery import Gallery
    from facerec.recognizer import Recognizer

    video = shared("video")
    root = tmp_path_factory.mktemp("hamilton")
    rec = Recognizer.for_model("default")
    gallery = Gallery.for_embedder(rec.embedder)
    rec.enrol(gallery, [("Lin_Manuel_Miranda", [str(video / "lin-manuel-miranda.png")]),
                        ("Alex_Lacamoire", [str(video / "alex-lacamoire.png")])], progress=False)
    gallery.save(root / "hamilton.npz")
    return video / "short_hamilton_clip.mp4", root / "hamilton.npz", root


def test_real_time_tool_and_service_cameras_write_the_same_events(hamilton):
    from facerec.cli.realtime import main as realtime_main
    from facerec.serve.service import Service

    clip, gallery, root = hamilton
    assert realtime_main(["--source", str(clip), "--classifier", str(gallery), "--no-display",
                          "--log", str(root / "realtime.jsonl")]) == 0
    tool = [json.loads(line) for line in (root / "realtime.jsonl").read_text().splitlines()]

    served_log = root / "service.jsonl"

    def named_appearance_left() -> bool:
        lines = served_log.read_text().splitlines() if served_log.exists() else []
        return any('"left"' in line and '"Unknown"' not in line for line in lines)

    service = Service(gallery, cameras={"stage": str(clip)}, events_log=served_log).start()
    try:  # the camera plays the 9 s clip at its own pace and loops; a loop ends its appearances.
        # Wait (however slow the machine) for a whole pass and an appearance of someone named:
        # a busy camera names fewer of the frames, so what it sees is not fixed, only its schema.
        deadline = time.monotonic() + 300
        while not (service.cameras["stage"].feed.loops >= 1 and named_appearance_left()) \
                and time.monotonic() < deadline:
            time.sleep(0.5)
    finally:
        service.close()
    served = [json.loads(line) for line in served_log.read_text().splitlines()]

    assert tool and all(e["type"] == "left" for e in tool)  # the tool's log: one line per appearance
    left = [e for e in served if e["type"] == "left"]
    assert left and {"appeared", "left"} <= {e["type"] for e in served}
    for e in tool + served:
        assert set(EVENT_KEYS) <= set(e), e
    # The service adds its bus's number and time; nothing else differs.
    assert {tuple(sorted(set(e) - set(EVENT_KEYS))) for e in served} == {("id", "time")}
    assert {tuple(sorted(set(e) - set(EVENT_KEYS))) for e in tool} == {()}
    assert {tuple(sorted(_types(e).items())) for e in tool} == {tuple(sorted(_types(e).items())) for e in left}
    named = lambda events: {e["name"] for e in events if e["name"] != "Unknown"}  # noqa: E731
    print(f"\nreal-time tool: {len(tool)} appearances, named {sorted(named(tool))}; service camera: "
          f"{len(left)} appearances, named {sorted(named(left))}")
    assert "Lin_Manuel_Miranda" in named(tool)
    # The camera names no one the tool did not (it may miss someone brief, such as Alex's half
    # second at the start, when the machine is busy and it names fewer frames).
    assert named(left) and named(left) <= named(tool)
