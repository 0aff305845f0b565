"""facerec verify and facerec compare: photos against each other, one face each."""
from __future__ import annotations

import json
import math
import sys

from .options import CHANCE, DISTANCE


def cmd_verify(args) -> int:
    from ..recognizer import Recognizer
    from ..verification import check_decision

    check_decision(args.threshold, args.max_distance)  # before any model loads
    if args.threshold is not None and args.threshold < 0.5:
        # --threshold was a distance here before; a script's old 0.42 would now say "same" to nearly anyone.
        print(f"facerec verify: note: --threshold {args.threshold:g} is the least chance of one person that "
              f"answers 'same' (under an even chance); a distance is --max-distance", file=sys.stderr)
    r = Recognizer.for_model(args.model).verify(args.a, args.b, threshold=args.threshold,
                                               max_distance=args.max_distance)
    if args.json:
        print(json.dumps({"a": args.a, "b": args.b, **r.as_dict()}))
        return 0
    print(f"same:         {'yes' if r.same else 'no'}")
    print(f"probability:  {r.probability:.4f} (the chance this answer is right)")
    print(f"distance:     {r.distance:.4f}")
    if r.threshold is not None:
        print(f"threshold:    {r.threshold:g} (the least chance of one person that answers 'same')")
    else:
        print(f"max distance: {r.max_distance:.4f}")
    for path, masked, soft in ((args.a, r.masked_a, r.soft_a), (args.b, r.masked_b, r.soft_b)):
        if masked:
            print(f"masked:       {path} (the faces compared as masked faces)")
        elif soft:
            print(f"soft:         {path} (too blurred to enrol: compared as a soft face)")
        if masked and soft:
            print(f"soft:         {path} (too blurred to enrol; compared as masked, which comes first)")
    for path, n in ((args.a, r.faces_a), (args.b, r.faces_b)):
        if n > 1:
            print(f"note: {path} holds {n} faces; the central one was compared")
    return 0


def cmd_compare(args) -> int:
    from ..recognizer import Recognizer

    distances, found = Recognizer.for_model(args.model).compare(args.photos)
    missing = [(p, f) for p, f in zip(args.photos, found) if not isinstance(f, tuple)]
    if args.json:
        print(json.dumps({"photos": args.photos, "distances": [[None if math.isnan(v) else round(float(v), 4)
                                                                for v in row] for row in distances],
                          "errors": {p: str(e) for p, e in missing}}))
    else:
        print("Images:")
        for i, path in enumerate(args.photos):
            print(f"{i}: {path}")
        print("\nDistance matrix")
        print("    " + "".join(f"{i:>9}" for i in range(len(args.photos))))
        for i, row in enumerate(distances):
            print(f"{i:>4}" + "".join("        -" if math.isnan(v) else f"{v:9.4f}" for v in row))
        for path, exc in missing:
            print(f"left out: {exc}")
    return 1 if len(missing) == len(args.photos) else 0


def add_commands(sub, command) -> None:
    v = command(sub, "verify", "are two photos of the same person?")
    v.add_argument("a", help="first photo")
    v.add_argument("b", help="second photo")
    v.add_argument("--model", default="default", help="'default' or a model path")
    v.add_argument("--threshold", type=CHANCE, metavar="P",
                   help="answer 'same' only when the chance of one person is at least P (as everywhere)")
    v.add_argument("--max-distance", type=DISTANCE, metavar="D",
                   help="answer 'same' at or under this distance (default: the model's measured same-person "
                        "distance)")
    v.add_argument("--json", action="store_true", help="print one JSON object")
    v.set_defaults(func=cmd_verify)

    c = command(sub, "compare", "the distances between the faces of several photos (FaceNet's compare.py)")
    c.add_argument("photos", nargs="+", metavar="PHOTO", help="photos of one person each (the central face)")
    c.add_argument("--model", default="default", help="'default' or a model path")
    c.add_argument("--json", action="store_true", help="print one JSON object")
    c.set_defaults(func=cmd_compare)
