"""Options several commands share, worded once, and the argparse types that check every number
before any work."""
from __future__ import annotations

import argparse
import math

THRESHOLD_HELP = ("name a face only when the chance that the name is right is at least P (0-1); every "
                  "answer's probability is that chance, for a name or Unknown, assuming half the faces "
                  "shown are strangers (default: the lowest P that keeps strangers named to the "
                  "false-accept target, 1%%, for the people and photos enrolled)")


def add_threshold(parser, default_note: str = "") -> None:
    """--threshold P, the same probability floor for identify, CLASSIFY, the real-time tool and serve."""
    parser.add_argument("--threshold", type=CHANCE, default=None, metavar="P", help=THRESHOLD_HELP + default_note)


class Parser(argparse.ArgumentParser):
    """argparse's parser, whose errors are one line (``prog: error: ...``) and exit 2, as every
    other refusal of the tool is one line: the usage it would print first is in --help.

    Every long option is taken spelled with '-' or '_' between its words (FaceNet's scripts write
    --image_size, facerec's commands --batch-size; both work everywhere); --help shows the one
    each command declares."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")

    def parse_known_args(self, args=None, namespace=None):
        import sys

        args = list(sys.argv[1:] if args is None else args)
        return super().parse_known_args(self._declared_spelling(args), namespace)

    def _declared_spelling(self, args: list) -> list:
        """args with each long option written the way this parser declares it; what comes after
        '--' is left alone."""
        declared = {s.replace("_", "-"): s for a in self._actions for s in a.option_strings if s.startswith("--")}
        out, rest = [], False
        for arg in args:
            if rest or not arg.startswith("--") or arg == "--":
                rest = rest or arg == "--"
                out.append(arg)
                continue
            name, eq, value = arg.partition("=")
            known = declared.get(name.replace("_", "-"))
            out.append(known + eq + value if known and name not in declared.values() else arg)
        return out


def whole(minimum: int = 1, maximum: int | None = None):
    """An argparse type: a whole number from minimum (to maximum)."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None
        if value < minimum or (maximum is not None and value > maximum):
            top = f" and at most {maximum}" if maximum is not None else ""
            raise argparse.ArgumentTypeError(f"{value} must be at least {minimum}{top}")
        return value

    return parse


def number(low: float = 0.0, high: float = math.inf, low_open: bool = True, high_open: bool = False):
    """An argparse type: a finite number between low and high (bounds excluded where open)."""
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"'{text}' is not a number") from None
        inside = (value > low if low_open else value >= low) and (value < high if high_open else value <= high)
        if not math.isfinite(value) or not inside:
            lower = f"over {low:g}" if low_open else f"from {low:g}"
            upper = "" if math.isinf(high) else f" and under {high:g}" if high_open else \
                f", up to {high:g}" if low_open else f" to {high:g}"
            raise argparse.ArgumentTypeError(f"{text} must be a number {lower}{upper}")
        return value

    return parse


POSITIVE = number()                                  # seconds, megabytes, megapixels
CHANCE = number(0, 1, low_open=False)                # a probability, 0 and 1 included
SHARE = number(0, 1, high_open=True)                 # a rate strictly between 0 and 1
DISTANCE = number(0, 2, low_open=False)              # between unit embeddings
