"""Align a whole photo collection: FaceNet's align_dataset_mtcnn.py, resumable and robust.

Input: one sub-folder per person.  Output mirrors it: one PNG per face (FaceNet's box + margin
crop), a JSON sidecar beside each crop with its five landmarks in crop pixels (so the default
embedder can warp its own chip from the crop without detecting again), FaceNet's
``bounding_boxes_NNNNN.txt``, and ``align_failures.txt`` listing every image not aligned, with
the reason.
"""
from __future__ import annotations

import json
import os
import random
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .datasets import sidecar_path
from .errors import FacerecError

FAILURES_FILE = "align_failures.txt"


@dataclass
class AlignSummary:
    images: int = 0
    aligned_images: int = 0
    faces: int = 0
    skipped: int = 0          # already aligned by an earlier run
    no_face: list = field(default_factory=list)      # (path, reason)
    unreadable: list = field(default_factory=list)   # (path, reason)
    seconds: float = 0.0

    @property
    def failures(self) -> list:
        return self.no_face + self.unreadable


# --- work done per image (in worker processes) ------------------------------------------------

_DETECTOR = None


def _init_worker(threads: int) -> None:
    global _DETECTOR
    from .detection import MTCNN

    _DETECTOR = MTCNN(threads=threads)


def _outputs_done(out_stem: Path) -> list[Path] | None:
    """Crops already written for this image by an earlier run (their sidecar marks them done)."""
    single = out_stem.with_suffix(".png")
    if sidecar_path(single).exists() and single.exists():
        return [single]
    multi = []
    i = 0
    while True:
        p = out_stem.parent / f"{out_stem.name}_{i}.png"
        if not (p.exists() and sidecar_path(p).exists()):
            break
        multi.append(p)
        i += 1
    return multi or None


def align_one(task: tuple) -> dict:
    """Detect, crop and write the faces of one image; returns what happened."""
    from .alignment import crop_with_margin, margin_box
    from .files import atomic_write_bytes
    from .images import UnreadableImage, atomic_save_png, load_image
    from .subject import subject_face

    src, out_stem, image_size, margin, multiple = task
    out_stem = Path(out_stem)
    done = _outputs_done(out_stem)
    if done:
        return {"src": src, "status": "skipped", "outputs": [(str(p), None) for p in done]}
    try:
        image = load_image(src)
    except UnreadableImage as exc:
        return {"src": src, "status": "unreadable", "reason": str(exc)}
    except MemoryError:
        return {"src": src, "status": "unreadable", "reason": "too large to decode in memory"}
    det = _DETECTOR.detect(image)
    if not len(det):
        return {"src": src, "status": "no_face", "reason": "no face found"}
    order = list(range(len(det))) if multiple else [subject_face(det.boxes, image.shape)]
    out_stem.parent.mkdir(parents=True, exist_ok=True)
    outputs = []
    for k, j in enumerate(order):
        name = f"{out_stem.name}_{k}.png" if multiple and len(order) > 1 else f"{out_stem.name}.png"
        crop_path = out_stem.parent / name
        box = det.boxes[j]
        crop = crop_with_margin(image, box, margin, image_size)
        # Landmarks and box in crop pixels: the crop is box+margin (clipped) resized to image_size.
        x1, y1, x2, y2 = margin_box(box, margin, image.shape)
        sx, sy = image_size / (x2 - x1), image_size / (y2 - y1)
        to_crop = lambda p: ((np.asarray(p, np.float64) - [x1, y1]) * [sx, sy]).round(3).tolist()
        meta = {
            "facerec": "align_dataset",
            "source": str(src),
            "source_size": [int(image.shape[1]), int(image.shape[0])],
            "source_box": np.round(box.astype(np.float64), 3).tolist(),
            "source_landmarks": np.round(det.landmarks[j].astype(np.float64), 3).tolist(),
            "crop_region": [int(x1), int(y1), int(x2), int(y2)],
            "box": to_crop(box.reshape(2, 2)),
            "landmarks": to_crop(det.landmarks[j]),
            "score": round(float(det.scores[j]), 6),
        }
        atomic_save_png(crop_path, crop)
        # The sidecar goes last: its presence marks this crop complete for a rerun.
        atomic_write_bytes(sidecar_path(crop_path), json.dumps(meta).encode(), fsync=False)
        outputs.append((str(crop_path), [int(x1), int(y1), int(x2), int(y2)]))
    return {"src": src, "status": "aligned", "outputs": outputs}


# --- the whole run ------------------------------------------------------------------------------

def _tasks(input_dir: Path, output_dir: Path, image_size, margin, multiple, random_order, summary):
    from .datasets import get_dataset

    classes = get_dataset(input_dir)
    if random_order:
        random.shuffle(classes)
    tasks = []
    for cls in classes:
        out_class = output_dir / cls.name
        paths = list(cls.image_paths)
        if random_order:
            random.shuffle(paths)
        for src in paths:
            tasks.append((src, str(out_class / Path(src).stem), image_size, margin, multiple))
    # Visible files that are not images (by name) are reported too, so nothing is silently dropped.
    from .images import is_image_name

    for d in sorted(p for p in input_dir.iterdir() if p.is_dir() and not p.name.startswith(".")):
        for f in sorted(d.iterdir()):
            if f.is_file() and not f.name.startswith(".") and not is_image_name(f):
                summary.unreadable.append((str(f), "not an image file (by its name); skipped"))
    return tasks


def align_dataset(input_dir, output_dir, image_size: int = 160, margin: int = 32, random_order: bool = False,
                  detect_multiple_faces: bool = False, workers: int | None = None,
                  progress: bool = True) -> AlignSummary:
    """Align every image under input_dir/<person>/ into output_dir/<person>/; returns the summary."""
    from .progress import progress as progress_bar

    input_dir, output_dir = Path(input_dir), Path(output_dir)
    if not input_dir.is_dir():
        raise FacerecError(f"{input_dir}: input folder does not exist")
    if image_size < 16:
        raise FacerecError(f"--image_size {image_size} is too small (at least 16)")
    output_dir.mkdir(parents=True, exist_ok=True)
    summary = AlignSummary()
    t0 = time.perf_counter()
    tasks = _tasks(input_dir, output_dir, image_size, margin, detect_multiple_faces, random_order, summary)
    summary.images = len(tasks)
    workers = max(1, min(workers or (os.cpu_count() or 1), max(1, len(tasks))))

    # Build (or read the cached) detector graphs once here, before workers start.
    from .detection.networks import tflite_graphs

    tflite_graphs()
    key = random.randint(0, 99999)
    bb_path = output_dir / f"bounding_boxes_{key:05d}.txt"
    bar = progress_bar(len(tasks), "Aligning", enabled=progress)
    with open(bb_path, "w") as bb:
        if workers == 1:
            _init_worker(threads=os.cpu_count() or 1)
            results = map(align_one, tasks)
            pool = None
        else:
            import multiprocessing as mp

            # spawn: TensorFlow and TFLite are not fork-safe once initialised.
            pool = mp.get_context("spawn").Pool(workers, initializer=_init_worker, initargs=(1,))
            results = pool.imap(align_one, tasks, chunksize=4)
        try:
            for r in results:
                bar.update(1)
                status = r["status"]
                if status in ("aligned", "skipped"):
                    summary.aligned_images += 1
                    summary.faces += len(r["outputs"])
                    summary.skipped += status == "skipped"
                    for path, bbox in r["outputs"]:
                        if bbox is not None:
                            bb.write(f"{path} {bbox[0]} {bbox[1]} {bbox[2]} {bbox[3]}\n")
                else:
                    (summary.no_face if status == "no_face" else summary.unreadable).append((r["src"], r["reason"]))
                    bb.write(f"{r['src']}\n")  # FaceNet writes the unaligned ones without a box
        finally:
            if pool is not None:
                pool.terminate()
            bar.close()
    failures = output_dir / FAILURES_FILE
    lines = [f"{path}\t{reason}" for path, reason in summary.no_face + summary.unreadable]
    from .files import atomic_write_bytes

    atomic_write_bytes(failures, ("\n".join(lines) + ("\n" if lines else "")).encode(), fsync=False)
    summary.seconds = time.perf_counter() - t0
    return summary


def format_summary(s: AlignSummary, output_dir) -> str:
    rate = s.images / s.seconds if s.seconds else 0.0
    lines = [f"Images: {s.images}   aligned: {s.aligned_images} ({s.faces} faces"
             + (f", {s.skipped} already done" if s.skipped else "") + ")"
             + f"   no face: {len(s.no_face)}   unreadable: {len(s.unreadable)}",
             f"Took {s.seconds:.1f} s ({rate:.1f} images/s)"]
    if s.failures:
        lines.append(f"Not aligned, with reasons: {Path(output_dir) / FAILURES_FILE}")
    return "\n".join(lines)
