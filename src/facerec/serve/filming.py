"""Enrolling a person from one of the service's cameras: a few seconds of its frames through
video.capture (the command's own choice of faces), shown first when asked (preview), enrolled on
confirmation with the very faces shown."""
from __future__ import annotations

import base64
import itertools
import threading
import time
from collections import OrderedDict

import numpy as np

from ..errors import FacerecError
from .uploads import Refused

KEEP = 8            # previews waiting for an answer; the oldest goes first
KEEP_FOR = 600.0    # seconds a preview waits
MAX_SECONDS = 30.0  # the longest recording one request may ask for


class Filming:
    """Recordings of the service's cameras and the previews waiting to be enrolled."""

    def __init__(self, service):
        self.service = service
        self._pending: OrderedDict = OrderedDict()  # id -> (name, camera, Capture, made at)
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def record(self, name: str, camera: str, seconds: float, faces: int):
        """A Capture of the one person in front of a camera for seconds (Refused when it cannot be)."""
        from ..video.capture import FaceCapture

        self.service.check_name(name)
        if camera not in self.service.cameras:
            raise Refused(404, f"no camera '{camera}' (cameras: {', '.join(self.service.cameras) or 'none'})")
        if not 0 < seconds <= MAX_SECONDS or not 1 <= faces <= 100:
            raise Refused(400, f"seconds must be over 0 and at most {MAX_SECONDS:g}, faces from 1 to 100")
        cam = self.service.cameras[camera]
        if not cam.filming.acquire(blocking=False):
            raise Refused(409, f"camera {camera} is already recording someone: try again in a moment")
        capture, frames = FaceCapture(self.service.recognizer.pipeline), 0
        try:
            # Numbered as the recording receives them: the feed's own numbers restart when it reconnects.
            for frames, (_, frame) in enumerate(cam.recording(seconds), 1):
                capture.add(np.ascontiguousarray(frame[:, :, ::-1]), frames - 1)
            result = capture.result(faces)
        except FacerecError as exc:  # nobody, two people, too few good faces, the camera down
            raise Refused(422, str(exc)) from None
        finally:
            cam.filming.release()
        result.fps = frames / seconds  # the frames this recording got, so a face's time is from its start
        return result

    def preview(self, name: str, camera: str, seconds: float, faces: int) -> dict:
        """Record, keep the chosen faces for a confirmation, and show them."""
        capture = self.record(name, camera, seconds, faces)
        with self._lock:
            self._expire()
            key = str(next(self._ids))
            self._pending[key] = (name, camera, capture, time.monotonic())
            while len(self._pending) > KEEP:
                self._pending.popitem(last=False)
        return {"capture": key, "name": name, "camera": camera, **describe(capture)}

    def enrol(self, name: str, camera: str, capture_id: str | None, seconds: float, faces: int) -> dict:
        """Enrol the faces of a preview (capture_id), or of a recording made now."""
        if capture_id is None:
            capture = self.record(name, camera, seconds, faces)
        else:
            with self._lock:
                self._expire()
                pending = self._pending.get(capture_id)
                if pending is None or pending[:2] != (name, camera):
                    raise Refused(404, f"no preview {capture_id} of {name} on camera {camera} (older than "
                                       f"{KEEP_FOR / 60:.0f} min, used, or of someone else): record again")
                del self._pending[capture_id]  # enrolled once
            try:
                return self._enrol(name, camera, pending[2])
            except BaseException:
                with self._lock:  # not enrolled: the preview may be tried again
                    self._pending[capture_id] = pending
                raise
        return self._enrol(name, camera, capture)

    def _enrol(self, name: str, camera: str, capture) -> dict:
        from ..identity.enrolment import filmed_faces

        svc = self.service
        known = svc.gallery.latest().faces_of(name)
        try:
            vectors, sources, masked, notes = filmed_faces(svc.recognizer.pipeline, name, capture,
                                                           f"camera {camera}", known)
        except FacerecError as exc:
            raise Refused(422, str(exc)) from None
        return {**svc.add_faces(name, vectors, sources, masked), "notes": notes, **describe(capture, pictures=False)}

    def _expire(self) -> None:
        now = time.monotonic()
        for key in [k for k, v in self._pending.items() if now - v[3] > KEEP_FOR]:
            del self._pending[key]


def describe(capture, pictures: bool = True) -> dict:
    """What was seen and the faces chosen (with pictures: each as a JPEG data URL), JSON-ready."""
    faces = []
    for c in capture.chosen:
        face = {"at_s": round(capture.at(c), 2), **c.quality.as_dict()}
        if pictures:
            face["picture"] = "data:image/jpeg;base64," + base64.b64encode(_jpeg(c.crop)).decode()
        faces.append(face)
    return {"looked_at": capture.searched, "with_face": capture.with_face, "person_faces": capture.person_faces,
            "refused": dict(capture.refused), "diversity": round(capture.diversity, 3), "faces": faces}


def _jpeg(rgb: np.ndarray, height: int = 128) -> bytes:
    import cv2

    small = cv2.resize(rgb, (max(1, round(rgb.shape[1] * height / rgb.shape[0])), height), interpolation=cv2.INTER_AREA)
    ok, data = cv2.imencode(".jpg", np.ascontiguousarray(small[:, :, ::-1]), [cv2.IMWRITE_JPEG_QUALITY, 85])
    return data.tobytes()
