"""Align a whole photo collection: FaceNet's align_dataset_mtcnn.py, resumable and robust.

Input: one sub-folder per person.  Output mirrors it: one PNG per face (FaceNet's box + margin
crop), a JSON sidecar beside each crop with its five landmarks in crop pixels (so the default
embedder can warp its own chip from the crop without detecting again), FaceNet's
``bounding_boxes_NNNNN.txt``, and ``align_failures.txt`` listing every image not aligned, with
the reason.
"""
from __future__ import annotations

import errno
import json
import os
import random
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..people_folders import sidecar_path
from ..errors import FacerecError

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
    from ..detection import MTCNN

    _DETECTOR = MTCNN(threads=threads)


def _init_pool_worker(threads: int) -> None:
    """_init_worker in a pool's process, which leaves Ctrl-C to the parent: it reaches the whole
    process group, the parent says "interrupted" and ends the pool, and a worker waiting for its
    next photo would otherwise print a KeyboardInterrupt traceback."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _init_worker(threads)


def _sidecar(crop: Path) -> dict | None:
    try:
        return json.loads(sidecar_path(crop).read_text())
    except (OSError, ValueError):
        return None


def _outputs_done(out_stem: Path) -> list[tuple[str, list]] | None:
    """(crop, its box in the photo) for each crop an earlier run finished for this image, or None.

    A crop's sidecar is written last, so it marks the crop complete; each sidecar also records how
    many faces its image gave, so an image cut off between its faces is done again.
    """
    single = out_stem.parent / f"{out_stem.name}.png"
    if single.exists() and (meta := _sidecar(single)):
        return [(str(single), meta.get("crop_region"))]
    done = []
    while True:
        p = out_stem.parent / f"{out_stem.name}_{len(done)}.png"
        meta = _sidecar(p) if p.exists() else None
        if meta is None:
            break
        done.append((str(p), meta.get("crop_region"), meta.get("faces_in_image")))
    if not done or any(n is not None and n != len(done) for _, _, n in done):
        return None
    return [(p, box) for p, box, _ in done]


def align_one(task: tuple) -> dict:
    """Detect, crop and write the faces of one image; returns what happened."""
    from ..images import UnreadableImage, load_image
    from ..pipeline import FaceChoice, choose_faces

    src, out_stem, image_size, margin, multiple = task
    out_stem = Path(out_stem)
    done = _outputs_done(out_stem)
    if done:
        return {"src": src, "status": "skipped", "outputs": done}
    try:
        image = load_image(src)
    except UnreadableImage as exc:
        return {"src": src, "status": "unreadable", "reason": str(exc)}
    except MemoryError:
        return {"src": src, "status": "unreadable", "reason": "too large to decode in memory"}
    det = _DETECTOR.detect(image)
    if not len(det):
        return {"src": src, "status": "no_face", "reason": "no face found"}
    order = choose_faces(det.boxes, image.shape, FaceChoice.EVERY if multiple else FaceChoice.SUBJECT)
    try:
        return {"src": src, "status": "aligned", "outputs": _write_faces(src, image, det, order, out_stem,
                                                                          image_size, margin, multiple)}
    except OSError as exc:  # a full disk, say: the run stops with this one line
        return {"src": src, "status": "write_error",
                "reason": f"cannot write into {out_stem.parent}: {exc.strerror or exc}"}


def _write_faces(src, image, det, order, out_stem: Path, image_size, margin, multiple) -> list:
    from ..alignment import crop_with_margin, margin_box
    from ..files import atomic_write_bytes
    from ..images import atomic_save_png

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
            "faces_in_image": len(order),
        }
        atomic_save_png(crop_path, crop)
        # The sidecar goes last: its presence marks this crop complete for a rerun.
        atomic_write_bytes(sidecar_path(crop_path), json.dumps(meta).encode(), fsync=False)
        outputs.append((str(crop_path), [int(x1), int(y1), int(x2), int(y2)]))
    return outputs


# --- the whole run ------------------------------------------------------------------------------

def _tasks(input_dir: Path, output_dir: Path, image_size, margin, multiple, random_order, summary):
    from ..people_folders import get_dataset

    classes = get_dataset(input_dir)
    if random_order:
        random.shuffle(classes)
    tasks = []
    for cls in classes:
        out_class = output_dir / cls.name
        paths = list(cls.image_paths)
        names = _output_names(paths)
        if random_order:
            random.shuffle(paths)
        for src in paths:
            tasks.append((src, str(out_class / names[src]), image_size, margin, multiple))
    _report_skipped_entries(input_dir, summary)
    return tasks


def _output_names(paths) -> dict:
    """Each photo's crop name: its stem, or stem_ext where x.jpg and x.png would share one."""
    stems: dict = {}
    for p in paths:
        stems.setdefault(Path(p).stem, []).append(p)
    names, taken = {}, set(stems)
    for stem, group in stems.items():
        if len(group) == 1:
            names[group[0]] = stem
            continue
        for p in group:
            name = f"{stem}_{Path(p).suffix.lstrip('.')}"
            while name in taken:
                name += "_"
            taken.add(name)
            names[p] = name
    return names


def _report_skipped_entries(input_dir: Path, summary) -> None:
    """Files that are not images (by name) and links that lead nowhere are listed, never dropped."""
    from ..images import is_image_name

    for d in sorted(p for p in input_dir.iterdir() if p.is_dir() and not p.name.startswith(".")):
        for f in sorted(d.iterdir()):
            if f.name.startswith("."):
                continue
            if f.is_symlink() and not f.exists():
                try:
                    f.stat()
                    why = "a link that leads nowhere"
                except OSError as exc:
                    why = "a link that loops" if exc.errno == errno.ELOOP else "a link that leads nowhere"
                summary.unreadable.append((str(f), f"{why} ({os.readlink(f)}); skipped"))
            elif f.is_file() and not is_image_name(f):
                summary.unreadable.append((str(f), "not an image file (by its name); skipped"))
            elif f.is_dir():
                summary.unreadable.append((str(f), f"a folder inside {d.name}'s folder; its photos are not read "
                                                   f"(one folder per person)"))


def escaped(path) -> str:
    """A path as one line of valid UTF-8, for FaceNet's text files: backslashes, line breaks, tabs
    and bytes that are not UTF-8 (kept by Python as surrogates) are written as escapes."""
    s = str(path).replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")
    return os.fsencode(s).decode("utf-8", "backslashreplace")


def align_dataset(input_dir, output_dir, image_size: int = 160, margin: int = 32, random_order: bool = False,
                  detect_multiple_faces: bool = False, workers: int | None = None,
                  progress: bool = True) -> AlignSummary:
    """Align every image under input_dir/<person>/ into output_dir/<person>/; returns the summary."""
    from ..files import remove_leftovers_under
    from ..progress import progress as progress_bar

    input_dir, output_dir = Path(input_dir), Path(output_dir)
    if not input_dir.is_dir():
        raise FacerecError(f"{input_dir}: input folder does not exist")
    if image_size < 16:
        raise FacerecError(f"--image_size {image_size} is too small (at least 16)")
    _check_output_place(input_dir, output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    summary = AlignSummary()
    t0 = time.perf_counter()
    tasks = _tasks(input_dir, output_dir, image_size, margin, detect_multiple_faces, random_order, summary)
    summary.images = len(tasks)
    workers = max(1, min(workers or (os.cpu_count() or 1), max(1, len(tasks))))

    # Build (or read the cached) detector graphs once here, before workers start.
    from ..detection.networks import tflite_graphs

    tflite_graphs()
    bb_path, writing = _boxes_file(output_dir)
    bar = progress_bar(len(tasks), "Aligning", enabled=progress)
    pool = None
    try:
        # Line-buffered: each record reaches the file as its image finishes, so a run that is
        # killed keeps the records of everything it wrote; skipped crops are recorded again.
        with open(writing, "w", encoding="utf-8", buffering=1) as bb:
            if workers == 1:
                _init_worker(threads=os.cpu_count() or 1)
                results = map(align_one, tasks)
            else:
                import multiprocessing as mp

                # spawn: TensorFlow and TFLite are not fork-safe once initialised.
                pool = mp.get_context("spawn").Pool(workers, initializer=_init_pool_worker, initargs=(1,))
                results = pool.imap(align_one, tasks, chunksize=4)
            for r in results:
                bar.update(1)
                _record(r, bb, summary)
        if writing != bb_path:
            os.replace(writing, bb_path)  # the rerun finished: its records replace the earlier run's
    except OSError as exc:
        raise FacerecError(f"cannot write into {output_dir}: {exc.strerror or exc}; the crops written so "
                           f"far are kept, and a rerun continues from them") from None
    finally:
        if pool is not None:
            pool.terminate()  # also stops a worker mid-write, once it is gone its temporary file goes
            remove_leftovers_under(output_dir)
        bar.close()
        _write_failures(output_dir, summary)  # also when interrupted: what failed so far
    summary.seconds = time.perf_counter() - t0
    return summary


def _check_output_place(input_dir: Path, output_dir: Path) -> None:
    """Crops written inside the input folder would be read by the next run: the folder itself
    mixes crops with the photos (over .png ones), a person's folder gets everyone's crops as that
    person's photos, and a new folder in it becomes a "person" of crops and text files."""
    try:
        inside = output_dir.resolve().relative_to(input_dir.resolve()).parts
    except ValueError:
        return
    where = "the input folder" if not inside else f"inside the input folder {input_dir}"
    raise FacerecError(f"{output_dir}: the output folder is {where}; the next run would read the crops "
                       f"as photos: choose a folder outside it")


def _boxes_file(output_dir: Path) -> tuple[Path, Path]:
    """(FaceNet's bounding_boxes_NNNNN.txt, the file to write it through).  FaceNet names it with a
    random number; a rerun keeps the name an earlier run gave it rather than add a second file, and
    writes beside it until it finishes, so a rerun that is stopped leaves the earlier records whole."""
    earlier = sorted(output_dir.glob("bounding_boxes_[0-9][0-9][0-9][0-9][0-9].txt"), key=os.path.getmtime)
    if not earlier:
        path = output_dir / f"bounding_boxes_{random.randint(0, 99999):05d}.txt"
        return path, path
    return earlier[-1], output_dir / f".{earlier[-1].name}.rerun"


def _record(r: dict, bb, summary: AlignSummary) -> None:
    status = r["status"]
    if status == "write_error":
        raise FacerecError(f"{r['reason']}; the crops written so far are kept, and a rerun continues from them")
    if status in ("aligned", "skipped"):
        summary.aligned_images += 1
        summary.faces += len(r["outputs"])
        summary.skipped += status == "skipped"
        for path, box in r["outputs"]:
            if box is not None:
                bb.write(f"{escaped(path)} {box[0]} {box[1]} {box[2]} {box[3]}\n")
    else:
        (summary.no_face if status == "no_face" else summary.unreadable).append((r["src"], r["reason"]))
        bb.write(f"{escaped(r['src'])}\n")  # FaceNet writes the unaligned ones without a box


def _write_failures(output_dir: Path, summary: AlignSummary) -> None:
    from ..files import atomic_write_bytes

    lines = [f"{escaped(path)}\t{reason}" for path, reason in summary.no_face + summary.unreadable]
    try:
        atomic_write_bytes(output_dir / FAILURES_FILE, ("\n".join(lines) + ("\n" if lines else "")).encode(),
                           fsync=False)
    except OSError:
        pass  # a full disk is reported by the caller; the list is rebuilt by the next run


def format_summary(s: AlignSummary, output_dir) -> str:
    rate = s.images / s.seconds if s.seconds else 0.0
    lines = [f"Images: {s.images}   aligned: {s.aligned_images} ({s.faces} faces"
             + (f", {s.skipped} already done" if s.skipped else "") + ")"
             + f"   no face: {len(s.no_face)}   unreadable: {len(s.unreadable)}",
             f"Took {s.seconds:.1f} s ({rate:.1f} images/s)"]
    if s.failures:
        lines.append(f"Not aligned, with reasons: {Path(output_dir) / FAILURES_FILE}")
    return "\n".join(lines)
