"""One-shot commands: `facerec verify A B` and `classifier.py CLASSIFY` on one photo, wall time and peak memory.

Anchor, in the same run: face_recognition 1.3.0's own command line (`face_recognition KNOWN_DIR
PHOTO`, dlib underneath, from the dlib-bin wheel) on the same two photos.  "cold" is the first
process after facerec's model caches exist (its embedding cache empty; face_recognition has no
cache), "warm" the same command again.  Every command runs in a fresh process; its peak RSS is
the child's own ru_maxrss (os.wait4).  Writes bench/out/startup.json.
Usage: python bench/bench_startup.py [--repeats 3]
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent


# A small launcher runs each command: Linux carries ru_maxrss over from parent to child across
# fork and exec, so measured from a big process (make bench's, with TensorFlow loaded) every
# child would report at least the parent's size.  The launcher is ~10 MB.
LAUNCH = r"""
import json, resource, subprocess, sys, time
t = time.perf_counter()
p = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
print(json.dumps({"rc": p.returncode, "seconds": time.perf_counter() - t,
                  "peak_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}))
"""


def run_measured(cmd, env=None) -> tuple[float, float]:
    """(seconds, peak MB) of one command in a fresh process."""
    p = subprocess.run([sys.executable, "-S", "-c", LAUNCH, *map(str, cmd)], capture_output=True, text=True, env=env)
    r = json.loads(p.stdout.strip().splitlines()[-1])
    if r["rc"]:
        raise SystemExit(f"{' '.join(map(str, cmd))} failed with exit {r['rc']}")
    return r["seconds"], r["peak_mb"]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args(argv)
    from facerec.samples import find

    src = find()
    if src is None:
        print("skipped: face_recognition sample photos not fetched (python -m facerec.samples)")
        return None
    a, b = src / "obama.jpg", src / "obama2.jpg"
    bin_dir = Path(sys.executable).parent
    anchor = shutil.which("face_recognition", path=str(bin_dir))
    work = Path(tempfile.mkdtemp(prefix="bench-startup-"))
    try:
        # facerec's model caches, built once (what `make install` users have after a first run).
        models = work / "models"
        env = dict(os.environ, FACEREC_CACHE=str(models))
        run_measured([sys.executable, "-m", "facerec", "verify", str(a), str(b)], env)
        (models / "embeddings.sqlite").unlink(missing_ok=True)
        (work / "known").mkdir()
        shutil.copy(a, work / "known" / "obama.jpg")
        (work / "people" / "Barack_Obama").mkdir(parents=True)
        shutil.copy(a, work / "people" / "Barack_Obama" / "obama.jpg")
        (work / "people" / "Joe_Biden").mkdir(parents=True)
        shutil.copy(src / "biden.jpg", work / "people" / "Joe_Biden" / "biden.jpg")
        (work / "one").mkdir()
        shutil.copy(b, work / "one" / "obama2.jpg")
        run_measured([sys.executable, "-m", "facerec", "classify", "TRAIN", str(work / "people"), "default",
                      str(work / "people.npz")], env)
        results: dict = {}
        for r in range(args.repeats):
            for label, cmd in (
                    ("facerec verify", [sys.executable, "-m", "facerec", "verify", str(a), str(b)]),
                    ("classifier.py CLASSIFY, one photo", [sys.executable, "-m", "facerec", "classify", "CLASSIFY",
                                                           str(work / "one"), "default", str(work / "people.npz")]),
                    ("face_recognition CLI", [anchor, str(work / "known"), str(b)] if anchor else None)):
                if cmd is None:
                    continue
                cache = work / f"cache-{r}-{label.split()[0]}"
                shutil.copytree(models, cache)  # model caches only: the embedding cache starts empty
                e = dict(os.environ, FACEREC_CACHE=str(cache))
                for phase in ("cold", "warm"):
                    s, mb = run_measured(cmd, e)
                    results.setdefault((label, phase), []).append((s, mb))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"\nOne-shot commands on obama.jpg + obama2.jpg ({os.cpu_count()} cores; median of {args.repeats})")
    out = {}
    for (label, phase), vals in results.items():
        s = sorted(v[0] for v in vals)[len(vals) // 2]
        mb = sorted(v[1] for v in vals)[len(vals) // 2]
        out[f"{label} ({phase})"] = {"seconds": s, "peak_mb": mb}
        print(f"  {label + ' (' + phase + ')':44} {s:6.2f} s  {mb:7.1f} MB")
    if not anchor:
        print("  (face_recognition not installed: make bench installs it for the anchor)")
    (HERE / "out").mkdir(exist_ok=True)
    (HERE / "out" / "startup.json").write_text(json.dumps(out, indent=2))
    return out


if __name__ == "__main__":
    main()
