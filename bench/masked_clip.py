"""Masked faces moving, through the real-time tool: named right, and no stranger named.

A gallery of 12 lfw-dev people (their first 3 photos, bare).  A clip (demo.render_clip: a slow
zoom over each photo, 2.5 s each) of a masked copy of one other photo of each of them, and of 12
masked lfw-unknown strangers, alternating.  Each appearance is scored by the photo on screen
while it lasted: known people named right or wrongly or Unknown, strangers named.
Usage: python bench/masked_clip.py [--out bench/out/masked_clip.mp4]
"""
from __future__ import annotations

import argparse
from pathlib import Path

HERE = Path(__file__).resolve().parent
SHARED = HERE.parents[1] / "shared" / "data"
SECONDS = 2.5


def main(argv=None):
    p = argparse.ArgumentParser()
    p.add_argument("--out", default=str(HERE / "out" / "masked_clip.mp4"))
    args = p.parse_args(argv)
    if not (SHARED / "lfw-unknown").is_dir():
        print(f"skipped: {SHARED} not available")
        return None
    from facerec import load_image
    from facerec.batch.mask_folder import mask_folder
    from facerec.demo import render_clip
    from facerec.embedding import load_embedder
    from facerec.identity.enrolment import enrol_people
    from facerec.identity.gallery import Gallery
    from facerec.people_folders import read_people
    from facerec.recognizer import Recognizer
    from facerec.video.realtime import run_video

    for part in ("lfw-dev", "lfw-unknown"):
        mask_folder(SHARED / part, HERE / "out" / f"masked-{part}", seed=0)
    people = [(n, ps) for n, ps in read_people(SHARED / "lfw-dev") if len(ps) >= 4][::6][:12]
    strangers = [ps[0] for _, ps in read_people(SHARED / "lfw-unknown")][::16][:12]
    twin = lambda path, part: HERE / "out" / f"masked-{part}" / Path(path).relative_to(SHARED / part)
    shown = []  # (who, masked photo): who is a person's name, or None for a stranger
    for (name, paths), stranger in zip(people, strangers):
        shown += [(name, twin(paths[3], "lfw-dev")), (None, twin(stranger, "lfw-unknown"))]
    emb = load_embedder("default")
    g = Gallery.for_embedder(emb)
    enrol_people(g, emb, [(n, ps[:3]) for n, ps in people], progress=False)
    clip = render_clip([load_image(p) for _, p in shown], Path(args.out).with_suffix(".source.mp4"),
                       seconds_each=SECONDS)
    stats = run_video(str(clip), Recognizer(g, emb), output=Path(args.out), display=False)
    final = {}
    for e in stats.events:
        final[e["appearance"]] = e
    right = wrong = unknown = strangers_named = stranger_apps = 0
    for e in final.values():
        who = shown[min(len(shown) - 1, int((e["start_s"] + e["end_s"]) / 2 // SECONDS))][0]
        if who is None:
            stranger_apps += 1
            strangers_named += e["name"] != "Unknown"
            if e["name"] != "Unknown":
                print(f"  a stranger named {e['name']} ({e['probability']:.2f}) at {e['start_s']:.1f}-{e['end_s']:.1f} s")
        else:
            right += e["name"] == who
            wrong += e["name"] not in (who, "Unknown")
            unknown += e["name"] == "Unknown"
    masked = sum(e["masked"] for e in final.values())
    print(f"{stats.frames} frames, {len(final)} appearances ({masked} seen masked); annotated: {args.out}")
    print(f"known appearances: named right {right}, named wrongly {wrong}, Unknown {unknown}")
    print(f"stranger appearances: {stranger_apps}, named {strangers_named}")
    return {"right": right, "wrong": wrong, "unknown": unknown, "strangers": stranger_apps,
            "strangers_named": strangers_named}


if __name__ == "__main__":
    main()
