"""make bench: every benchmark in bench/, one table of figures with their anchors, bench/RESULTS.md.

Each figure is measured against its anchor in the same run (this machine is noisy; ratios
travel, absolute numbers do not). Peak memory is each loop's own peak RSS in a fresh process.
"""
from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

PEAK = r"""
import sys, json
sys.path.insert(0, {here!r})
import bench_realtime as b
if {which!r} == "ours":
    from facerec import Recognizer
    from facerec.video.realtime import run_video
    run_video(str(b.CLIP), Recognizer.load({clf!r}), display=False)
else:
    b.anchor_loop({clf!r}, 40)
# VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the parent across fork and exec.
hwm = [l for l in open("/proc/self/status") if l.startswith("VmHWM")][0].split()[1]
print(json.dumps({{"peak_mb": int(hwm) / 1024}}))
"""


def peak_mb(which: str, clf) -> float | None:
    """Peak RSS of a fresh process that loads everything it needs and runs one loop."""
    p = subprocess.run([sys.executable, "-c", PEAK.format(here=str(HERE), which=which, clf=str(clf))],
                       capture_output=True, text=True)
    if p.returncode != 0:
        return None
    return json.loads(p.stdout.strip().splitlines()[-1])["peak_mb"]


def main():
    import bench_detection
    import bench_embedding
    import bench_realtime
    import bench_startup

    rows = []
    e = bench_embedding.main([])
    d = bench_detection.main([])
    r = bench_realtime.main([])
    s = bench_startup.main([])
    rows.append(("Embedding, batch 1 (faces/s)", e["ours_b1_faces_per_s"], e.get("dlib_b1_faces_per_s"), "dlib, same network"))
    rows.append(("Embedding, batch 32 (faces/s)", e["ours_b32_faces_per_s"], e.get("dlib_b32_faces_per_s"), "dlib, same network"))
    rows.append(("Embedding with mirror averaging, batch 32 (faces/s)", e["ours_b32_mirror_faces_per_s"],
                 e.get("dlib_b32_faces_per_s"), "dlib, one pass per face"))
    cs = e["cold_start"]
    rows.append(("Cold start, first build (s)", cs["first_build"]["load_s"], e.get("dlib_load_s"), "dlib model load"))
    rows.append(("Cold start, cached load (s)", cs["cached_load"]["load_s"], e.get("dlib_load_s"), "dlib model load"))
    if d:
        rows.append(("Detection, LFW photo (ms)", d["lfw_photo_ours_ms"], d["lfw_photo_mtcnn_ms"], "mtcnn package"))
        rows.append(("Detection, video frame (ms)", d["video_frame_ours_ms"], d["video_frame_mtcnn_ms"], "mtcnn package"))
        rows.append(("align_dataset end to end (photos/s)", d["align_dataset_photos_per_s"],
                     1000.0 / d["lfw_photo_mtcnn_ms"], "mtcnn package, detection alone"))
    if r:
        rows.append(("Real time, Hamilton clip (frames/s)", r["ours_fps"], r["anchor_fps"], "same loop, mtcnn every frame"))
        import shutil
        import tempfile

        tmp = Path(tempfile.mkdtemp(prefix="bench-mem-"))
        try:
            clf = bench_realtime.train(tmp)
            ours_mb, anchor_mb = peak_mb("ours", clf), peak_mb("anchor", clf)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        if ours_mb and anchor_mb:
            rows.append(("Real time, peak memory (MB)", ours_mb, anchor_mb, "same loop, mtcnn every frame"))

    if s and "face_recognition CLI (cold)" in s:
        for phase in ("cold", "warm"):
            ours, theirs = s[f"facerec verify ({phase})"], s[f"face_recognition CLI ({phase})"]
            rows.append((f"verify A B, {phase} (s)", ours["seconds"], theirs["seconds"], "face_recognition CLI"))
            rows.append((f"verify A B, {phase}, peak memory (MB)", ours["peak_mb"], theirs["peak_mb"],
                         "face_recognition CLI"))

    def better(name, ours, anchor):
        lower_is_better = any(u in name for u in ("(ms)", "(s)", "(MB)"))
        return anchor / ours if lower_is_better else ours / anchor

    header = "| figure | facerec | anchor | facerec advantage | anchor is |\n|---|---|---|---|---|"
    lines = [header]
    for name, ours, anchor, what in rows:
        adv = f"{better(name, ours, anchor):.1f}x" if anchor else "-"
        a = f"{anchor:.2f}" if anchor else "-"
        lines.append(f"| {name} | {ours:.2f} | {a} | {adv} | {what} |")
    table = "\n".join(lines)
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    text = (f"# Benchmark results\n\nMeasured by `make bench` on {time.strftime('%Y-%m-%d')} ({machine}). "
            f"Each anchor ran in the same run; 'advantage' is how many times better facerec is "
            f"(higher rate, or lower time and memory).\n\n{table}\n")
    (HERE / "RESULTS.md").write_text(text)
    print("\n" + table + f"\n\nWritten to {HERE / 'RESULTS.md'}")


if __name__ == "__main__":
    main()
