"""One set of models for the whole service: a single inference thread that batches the work of
every camera and every request.

Why one thread.  The detector is not thread-safe as a whole (an MTCNN object keeps per-size
interpreters and a helper thread of its own: facerec.detection.mtcnn says "one per thread"), and
the LiteRT interpreters behind it and the embedder already spread one call over every core.  More
threads calling them at once would only queue on their locks and multiply their memory, so every
model call of the service goes through this one thread.  It takes what is waiting, runs the
detections (same-sized images in one detect_batch) and then one embedding call for the faces of
every camera and request that asked, and hands each caller its share.

Cameras come first.  A camera must keep its frame rate while clients post photos, so each round
takes every camera job waiting and at most ``request_batch`` request jobs, and a camera job that
arrives meanwhile is taken before the round's remaining request work (see _run).

Detectors are kept per image size (a few, least recently used dropped): MTCNN drops its P-Net
interpreters whenever the image size changes, so camera frames and uploaded photos sharing one
detector would rebuild them on every switch.
"""
from __future__ import annotations

import collections
import threading
import time
from dataclasses import dataclass, field

import numpy as np

from ..errors import FacerecError


class _Job:
    __slots__ = ("kind", "arg", "flip", "done", "result", "error")

    def __init__(self, kind: str, arg, flip=None):
        self.kind, self.arg, self.flip = kind, arg, flip
        self.done = threading.Event()
        self.result = self.error = None

    def finish(self, result=None, error: BaseException | None = None) -> None:
        self.result, self.error = result, error
        self.done.set()


@dataclass
class WorkerStats:
    rounds: int = 0
    detections: int = 0
    faces_embedded: int = 0
    largest_embedding_batch: int = 0
    busy_s: float = 0.0
    started: float = field(default_factory=time.monotonic)


class ModelWorker:
    """Runs detect and embed jobs on one thread; callers block until their job is done.

    Callers are other threads (requests, cameras): a job submitted from the model thread itself
    would wait for itself.

    >>> worker = ModelWorker(load_embedder("default"))          # doctest: +SKIP
    >>> worker.detect(image).boxes                               # doctest: +SKIP
    """

    def __init__(self, embedder, request_batch: int = 4, detectors: int = 4, min_face_size: int = 20,
                 max_embed_batch: int = 8):
        self.embedder = embedder
        self.request_batch = max(1, request_batch)
        # The embedder's interpreter keeps an arena the size of the largest batch it has run (about
        # 1 MB a face): batches are cut at max_embed_batch, and one that size is run at start, so
        # the service's memory does not step up hours later when a larger batch first comes.
        self.max_embed_batch = max(1, max_embed_batch)
        self.min_face_size = min_face_size
        self._max_detectors = max(1, detectors)
        self._detectors: collections.OrderedDict = collections.OrderedDict()
        self._camera: collections.deque = collections.deque()
        self._requests: collections.deque = collections.deque()
        self._cv = threading.Condition()
        self._stopping = False
        self.error: str | None = None  # set if the thread itself died
        self.stats = WorkerStats()
        self._thread = threading.Thread(target=self._loop, name="facerec-models", daemon=True)
        self._thread.start()

    # --- what callers use ------------------------------------------------------------------

    def detect(self, image: np.ndarray, camera: bool = False):
        """MTCNN Detections of one uint8 RGB image (20 px smallest face)."""
        return self._submit(_Job("detect", image), camera)

    def embed(self, chips: np.ndarray, flip: bool | None = None, camera: bool = False) -> np.ndarray:
        """Embeddings of aligned face chips (N, H, W, 3), batched with everyone else's."""
        chips = np.asarray(chips)
        if not len(chips):
            return np.zeros((0, self.embedder.dim), np.float32)
        return self._submit(_Job("embed", chips, flip), camera)

    @property
    def alive(self) -> bool:
        return self._thread.is_alive() and not self._stopping

    def close(self, timeout: float = 5.0) -> None:
        with self._cv:
            self._stopping = True
            self._cv.notify_all()
        self._thread.join(timeout)

    # --- the thread ------------------------------------------------------------------------

    def _submit(self, job: _Job, camera: bool):
        with self._cv:
            if self._stopping or not self._thread.is_alive():
                raise FacerecError("the model thread has stopped" + (f": {self.error}" if self.error else ""))
            (self._camera if camera else self._requests).append(job)
            self._cv.notify()
        job.done.wait()
        if job.error is not None:
            raise job.error
        return job.result

    def _take(self) -> tuple[list, list] | None:
        with self._cv:
            while not self._camera and not self._requests and not self._stopping:
                self._cv.wait()
            if self._stopping:
                return None
            cameras = list(self._camera)
            self._camera.clear()
            requests = [self._requests.popleft() for _ in range(min(self.request_batch, len(self._requests)))]
            return cameras, requests

    def _loop(self) -> None:
        try:
            h, w = self.embedder.input_size
            self.embedder.embed(np.zeros((self.max_embed_batch, h, w, 3), np.uint8), batch_size=self.max_embed_batch)
            while (taken := self._take()) is not None:
                t = time.perf_counter()
                cameras, requests = taken
                self._run(cameras)
                self._run(requests, yield_to_cameras=True)
                self.stats.rounds += 1
                self.stats.busy_s += time.perf_counter() - t
        except BaseException as exc:  # noqa: BLE001 - reported by /healthz; callers get an error
            self.error = f"{type(exc).__name__}: {exc}"
            raise
        finally:
            with self._cv:
                self._stopping = True
                left = list(self._camera) + list(self._requests)
                self._camera.clear()
                self._requests.clear()
            for job in left:
                job.finish(error=FacerecError("the service is stopping"))

    def _detector(self, shape):
        from ..detection import MTCNN

        key = shape[:2]
        det = self._detectors.pop(key, None)
        if det is None:
            det = MTCNN(min_face_size=self.min_face_size)
            while len(self._detectors) >= self._max_detectors:
                self._detectors.popitem(last=False)
        self._detectors[key] = det
        return det

    def _run(self, jobs: list[_Job], yield_to_cameras: bool = False) -> None:
        """Detections, then one embedding call per flip setting.  Cameras' frames of
        one size are detected together; requests' photos one by one (batching photos saves
        nothing measurable in MTCNN), and their work stops between groups when a camera is
        waiting: the rest goes back to the front of the queue, so a camera waits for at most one
        photo's detection or one embedding call."""
        groups: list = []
        by_shape: dict = {}
        by_flip: dict = {}
        for job in jobs:
            if job.kind == "detect":
                by_shape.setdefault(id(job) if yield_to_cameras else job.arg.shape, []).append(job)
            elif job.kind == "embed":
                by_flip.setdefault(job.flip, []).append(job)
        groups += [("detect", g) for g in by_shape.values()] + [("embed", g) for g in by_flip.values()]
        for n, (kind, group) in enumerate(groups):
            if yield_to_cameras and n and self._camera:
                with self._cv:
                    self._requests.extendleft(reversed([j for _, g in groups[n:] for j in g]))
                return
            if kind == "detect":
                det = self._detector(group[0].arg.shape)
                self._guarded(group, lambda *g: det.detect_batch([j.arg for j in g]))
                self.stats.detections += len(group)
            else:
                self._guarded(group, self._embed_all)

    def _embed_all(self, *group: _Job) -> list:
        chips = np.concatenate([j.arg for j in group])
        vectors = self.embedder.embed(chips, batch_size=self.max_embed_batch, flip=group[0].flip)
        self.stats.faces_embedded += len(chips)
        self.stats.largest_embedding_batch = max(self.stats.largest_embedding_batch, len(chips))
        return np.split(vectors, np.cumsum([len(j.arg) for j in group])[:-1])

    @staticmethod
    def _guarded(group: list[_Job], fn) -> None:
        """fn(*group) -> one result per job; if the batch fails, each job is tried alone so one
        bad input fails only its own caller."""
        try:
            for job, result in zip(group, fn(*group)):
                job.finish(result)
            return
        except Exception as exc:  # noqa: BLE001 - handed to the caller that sent it
            if len(group) == 1:
                group[0].finish(error=exc)
                return
        for job in group:
            try:
                job.finish(fn(job)[0])
            except Exception as exc:  # noqa: BLE001
                job.finish(error=exc)


class SharedDetector:
    """The detector of the service's Recognizers (their pipelines, trackers included): detection
    on the shared model thread."""

    def __init__(self, worker: ModelWorker, camera: bool = True):
        self.worker, self.camera = worker, camera

    def detect(self, image):
        return self.worker.detect(image, camera=self.camera)


class SharedEmbedder:
    """The service's embedder as a Recognizer sees it: every attribute is the real embedder's,
    but embed() runs on the shared model thread, batched with the other cameras' faces."""

    def __init__(self, worker: ModelWorker, camera: bool = True):
        self._worker, self._camera = worker, camera

    def __getattr__(self, name):
        return getattr(self._worker.embedder, name)

    def embed(self, chips, batch_size=None, flip=None):
        return self._worker.embed(chips, flip=flip, camera=self._camera)
