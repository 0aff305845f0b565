"""The video tracker and appearances on scripted frames: no models, so each rule is seen alone."""
from types import SimpleNamespace

import numpy as np

from facerec.identity.protocol import UNKNOWN, Identities
from facerec.video.appearances import EVENT_KEYS, Appearances
from facerec.video.tracking import FaceTracker

PEOPLE = {"alice": np.eye(8, dtype=np.float32)[0], "bob": np.eye(8, dtype=np.float32)[1]}
STRANGER = np.eye(8, dtype=np.float32)[2]
_t = 2 * np.arcsin(0.45 / 2)  # 0.45 from alice: named alice by the scripted gallery (under 0.5)
LOOKALIKE = (np.cos(_t) * PEOPLE["alice"] + np.sin(_t) * np.eye(8, dtype=np.float32)[3]).astype(np.float32)


class ScriptedRecognizer:
    """Frames carry their number in pixel (0, 0); the script says which faces each shows."""

    def __init__(self, script):
        self.script = script  # frame number -> [(box, person or None for a stranger[, detector score])]
        self.detections = []  # frame numbers detection ran on
        self.embedder = SimpleNamespace(name="scripted", same_person_distance=0.4)  # no shipped statistics
        self.pipeline = SimpleNamespace(detect=self._detect, embed_and_measure=self._embed)

    def _faces(self, frame):
        return self.script.get(int(frame[0, 0, 0]), [])

    def _detect(self, frame):
        self.detections.append(int(frame[0, 0, 0]))
        faces = self._faces(frame)
        boxes = np.array([f[0] for f in faces], np.float32).reshape(-1, 4)
        scores = np.array([f[2] if len(f) > 2 else 1.0 for f in faces], np.float32)
        return SimpleNamespace(boxes=boxes, landmarks=np.zeros((len(boxes), 5, 2), np.float32), scores=scores)

    def _embed(self, frame, boxes, landmarks):
        by_box = {tuple(np.round(f[0], 1)): f[1] for f in self._faces(frame)}
        faces = {**PEOPLE, "lookalike": LOOKALIKE}
        vectors = np.stack([faces.get(by_box.get(tuple(np.round(b, 1))), STRANGER) for b in boxes])
        return vectors, np.full(len(boxes), np.nan)  # sharpness not measured: sharp

    def identify(self, vectors, masked=None, soft=None):
        names, dists = [], []
        for v in vectors:
            d = {n: float(np.linalg.norm(v - e)) for n, e in PEOPLE.items()}
            best = min(d, key=d.get)
            names.append(best if d[best] < 0.5 else UNKNOWN)
            dists.append(d[best])
        return Identities(names, np.ones(len(names)), np.array(dists))


def frame(number):
    f = np.zeros((120, 160, 3), np.uint8)
    f[0, 0, 0] = number
    return f


def run(script, frames, **settings):
    rec = ScriptedRecognizer(script)
    tracker = FaceTracker(rec, **{"detect_every": 1, "embed_every": 1, "min_face_size": 20, **settings})
    seen, ended = [], []
    for i in frames:
        visible = tracker.step(frame(i), i)
        seen.append([(t.id, t.name) for t in visible])
        ended += tracker.ended
    return rec, tracker, seen, ended


def test_a_moving_face_keeps_one_track_and_one_name():
    script = {i: [((10 + 3 * i, 20, 60 + 3 * i, 70), "alice")] for i in range(10)}
    _, _, seen, ended = run(script, range(10))
    assert {ids for frame_tracks in seen for ids, _ in frame_tracks} == {0}
    assert seen[-1] == [(0, "alice")] and not ended


def test_a_face_the_detector_was_unsure_of_appears_only_when_found_again():
    """A detection under the face check's SURE score that the check let through (a hand, once) is
    not shown, named or reported until a later detection finds it again; a sure one at once."""
    hand, face, other = (10, 20, 60, 70), (90, 20, 140, 70), (10, 80, 50, 118)
    script = {0: [(hand, None, 0.9), (face, "alice", 0.999)], 1: [(face, "alice"), (other, None, 0.9)],
              2: [(face, "alice"), (other, None, 0.9)], 3: [(face, "alice")]}
    _, _, seen, _ = run(script, range(4))
    assert seen[0] == seen[1] == [(1, "alice")]  # the hand, and the other face at its first detection
    assert sorted(seen[2]) == [(1, "alice"), (2, "Unknown")]  # found again: shown
    assert all(track != 0 for frame_tracks in seen for track, _ in frame_tracks)  # the hand never


def test_another_person_in_the_same_box_starts_a_new_appearance():
    box = (10, 20, 60, 70)
    script = {i: [(box, "alice" if i < 5 else "bob")] for i in range(10)}
    _, _, seen, ended = run(script, range(10))
    assert seen[4] == [(0, "alice")] and seen[5] == [(1, "bob")]
    assert [t.id for t in ended] == [0]  # alice's appearance ended at the change, not carried on


def test_a_lookalike_named_alike_still_starts_a_new_appearance():
    """Someone the gallery would name alice too, but farther from the track's recent faces than two
    photos of one person come: a new appearance, which earns a name on its own evidence (before,
    a face that got the track's own name never split it)."""
    box = (10, 20, 60, 70)
    script = {i: [(box, "alice" if i < 5 else "lookalike")] for i in range(10)}
    _, _, seen, ended = run(script, range(10))
    assert seen[4] == [(0, "alice")] and seen[5][0][0] == 1 and [t.id for t in ended] == [0]


def test_detection_keeps_its_pace_when_frames_are_skipped():
    """A live source read faster than it is named skips frames: detection still runs every
    detect_every frames that arrive, whatever their numbers (odd ones only, here: before, the
    detector never ran again once a track existed), and no more often."""
    script = {i: [((10, 20, 60, 70), "alice")] for i in range(20)}
    rec, _, _, _ = run(script, [1, 3, 5, 7, 9, 11], detect_every=2)
    assert rec.detections == [1, 5, 9]
    rec, _, _, _ = run(script, range(8), detect_every=2)
    assert rec.detections == [0, 2, 4, 6]  # consecutive frames: the schedule it always had


def test_appearances_announce_rename_and_close_in_one_schema():
    box = (10, 20, 60, 70)
    script = {i: [(box, "alice")] for i in range(4)}
    rec = ScriptedRecognizer(script)
    tracker = FaceTracker(rec, detect_every=1, embed_every=1, min_face_size=20)
    appearances = Appearances("door")
    events = []
    for i in range(4):
        visible = tracker.step(frame(i), i)
        events += appearances.update(visible, tracker.ended, i, i / 10)
    events += appearances.ended(tracker.close())
    kinds = [e["type"] for e, _ in events]
    assert kinds == ["appeared", "left"]
    left = events[-1][0]
    assert tuple(left) == EVENT_KEYS and left["name"] == "alice" and left["appearance"] == "door-0-0"
    assert left["start_s"] == 0.0 and left["end_s"] == 0.3 and left["frames"] == 4 and left["end"] >= left["start"]
    # A name that changes within one appearance is announced again.
    track = SimpleNamespace(id=7, name="alice", probability=0.9, distance=0.2, box=np.array(box), start_frame=0,
                            last_seen=0, masked=False, soft=False)
    a = Appearances("door")
    first = a.update([track], [], 0, 0.0)
    track.name = "bob"
    assert [e["type"] for e, _ in first + a.update([track], [], 1, 0.1)] == ["appeared", "renamed"]


def test_a_cut_ends_every_appearance_and_motion_does_not():
    """Two photos in turn make a cut; the same photo shifted and brightened (a pan, a flash) does not."""
    from skimage import data

    from facerec.video.cuts import CutDetector

    a = data.astronaut()[:360, :480]
    b = data.coffee()[:360, :480]
    detector = CutDetector()
    brighter = np.clip(a.astype(int) + 40, 0, 255).astype(np.uint8)
    seen = [detector.is_cut(f) for f in (a, np.roll(a, 12, axis=1), a, brighter, a, b, b, a)]
    assert seen == [False, False, False, False, False, True, False, True]


def test_the_tracker_ends_its_tracks_at_a_cut():
    from skimage import data

    box = (10, 20, 60, 70)
    script = {i: [(box, "alice")] for i in range(6)}
    rec = ScriptedRecognizer(script)
    tracker = FaceTracker(rec, detect_every=2, embed_every=1, min_face_size=20)
    scenes = [data.astronaut()[:120, :160], data.coffee()[:120, :160]]
    ended, ids = [], []
    for i in range(6):
        f = scenes[i // 3].copy()  # frames 0-2 one shot, 3-5 the next
        f[0, 0, 0] = i
        ids.append([t.id for t in tracker.step(f, i)])
        ended.append([t.id for t in tracker.ended])
    assert ids == [[0], [0], [0], [1], [1], [1]] and ended[3] == [0]
    assert rec.detections == [0, 2, 3, 4]  # detection at the cut, though frame 3 is not due


def test_another_face_in_the_same_box_splits_the_track_at_once():
    """A cut at the same place (the frame around the face unchanged): the face's own box changes
    picture and colours, so the track ends at that detection, before any embedding could mix the
    two people, even when the embedder would call them one person."""
    from skimage import data

    box = (40, 30, 104, 94)
    script = {i: [(box, "alice")] for i in range(8)}
    rec = ScriptedRecognizer(script)
    tracker = FaceTracker(rec, detect_every=1, embed_every=5, min_face_size=20)
    faces = [data.astronaut()[0:64, 180:244], data.coffee()[100:164, 200:264]]
    ids = []
    for i in range(8):
        f = np.full((120, 160, 3), 90, np.uint8)
        f[30:94, 40:104] = faces[i // 4]  # frames 0-3 one face, 4-7 another, in the same place
        f[0, 0, 0] = i
        ids.append([t.id for t in tracker.step(f, i)])
    assert ids == [[0]] * 4 + [[1]] * 4


def test_a_face_whose_picture_changes_by_half_as_much_is_embedded_again_at_once():
    """Between a face's own motion and another face: embedded at that detection, not embed_every
    frames later, so the embedding rule can end the appearance before it spans two people."""
    from skimage import data

    box = (40, 30, 104, 94)
    script = {i: [(box, "alice")] for i in range(8)}
    rec = ScriptedRecognizer(script)
    embedded = []
    embed = rec.pipeline.embed_and_measure
    rec.pipeline.embed_and_measure = lambda f, b, lm: (embedded.append(int(f[0, 0, 0])), embed(f, b, lm))[1]
    tracker = FaceTracker(rec, detect_every=1, embed_every=5, min_face_size=20)
    face, other = data.astronaut()[0:64, 180:244].astype(float), data.coffee()[100:164, 200:264].astype(float)
    for i in range(8):
        f = np.full((120, 160, 3), 90, np.uint8)
        f[30:94, 40:104] = face if i < 3 else 0.7 * face + 0.3 * other  # picture change 14 (of 20), colours 0.6
        f[0, 0, 0] = i
        tracker.step(f, i)
    assert embedded == [0, 3] and [t.id for t in tracker.tracks.tracks] == [0]
