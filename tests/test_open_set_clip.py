"""The hidden-clip situation: 3 enrolled people and strangers drifting over a grey frame; no stranger is named."""
import json

import numpy as np
import pytest

from conftest import shared

FPS, SECONDS_EACH, SIZE = 15, 1.2, (640, 360)


def _render(photos, path):
    """Each photo drifting across a grey 640x360 frame for SECONDS_EACH, one after another."""
    import cv2

    from facerec import load_image

    w, h = SIZE
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), FPS, (w, h))
    n = int(FPS * SECONDS_EACH)
    for k, photo in enumerate(photos):
        rgb = load_image(photo)
        rgb = cv2.resize(rgb, (220, 220), interpolation=cv2.INTER_AREA)
        for i in range(n):
            frame = np.full((h, w, 3), 128, np.uint8)
            x, y = 60 + (300 * i) // n, 40 + 40 * (k % 3)
            frame[y:y + 220, x:x + 220] = rgb
            writer.write(np.ascontiguousarray(frame[:, :, ::-1]))
    writer.release()
    return path


@pytest.fixture(scope="module")
def scene(tmp_path_factory):
    dev, unknown = shared("lfw-dev"), shared("lfw-unknown")
    root = tmp_path_factory.mktemp("hidden-clip")
    people = sorted(p for p in dev.iterdir() if p.is_dir() and len(list(p.glob("*.jpg"))) >= 7)[:3]
    shots, truth = [], []
    for person in people:
        photos = sorted(person.glob("*.jpg"))
        (root / "people" / person.name).mkdir(parents=True)
        for p in photos[:6]:
            (root / "people" / person.name / p.name).write_bytes(p.read_bytes())
        shots.append(photos[6]); truth.append(person.name)  # a photo not enrolled
    strangers = sorted(p for p in unknown.iterdir() if p.is_dir())[:6]
    for s in strangers:
        shots.append(sorted(s.glob("*.jpg"))[0]); truth.append(None)
    order = np.random.default_rng(3).permutation(len(shots))
    shots, truth = [shots[i] for i in order], [truth[i] for i in order]
    return root, _render(shots, root / "clip.mp4"), truth


def _named_strangers(recognition_file, clip, truth, log, threshold=None):
    from facerec import Recognizer
    from facerec.video.realtime import run_video

    run_video(str(clip), Recognizer.load(recognition_file, threshold=threshold), log=log, display=False)
    events = [json.loads(line) for line in log.read_text().splitlines()]
    wrong, known_named = [], set()
    for e in events:
        shot = min(int((e["start_s"] + 0.05) // SECONDS_EACH), len(truth) - 1)
        if truth[shot] is None and e["name"] != "Unknown":
            wrong.append((shot, e["name"], e["start_s"], e["end_s"]))
        if truth[shot] is not None and e["name"] == truth[shot]:
            known_named.add(truth[shot])
    return wrong, known_named, len(events)


@pytest.mark.slow
def test_no_stranger_is_named_by_a_classifier_or_a_gallery(scene):
    from facerec import train_classifier
    from facerec.identity.enrolment import enrol_people
    from facerec.identity.gallery import Gallery
    from facerec.people_folders import read_people
    from facerec import load_embedder

    root, clip, truth = scene
    train_classifier(root / "people").save(root / "people.npz")
    emb = load_embedder("default")
    gallery = Gallery.for_embedder(emb)
    enrol_people(gallery, emb, read_people(root / "people"), progress=False)
    gallery.save(root / "gallery.npz")
    # The instrument can fail: a gallery told to name a face whatever its chance names strangers.
    wrong, _, _ = _named_strangers(root / "gallery.npz", clip, truth, root / "loose.jsonl", threshold=0.0)
    print(f"\nloose rule: strangers named: {wrong}")
    assert wrong
    for name in ("people.npz", "gallery.npz"):
        wrong, known, n = _named_strangers(root / name, clip, truth, root / f"{name}.jsonl")
        print(f"\n{name}: {n} appearances; strangers named: {wrong}; known people named: {sorted(known)}")
        assert wrong == []
        assert len(known) >= 2  # the rule still names the people it knows
