"""Appearances: a tracked face's life as events, in one schema for the real-time tool and the
service's cameras, and the one writer of events logs.

A track is announced ("appeared") once it has a name, again when its name changes ("renamed"),
and closed ("left") when it ends.  Every event is a dict with the same keys:

    type         appeared | renamed | left
    camera       the camera's name (the real-time tool: its --source)
    appearance   "<camera>-<generation>-<track>": unique while the camera runs
    track        the tracker's id of the face
    name         a person's name, or Unknown
    probability  the identifier's, for the name it considered
    distance     to the nearest enrolled face (null when there is none)
    masked       whether the face wore a mask (then compared with the enrolled faces rendered masked)
    soft         whether most of its faces were too blurred to enrol (then weighed with the
                 model's soft-face statistics, and named only where a sharp face would be)
    box          [x1, y1, x2, y2] where the face is (was, for left)
    start, end   wall-clock times (Unix seconds) the face was first seen and left (end: null before)
    start_s, end_s   the same as positions in the video, in seconds from its start
    frames       frames the tracker followed the face across, first sighting to last (so far)
"""
from __future__ import annotations

import json
import os
import queue
import threading
import time
from pathlib import Path

import numpy as np

from ..errors import FacerecError
from ..identity.protocol import PENDING

EVENT_KEYS = ("type", "camera", "appearance", "track", "name", "probability", "distance", "masked", "soft", "box",
              "start", "end", "start_s", "end_s", "frames")


def looks_like_events(head: bytes) -> bool:
    """Whether a file's first bytes are an events log's (a log is added to; a document is not)."""
    return head.startswith(b'{"type": ') and b'"appearance": ' in head.split(b"\n", 1)[0]


class Appearances:
    """Turns a FaceTracker's tracks, frame after frame, into appearance events.

    ``update`` takes the tracks visible in a frame, those that just ended, the tracker's number of
    the frame and its position in the video (seconds), and returns the events they make."""

    def __init__(self, camera: str, generation: int = 0):
        self.camera, self.generation = str(camera), generation
        self._announced: dict = {}  # track id -> the name last announced
        self._seen: dict = {}       # track id -> [wall clock, position] first seen, position last detected

    def update(self, visible, ended, index: int, seconds: float) -> list[tuple[dict, object]]:
        """(event, track) for every appearance that appeared, was renamed or left."""
        now = time.time()
        events = self.ended(ended, now)
        for t in visible:
            seen = self._seen.setdefault(t.id, [now, seconds, seconds])
            if t.last_seen == index:  # found in this frame (not only carried over from an earlier one)
                seen[2] = seconds
            if t.name == PENDING:  # not embedded yet
                continue
            if t.id not in self._announced:
                self._announced[t.id] = t.name
                events.append((self.event("appeared", t), t))
            elif self._announced[t.id] != t.name:
                self._announced[t.id] = t.name
                events.append((self.event("renamed", t), t))
        return events

    def ended(self, tracks, now: float | None = None) -> list[tuple[dict, object]]:
        """"left" for every ended track that had appeared; the others are forgotten."""
        now = time.time() if now is None else now
        events = []
        for t in tracks:
            if t.id in self._announced:
                events.append((self.event("left", t, end=now), t))
                del self._announced[t.id]
            self._seen.pop(t.id, None)
        return events

    def event(self, kind: str, track, end: float | None = None) -> dict:
        start, start_s, end_s = self._seen.get(track.id, (time.time(), 0.0, 0.0))
        return {"type": kind, "camera": self.camera, "appearance": f"{self.camera}-{self.generation}-{track.id}",
                "track": int(track.id), "name": track.name, "probability": round(float(track.probability), 4),
                "distance": round(float(track.distance), 4) if np.isfinite(track.distance) else None,
                "masked": bool(track.masked), "soft": bool(track.soft), "box": [round(float(v), 1) for v in track.box],
                "start": round(start, 3),
                "end": None if end is None else round(end, 3), "start_s": round(start_s, 3),
                "end_s": round(end_s, 3), "frames": int(track.last_seen - track.start_frame + 1)}


class EventsLog:
    """One JSON line per event, written and flushed a line at a time by a thread of its own.

    Each line goes out in one write, so a run killed at any moment leaves whole events up to
    then, and the log can be followed while it runs.  replace: the first open() empties the file
    (the real-time tool's log of one run); otherwise lines are appended (the service: a restarted
    service adds to the log it had), and a line left incomplete by a crash is ended first.
    Folders are created and the place checked when the log is made; the file is opened by open(),
    once the source is known to work, so a mistyped source keeps an earlier log.
    """

    def __init__(self, path, replace: bool = False):
        self.path = Path(path)
        self.replace = replace
        if self.path.is_dir():
            raise FacerecError(f"{self.path}: is a folder; name the events log file")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise FacerecError(f"{self.path}: cannot create the folder for the events log ({exc.strerror})") from exc
        if not os.access(self.path.parent, os.W_OK) or (self.path.exists() and not os.access(self.path, os.W_OK)):
            raise FacerecError(f"{self.path}: cannot write the events log there (permission denied)")
        self.written = self.lost = 0
        self.error: str | None = None
        self._f = None
        self._q: queue.Queue = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="events-log", daemon=True)

    def open(self) -> "EventsLog":
        try:
            self._f = open(self.path, "wb" if self.replace else "a+b")
        except OSError as exc:
            raise FacerecError(f"{self.path}: cannot write the events log there ({exc.strerror})") from exc
        self._f.seek(0, os.SEEK_END)
        if self._f.tell():
            self._f.seek(-1, os.SEEK_END)
            if self._f.read(1) != b"\n":
                self._f.write(b"\n")
        self._thread.start()
        return self

    def put(self, event: dict) -> None:
        if self._f is not None:
            self._q.put(event)

    def _run(self) -> None:
        while (event := self._q.get()) is not None:
            try:
                self._f.write(json.dumps(event, ensure_ascii=False).encode() + b"\n")
                self._f.flush()
                self.written += 1
            except OSError as exc:  # a full disk: reported (healthz, and check_written at the end)
                self.error = f"{exc.strerror or exc}"
                self.lost += 1

    def check_written(self) -> None:
        """Raise the one-line error for a log the system refused to write (after close())."""
        if self.error:
            lost = f"{self.lost} events" if self.lost else "the last events"
            raise FacerecError(f"cannot write {self.path}: {self.error}; {lost} could not be logged "
                               f"(the {self.written} before them are kept)")

    def close(self) -> None:
        if self._f is None:
            return
        self._q.put(None)
        self._thread.join(5)
        try:
            self._f.close()  # flushes what the buffer still holds: a full disk can refuse it here too
        except OSError as exc:
            self.error = self.error or f"{exc.strerror or exc}"
        self._f = None
