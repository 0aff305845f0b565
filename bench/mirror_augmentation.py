"""Does adding each training face's mirror image help? lfw-dev, 1-10 photos per person.

Aligns ../shared/data/lfw-dev (people with >= 15 photos) once, then for each number of training
photos per person and three split seeds trains FaceNet's SVM with and without the mirrored
faces and reports closed-set accuracy on the remaining photos.
"""
from __future__ import annotations

import os
import tempfile
import warnings
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
SHARED = Path(os.environ.get("FACEREC_SHARED_DATA", HERE.parent.parent / "shared" / "data"))


def main():
    if not (SHARED / "lfw-dev").is_dir():
        print(f"skipped: {SHARED} not available")
        return
    warnings.simplefilter("ignore")
    from facerec import load_embedder
    from facerec.batch.align_dataset import align_dataset
    from facerec.identity.svm import linear_svc
    from facerec.people_folders import get_dataset, split_dataset
    from facerec.pipeline import FacePipeline

    with tempfile.TemporaryDirectory() as tmp:
        align_dataset(SHARED / "lfw-dev", tmp, progress=False)
        enc = FacePipeline(load_embedder("default"))
        dataset = get_dataset(tmp)

        def encode(part):
            X, Xf, y = [], [], []
            for i, (_, paths) in enumerate(part):
                for f in enc.files(paths, mirrored=True, progress=False):
                    j = f.subject()
                    X.append(f.embeddings[j]); Xf.append(f.flipped[j]); y.append(i)
            return np.array(X), np.array(Xf), np.array(y)

        print(f"{'photos/person':>14}{'plain':>9}{'+mirror':>9}")
        for n in (1, 2, 3, 5, 10):
            acc = {False: [], True: []}
            for seed in (1, 2, 3):
                train, test = split_dataset(dataset, 15, n, seed)
                X, Xf, y = encode(train)
                Xt, _, yt = encode(test)
                for mirror in (False, True):
                    # FaceNet's SVM alone (its decision function), as FaceClassifier names faces.
                    svm = linear_svc(seed).fit(np.concatenate([X, Xf]) if mirror else X,
                                               np.concatenate([y, y]) if mirror else y)
                    acc[mirror].append(np.mean(svm.predict(Xt) == yt))
            print(f"{n:>14}{np.mean(acc[False]):9.4f}{np.mean(acc[True]):9.4f}")


if __name__ == "__main__":
    main()
