"""Photos/s through `facerec embed --engine local` and `--engine ray` against align_dataset.py.

All three on the same lfw-dev photos (or --photos N of them), each in a fresh process, in one run:
align_dataset.py (detect + crop, no embedding) is the anchor.  "work s" leaves out what is paid once
per run (loading Python and TensorFlow, starting Ray: seconds); "wall s" is the whole command.
Then, on paper, the throughput on N machines from the per-actor rate.

    python bench/embed_throughput.py [--photos 600] [--workers 2]
"""
from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
LFW_DEV = REPO.parent / "shared" / "data" / "lfw-dev"


# The ray engine with Ray started before the clock starts, as on a cluster that is already up.
RAY_STARTED_FIRST = """
import os, sys, time
import ray
from facerec.collections.finding import find_photos
from facerec.batch.embed_photos import embed_photos
src, out, workers = sys.argv[1], sys.argv[2], int(sys.argv[3])
ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False)
s = embed_photos(find_photos([src], recursive=True)[0], out, engine="ray", workers=workers, progress=False)
print(f"Took {s.seconds:.1f} s")
"""


def _timed(cmd) -> tuple[float, str]:
    t = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True)
    took = time.perf_counter() - t
    if p.returncode != 0:
        sys.exit(f"{' '.join(map(str, cmd))} failed:\n{p.stderr[-2000:]}")
    return took, p.stdout


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--photos", type=int, default=600, help="how many lfw-dev photos (default 600)")
    ap.add_argument("--workers", type=int, default=2, help="processes / actors (default 2, the cores here)")
    args = ap.parse_args()
    if not LFW_DEV.is_dir():
        sys.exit(f"needs {LFW_DEV}")
    tmp = Path(tempfile.mkdtemp(prefix="embed-bench-"))
    # The same photos for every engine, as align_dataset.py's folder-per-person layout.
    photos = sorted(p for p in LFW_DEV.rglob("*.jpg"))[:args.photos]
    src = tmp / "photos"
    for p in photos:
        (src / p.parent.name).mkdir(parents=True, exist_ok=True)
        (src / p.parent.name / p.name).symlink_to(p)
    n = len(photos)
    py = sys.executable
    results = {}
    for name, cmd in (
        ("align_dataset.py", [py, REPO / "align" / "align_dataset.py", src, tmp / "aligned", "--workers", str(args.workers)]),
        ("embed --engine local", [py, "-m", "facerec", "embed", src, "-r", "-o", tmp / "local.parquet",
                                  "--workers", str(args.workers)]),
        ("embed --engine ray", [py, "-c", RAY_STARTED_FIRST, src, tmp / "ray.parquet", str(args.workers)]),
    ):
        wall, out = _timed(cmd)
        inner = re.search(r"Took ([\d.]+) s", out)
        results[name] = (wall, float(inner.group(1)) if inner else wall)
    shutil.rmtree(tmp, ignore_errors=True)

    anchor = n / results["align_dataset.py"][1]
    print(f"{n} lfw-dev photos, {args.workers} workers, this machine")
    print(f"{'':24}{'wall s':>8}{'work s':>8}{'photos/s':>10}{'vs align':>10}")
    for name, (wall, work) in results.items():
        rate = n / work
        print(f"{name:24}{wall:8.1f}{work:8.1f}{rate:10.1f}{rate / anchor:10.2f}x")
    per_actor = n / results["embed --engine ray"][1] / args.workers
    print(f"\nPer Ray actor (one CPU): {per_actor:.1f} photos/s.  On paper, N machines of C cores: "
          f"N x C x {per_actor:.1f} photos/s, e.g. 10 x 16 cores = {10 * 16 * per_actor:,.0f} photos/s "
          f"({1e6 / (10 * 16 * per_actor) / 60:.0f} min per million photos).")
    print("Assumes: photos on storage every node reads at that rate (about 0.1 MB per LFW photo), one "
          "actor per core with no other load, the driver keeping up with writing rows (about 0.6 KB a "
          "face), and Ray's start-up (seconds) small beside the run.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
