"""Fit the mask check (facerec/detection/mask_check.npz): masked or bare, from the lower face's HOG.

Trained on lfw-singles and lfw-unknown (1,200 people): as the detector's second look sees
them (MTCNN at 0.6/0.3/0.1), every detection in the bare photos (faces, and whatever else those
thresholds find) against the subject face found in a masked copy of the folder (`facerec mask`,
seed 1).  Then measured the same way on lfw-dev (86 other people; masked copy with seed 0):
bare detections said masked, masked faces said masked, at MASKED and MASKED_SURE.
Usage: python bench/fit_mask_check.py [--write]   (--write replaces the shipped weights)
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
SHARED = HERE.parents[1] / "shared" / "data"


LOOSE = (0.6, 0.3, 0.1)  # MTCNN's thresholds with the second look: every detection the check may be asked about


def features(part: str, seed: int):
    """(bare HOGs, masked HOGs) of a shared folder, as the detector's second look sees them:
    masked: the detection of each photo's subject face in its masked copy (its own landmarks,
    which a mask throws off); bare: every detection in the bare photo, the subject face and all
    else the loose thresholds find (other faces, and backgrounds: what must not pass as masked)."""
    from facerec import load_image
    from facerec.batch.mask_folder import mask_folder
    from facerec.detection import MTCNN
    from facerec.detection.boxes import iou
    from facerec.detection.mask_check import hog, lower_face
    from facerec.pipeline import subject_face

    copy = HERE / "out" / f"masked-{part}-seed{seed}"
    mask_folder(SHARED / part, copy, seed=seed)
    det, loose = MTCNN(check_faces=False), MTCNN(thresholds=LOOSE, check_faces=False)
    bare, masked = [], []
    for photo in sorted((SHARED / part).glob("*/*.jpg")):
        twin = copy / photo.relative_to(SHARED / part)
        image = load_image(photo)
        found = det.detect(image)
        j = subject_face(found.boxes, image.shape) if len(found) else None
        if j is None or not twin.exists():
            continue
        bare += [hog(lower_face(image, lm)) for lm in loose.detect(image).landmarks]
        seen = loose.detect(load_image(twin))
        near = [k for k in range(len(seen)) if iou(seen.boxes[k:k + 1], found.boxes[j:j + 1])[0, 0] > 0.4]
        if near:
            k = max(near, key=lambda k: seen.scores[k])
            masked.append(hog(lower_face(load_image(twin), seen.landmarks[k])))
    return np.array(bare), np.array(masked)


def main(argv=None):
    p = argparse.ArgumentParser()
    p.add_argument("--write", action="store_true")
    args = p.parse_args(argv)
    if not (SHARED / "lfw-singles").is_dir():
        print(f"skipped: {SHARED} not available")
        return None
    from sklearn.linear_model import LogisticRegression

    from facerec.detection.mask_check import MASKED, MASKED_SURE, WEIGHTS

    train = [features(part, 1) for part in ("lfw-singles", "lfw-unknown")]
    x = np.concatenate([t[0] for t in train] + [t[1] for t in train])
    y = np.r_[np.zeros(sum(len(t[0]) for t in train)), np.ones(sum(len(t[1]) for t in train))]
    model = LogisticRegression(C=0.1, max_iter=5000, class_weight="balanced").fit(x, y)
    if args.write:
        np.savez_compressed(WEIGHTS, coef=model.coef_[0].astype(np.float32), intercept=np.float32(model.intercept_[0]))
        print(f"wrote {WEIGHTS}")
    bare, masked = features("lfw-dev", 0)
    pb, pm = model.predict_proba(bare)[:, 1], model.predict_proba(masked)[:, 1]
    print(f"trained on {len(y)} detections; lfw-dev: {len(bare)} bare detections, {len(masked)} masked faces")
    for t in sorted({MASKED, MASKED_SURE, 0.9, 0.95, 0.99}):
        print(f"  at {t}: bare said masked {np.mean(pb >= t):.4f}, masked said masked {np.mean(pm >= t):.4f}")
    return {"bare_said_masked": float(np.mean(pb >= MASKED)), "masked_said_masked": float(np.mean(pm >= MASKED))}


if __name__ == "__main__":
    main()
