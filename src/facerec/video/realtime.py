"""The real-time loop: frame source -> the Recognizer's tracker -> drawing, the annotated video and
the events log (one line per appearance, in the schema of video/appearances.py)."""
from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import FacerecError
from .appearances import Appearances, EventsLog
from .drawing import draw
from .sources import FrameSource


def display_available() -> bool:
    """False where a window cannot open: Linux with no X or Wayland display (OpenCV's Qt backend
    aborts the whole process there instead of raising)."""
    if sys.platform.startswith("linux"):
        return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    return True


@dataclass
class RunStats:
    frames: int
    seconds: float
    events: list
    dropped: int = 0
    notes: list = field(default_factory=list)
    stopped_early: str | None = None  # why a live source or a damaged file gave out (see FrameSource)

    @property
    def fps(self) -> float:
        return self.frames / self.seconds if self.seconds > 0 else 0.0


def looks_like_video(head: bytes) -> bool:
    """Whether a file's first bytes are a video container's (MP4/MOV, AVI, Matroska, MPEG program
    and transport streams): an earlier annotated video may be replaced, a document under that name
    may not.  A video of the user's cannot be told from one by its first bytes."""
    return (head[4:8] == b"ftyp" or (head[:4] == b"RIFF" and head[8:12] == b"AVI ") or head[:4] == b"\x1aE\xdf\xa3"
            or head[:4] == b"\x00\x00\x01\xba" or (len(head) > 188 and head[0] == head[188] == 0x47))


class AnnotatedVideo:
    """The annotated video, written under a hidden name beside output and renamed to output once
    finished (also when the run ends early: what was written is a playable video), so a killed
    run never leaves a file that looks complete and an older file of that name stays until then."""

    def __init__(self, output, fps: float, size):
        import cv2

        from ..files import current_umask, temporary_beside

        self.output, self.frames = Path(output), 0
        try:  # the suffix: OpenCV picks the container by it
            fd, tmp = temporary_beside(self.output, suffix=f".partial{self.output.suffix}")
        except OSError as exc:
            raise FacerecError(f"{output}: cannot write a video there ({exc.strerror})") from exc
        os.close(fd)
        os.chmod(tmp, 0o666 & ~current_umask())  # mkstemp's 0600, as a plain open() would not
        self.partial = Path(tmp)
        self.writer = cv2.VideoWriter(str(self.partial), cv2.VideoWriter_fourcc(*"mp4v"), fps, size)
        if not self.writer.isOpened():
            self.partial.unlink(missing_ok=True)
            raise FacerecError(f"{output}: cannot write a video there")

    def write(self, frame) -> None:
        from ..tensorflow_loader import quiet_output

        with quiet_output(fds=(2,)):  # FFmpeg's own lines on a full disk: close() says it in one
            self.writer.write(frame)
        self.frames += 1

    def close(self) -> None:
        # Released, the video is whole and playable whatever stopped the run; none written leaves
        # any older file of that name alone, and so does one the disk would not hold whole.
        from ..tensorflow_loader import quiet_output

        with quiet_output(fds=(2,)):
            self.writer.release()
        if self.frames and self._whole():
            os.replace(self.partial, self.output)
            return
        self.partial.unlink(missing_ok=True)
        if self.frames:
            raise FacerecError(f"cannot write {self.output}: the video was not written whole (a full disk?); "
                               f"nothing there was changed")

    def _whole(self) -> bool:
        """Whether the finished file plays back every frame written (OpenCV's writer reports no errors)."""
        from .sources import frames_in

        return frames_in(self.partial) >= self.frames


def check_output(output) -> Path | None:
    """The annotated video's path, its folder created; refused when it names a folder."""
    if not output:
        return None
    output = Path(output)
    if output.is_dir():
        raise FacerecError(f"{output}: is a folder; name the video file to write")
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise FacerecError(f"{output}: cannot create the folder for the annotated video ({exc.strerror})") from exc
    return output


class _Window:
    """An OpenCV window showing the frames; closed() when the user pressed q or Esc."""

    def __init__(self, title: str = "facerec"):
        self.title = title

    def show(self, frame) -> bool:
        import cv2

        cv2.imshow(self.title, frame)
        return cv2.waitKey(1) & 0xFF in (ord("q"), 27)

    def close(self) -> None:
        import cv2

        cv2.destroyAllWindows()


def _open(source, log, read_timeout) -> tuple[FrameSource, EventsLog | None]:
    """The source, then the log (emptied only once the source has opened: a mistyped --source
    keeps the old log)."""
    events = EventsLog(log, replace=True) if log else None  # a bad path stops nothing half-way
    src = FrameSource(str(source), read_timeout=read_timeout)
    try:
        if events is not None:
            events.open()
    except BaseException:
        src.close()
        raise
    return src, events


def run_video(source, recognizer, output=None, log=None, display: bool = True, max_frames: int | None = None,
              progress: bool = False, read_timeout: float | None = 10.0, **tracking) -> RunStats:
    """Frame source -> recognizer's tracker -> drawing, the annotated video, the events log.

    Missing folders for output and log are created.  stats.stopped_early says when the frames
    ran out before the source's end (a live source that stalled or disconnected, no frame for
    read_timeout seconds, a truncated file); callers that need the whole source should treat it
    as a failure, as real_time_face_recognition.py does.
    tracking: detect_every, embed_every, min_face_size (see FaceTracker).
    """
    tracker = recognizer.video(**tracking)
    notes = []
    if display and not display_available():
        display = False
        notes.append("no display found: running without a window")
    output = check_output(output)
    src, events = _open(source, log, read_timeout)
    loop = _Loop(src, tracker, Appearances(str(source)), events)
    try:
        video = AnnotatedVideo(output, src.fps, src.size) if output else None
        loop.run(video, _Window() if display else None, max_frames, progress)
    finally:
        loop.finish()
    if loop.n == 0 and not src.live:
        raise FacerecError(loop.stopped or f"{source}: no frame could be read (not a video OpenCV can decode)")
    if events is not None:
        events.check_written()
    return RunStats(loop.n, loop.seconds, loop.left, src.dropped, notes, loop.stopped)


class _Loop:
    """One pass over a source: each frame tracked, its appearances logged, drawn and shown."""

    def __init__(self, src, tracker, appearances, events):
        self.src, self.tracker, self.appearances, self.events = src, tracker, appearances, events
        self.n, self.seconds, self.stopped = 0, 0.0, None
        self.left: list = []  # the "left" events: one per appearance
        self.video = self.window = None
        self._t0 = time.perf_counter()

    def run(self, video, window, max_frames, progress) -> None:
        from ..progress import progress as progress_bar

        self.video, self.window = video, window
        bar = progress_bar(max_frames or self.src.frame_count, "Frames", unit="frames", enabled=progress)
        recent = []
        try:
            for index, frame in self.src:
                visible = self.tracker.step(np.ascontiguousarray(frame[:, :, ::-1]), index)
                self._log(self.appearances.update(visible, self.tracker.ended, index, index / self.src.fps))
                recent = (recent + [time.perf_counter()])[-30:]
                fps = (len(recent) - 1) / (recent[-1] - recent[0]) if len(recent) > 1 else None
                if self._show(frame, visible, fps):
                    break
                self.n += 1
                bar.update()
                if max_frames and self.n >= max_frames:
                    break
            else:  # the source gave out, rather than the user or --max-frames stopping it
                self.stopped = self.src.stopped_early()
        finally:
            bar.close()

    def _show(self, frame, visible, fps) -> bool:
        """Draw, write and show the frame; True when the user asked to stop."""
        if self.video is not None or self.window:
            draw(frame, visible, fps)
        if self.video is not None:
            self.video.write(frame)
        return bool(self.window and self.window.show(frame))

    def _log(self, events) -> None:
        for event, _ in events:
            if event["type"] == "left":
                self.left.append(event)
                if self.events is not None:
                    self.events.put(event)

    def finish(self) -> None:
        """End every track (the video is over), close the log, the video, the source, the window."""
        self.seconds = time.perf_counter() - self._t0
        try:
            self._log(self.appearances.ended(self.tracker.close()))
        finally:
            try:
                if self.events is not None:
                    self.events.close()
                if self.video is not None:
                    self.video.close()  # refuses a video the disk would not hold whole
            finally:
                self.src.close()
                if self.window:
                    self.window.close()
