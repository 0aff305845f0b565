"""facerec cluster's peak memory on near-duplicate faces (every pair of them closer than the link
distance: the worst case for comparing every pair), each size in a fresh process.
Usage: python bench/cluster_memory.py [3000 9000 19999]"""
from __future__ import annotations

import subprocess
import sys

ONE = """
import resource, sys, time
import numpy as np
from facerec.collections.clustering import cluster_embeddings
n = int(sys.argv[1])
rng = np.random.default_rng(0)
base = rng.normal(size=128)
x = base / np.linalg.norm(base) + 0.01 * rng.normal(size=(n, 128))
x = (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)
t = time.perf_counter()
labels = cluster_embeddings(x, 0.45)
print(f"{n:>7} faces: {len(set(labels.tolist()))} cluster(s) in {time.perf_counter() - t:.1f} s, "
      f"peak {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024} MB")
"""


def main(argv=None):
    for n in (argv or sys.argv[1:]) or ["3000", "9000", "19999"]:
        print(subprocess.run([sys.executable, "-c", ONE, str(n)], capture_output=True, text=True).stdout.strip())


if __name__ == "__main__":
    main()
