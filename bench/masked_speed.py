"""What handling masks costs per face, beside the bare path, in one run (ratios, not seconds).

On 200 lfw-singles photos (bare) and their masked copies, with the default model:
- detection: MTCNN with its second look for masked faces (lower thresholds, and BlazeFace's
  boxes), against the first look alone (the same detector with SECOND_LOOK at FaceNet's own
  thresholds and no BlazeFace);
- the mask check (HOG + logistic regression) per face, against embedding that face;
- enrolment per face: the face and its three masked renderings, against the face alone;
- naming: a masked face (the gallery's masked side) against a bare one, on a 86-person gallery.
Usage: python bench/masked_speed.py
"""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
SHARED = HERE.parents[1] / "shared" / "data"


def _per(fn, items, repeat: int = 1) -> float:
    fn(items[0])  # warm
    t = time.perf_counter()
    for _ in range(repeat):
        for x in items:
            fn(x)
    return (time.perf_counter() - t) / (len(items) * repeat)


def main(argv=None):
    if not (SHARED / "lfw-singles").is_dir():
        print(f"skipped: {SHARED} not available")
        return None
    import facerec.detection.blazeface as blazeface
    import facerec.detection.mtcnn as mtcnn
    from facerec import load_image
    from facerec.batch.mask_folder import mask_folder
    from facerec.detection import MTCNN
    from facerec.detection.mask_check import masked_chances
    from facerec.embedding import load_embedder
    from facerec.pipeline import FacePipeline

    copy = HERE / "out" / "masked-lfw-singles"
    mask_folder(SHARED / "lfw-singles", copy, seed=0)
    photos = sorted((SHARED / "lfw-singles").glob("*/*.jpg"))[:200]
    bare = [load_image(p) for p in photos]
    masked = [load_image(copy / p.relative_to(SHARED / "lfw-singles")) for p in photos]
    emb = load_embedder("default")
    pipe = FacePipeline(emb, cache=False)
    both = MTCNN()
    first = MTCNN()
    rows = []
    saved, with_blazeface = mtcnn.SECOND_LOOK, blazeface.BlazeFace.load
    for name, images in (("bare photos", bare), ("masked photos", masked)):
        mtcnn.SECOND_LOOK = (first.thresholds[1], first.thresholds[2])
        blazeface.BlazeFace.load = staticmethod(lambda model=None: None)
        t_first = _per(first.detect, images)
        mtcnn.SECOND_LOOK, blazeface.BlazeFace.load = saved, with_blazeface
        t_both = _per(both.detect, images)
        rows.append((f"detection, {name}", t_both, t_first))
    faces = [(im, d) for im in bare for d in [both.detect(im)] if len(d)]
    t_check = _per(lambda f: masked_chances(f[0], f[1].landmarks[:1]), faces)
    t_embed = _per(lambda f: pipe.embed_faces(f[0], f[1].boxes[:1], f[1].landmarks[:1]), faces)
    rows.append(("mask check per face (vs embedding it)", t_check, t_embed))
    t_render = _per(lambda f: (pipe.embed_faces(f[0], f[1].boxes[:1], f[1].landmarks[:1]),
                               pipe.masked_renderings(f[0], f[1].boxes[:1], f[1].landmarks[:1])), faces[:60])
    t_plain = _per(lambda f: pipe.embed_faces(f[0], f[1].boxes[:1], f[1].landmarks[:1]), faces[:60])
    rows.append(("enrolment per face, with renderings", t_render, t_plain))
    gallery = _gallery(pipe)
    x = np.stack([pipe.embed_faces(im, d.boxes[:1], d.landmarks[:1])[0] for im, d in faces[:100]])
    t_masked = _per(lambda v: gallery.identify(v[None], masked=[True]), list(x), repeat=3)
    t_bare = _per(lambda v: gallery.identify(v[None]), list(x), repeat=3)
    rows.append(("naming a face, 86-person gallery", t_masked, t_bare))
    print(f"{'':42s}{'masked path ms':>15}{'bare path ms':>14}{'ratio':>7}")
    for name, a, b in rows:
        print(f"{name:42s}{a * 1000:15.2f}{b * 1000:14.2f}{a / b:7.2f}")
    return rows


def _gallery(pipe):
    from facerec.identity.enrolment import enrol_people
    from facerec.identity.gallery import Gallery
    from facerec.people_folders import read_people

    g = Gallery.for_embedder(pipe.embedder)
    enrol_people(g, pipe, [(n, ps[:3]) for n, ps in read_people(SHARED / "lfw-dev")], progress=False)
    return g


if __name__ == "__main__":
    main()
