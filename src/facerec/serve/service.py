"""The service without its HTTP layer: the gallery, the model thread, the cameras and the event
bus put together, and what each route asks of them (identify, verify, enrol, forget, health)."""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from ..errors import FacerecError
from .uploads import Refused


@dataclass
class Limits:
    """What one request may send: bytes of body, pixels of each image, photos per enrolment."""

    max_body_bytes: int = 20 * 1024 * 1024
    max_pixels: int = 40_000_000
    max_photos: int = 20
    photos_at_once: int = 2  # requests' photos decoded and looked at together: what bounds memory

    @classmethod
    def of(cls, max_upload_mb: float = 20, max_megapixels: float = 40, max_photos: int = 20) -> "Limits":
        """From the command line's units; each must be positive."""
        for value, option in ((max_upload_mb, "--max-upload-mb"), (max_megapixels, "--max-megapixels"),
                              (max_photos, "--max-photos")):
            if not value > 0:
                raise FacerecError(f"{option} {value}: must be more than 0")
        return cls(int(max_upload_mb * 2**20), int(max_megapixels * 1e6), int(max_photos))


class Service:
    """Everything `facerec serve` runs, for app.create_app to put behind HTTP.

    >>> service = Service("family.npz", cameras={"door": "0"}, events_log="events.jsonl")   # doctest: +SKIP
    >>> service.start(); ...; service.close()                                               # doctest: +SKIP
    """

    def __init__(self, gallery, cameras: dict | None = None, events_log=None, webhook: str | None = None,
                 api_key: str | None = None, limits: Limits | None = None, request_batch: int = 4,
                 detect_every: int = 2, min_face_size: int = 40, read_timeout: float = 10.0,
                 backoff=(1.0, 30.0), threshold: float | None = None):
        from ..embedding import load_embedder
        from ..files import refuse_output_over_input
        from ..recognizer import Recognizer
        from .cameras import Camera
        from .events import EventBus
        from .filming import Filming
        from .inference import ModelWorker, SharedDetector, SharedEmbedder
        from .live_gallery import LiveGallery

        if api_key is not None and len(api_key) < 8:
            raise FacerecError("--api-key: use at least 8 characters (python -c \"import secrets; "
                               "print(secrets.token_urlsafe())\" makes a good one)")
        refuse_output_over_input(events_log, [(gallery, "the gallery")] + [
            (source, f"camera {name}'s video") for name, source in (cameras or {}).items()], "--events")
        self.api_key = api_key
        self._photo_slots = None
        self.limits = limits or Limits()
        self.gallery = LiveGallery(gallery, threshold=threshold)  # a bad gallery file is refused before any model loads
        self.embedder = load_embedder(self.gallery.model_spec)
        self.gallery.check_model(self.embedder, str(gallery))
        self.bus = EventBus(events_log, webhook)
        self.worker = ModelWorker(self.embedder, request_batch=request_batch)
        # Requests name faces with the library's Recognizer, its models the shared thread's.
        self.recognizer = Recognizer(self.gallery, embedder=SharedEmbedder(self.worker, camera=False),
                                     detector=SharedDetector(self.worker, camera=False), source=str(gallery))
        self.cameras = {}
        try:
            for name, source in (cameras or {}).items():
                self.cameras[name] = Camera(name, source, self.worker, self.gallery, self.bus,
                                            detect_every=detect_every, min_face_size=min_face_size,
                                            read_timeout=read_timeout, backoff=backoff)
        except BaseException:
            self.close()
            raise
        self.filming = Filming(self)
        self.started = time.time()

    def start(self) -> "Service":
        for camera in self.cameras.values():
            camera.start()
        return self

    def close(self) -> None:
        for camera in self.cameras.values():
            camera.stop()
        self.bus.close()
        self.worker.close()

    # --- what the routes ask --------------------------------------------------------------

    def photo_slot(self):
        """Held while one uploaded photo is decoded and looked at: at most photos_at_once together,
        so a crowd of clients posting 40-megapixel photos waits rather than fills the memory."""
        if self._photo_slots is None:
            import threading

            self._photo_slots = threading.BoundedSemaphore(self.limits.photos_at_once)
        return self._photo_slots

    def identify_upload(self, data: bytes, what: str = "image") -> list[dict]:
        """identify() of an uploaded image file's bytes, decoded in a photo slot."""
        from .uploads import decode_image

        with self.photo_slot():
            return self.identify(decode_image(data, self.limits.max_pixels, what))

    def verify_uploads(self, a: bytes, b: bytes) -> dict:
        """verify() of two uploaded image files' bytes, decoded in a photo slot."""
        from .uploads import decode_image

        with self.photo_slot():
            return self.verify(decode_image(a, self.limits.max_pixels, "image_a"),
                               decode_image(b, self.limits.max_pixels, "image_b"))

    def identify(self, image: np.ndarray) -> list[dict]:
        """Every face of a photo: box, name (or Unknown), probability, distance, masked, soft."""
        return [{"box": [round(float(v), 1) for v in f.box], "name": f.name,
                 "probability": round(float(f.probability), 4),
                 "distance": round(float(f.distance), 4) if np.isfinite(f.distance) else None,
                 "masked": f.masked, "soft": f.soft}
                for f in self.recognizer.recognize(image)]

    def verify(self, a: np.ndarray, b: np.ndarray) -> dict:
        """Each photo's main face compared (Recognizer.verify), its detection and embedding on the
        shared model thread like every request's."""
        try:
            r = self.recognizer.verify(a, b)
        except FacerecError as exc:  # a photo without a face: the request was fine, the photo not
            raise Refused(422, str(exc)) from None
        return r.as_dict()

    @staticmethod
    def check_name(name: str) -> None:
        """Refused (400) unless name can be a person's (no paths, not Unknown, not too long)."""
        from .live_gallery import valid_name

        try:
            valid_name(name)
        except FacerecError as exc:
            raise Refused(400, str(exc)) from None

    def enrol(self, name: str, photos: list, replace: bool = False) -> dict:
        """Add (or with replace, set) a person's faces from (label, field, image file bytes) photos,
        each decoded in turn and let go once its faces are found (Refused when one is no image)."""
        from ..identity.enrolment import choose_person_faces
        from ..identity.enrolment_checks import left_out_strays, quality_problem
        from .uploads import decode_image

        self.check_name(name)
        if not photos:
            raise Refused(400, "send one or more photos in the form field 'photos'")
        if len(photos) > self.limits.max_photos:
            raise Refused(413, f"{len(photos)} photos: at most {self.limits.max_photos} per request")
        files = []
        pipeline = self.recognizer.pipeline
        for label, field, data in photos:
            with self.photo_slot():
                image = decode_image(data, self.limits.max_pixels, field)
                files.append(pipeline.faces(image, path=label, masked_renderings=True))
        known = self.gallery.current.faces_of(name) if not replace else np.zeros((0, self.embedder.dim), np.float32)
        vectors, sources, notes, masked = choose_person_faces(name, files, known, quality_problem)
        vectors, sources, masked, strays = left_out_strays(name, vectors, sources, masked, known, self.embedder)
        notes += strays
        if not vectors:
            raise Refused(422, f"no usable face in {'the photo' if len(photos) == 1 else 'any of the photos'}; "
                               f"{name} not enrolled" + (f" ({'; '.join(notes)})" if notes else ""))
        return {**self.add_faces(name, np.stack(vectors), sources, np.stack(masked), replace), "notes": notes}

    def add_faces(self, name: str, vectors, sources, masked, replace: bool = False) -> dict:
        """The faces into the live gallery (written at once): its answer and how many were added."""
        try:
            result = self.gallery.add(name, vectors, sources, replace=replace, masked=masked)
        except OSError as exc:
            raise FacerecError(f"could not write the gallery {self.gallery.path}: {exc.strerror or exc}") from exc
        return {**result, "added": len(vectors)}

    def forget(self, name: str) -> None:
        self.check_name(name)
        try:
            self.gallery.forget(name)
        except KeyError:
            raise Refused(404, f"'{name}' is not in the gallery") from None

    def health(self) -> dict:
        cameras = {name: c.status() for name, c in self.cameras.items()}
        down = [n for n, c in cameras.items() if c["state"] not in ("running", "starting")]
        ok = self.worker.alive
        status = "failing" if not ok else "degraded" if down else "ok"
        from .. import __version__

        up = time.time() - self.started
        return {"status": status, "version": __version__, "uptime_s": round(up, 1),
                "gallery": self.gallery.summary(),
                "models": {"alive": ok, "error": self.worker.error, "model": self.embedder.name,
                           "detections": self.worker.stats.detections,
                           "faces_embedded": self.worker.stats.faces_embedded,
                           "largest_embedding_batch": self.worker.stats.largest_embedding_batch,
                           "busy": round(self.worker.stats.busy_s / max(up, 1e-9), 3)},
                "cameras": cameras, "cameras_down": down, "events": self.bus.status()}
